"""The reviewer pool at a glance: its figures against a count from the rows, its gaps as
sentences, who may open it, and a number of queries that does not grow with the pool."""

from collections import Counter
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from nominations.models import Invitation, Nomination
from reviewers.models import Review, ReviewerProfile, Unavailability
from reviewers.selectors import BLOCKS, THIN, WEAKENS, pool_summary

from ..factories import (
    CallFactory,
    NominationFactory,
    ReviewerFactory,
    ThemeFactory,
    UserFactory,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

TO_REVIEW = {"screening", "changes_requested", "review"}
HELD = {"assigned", "draft", "submitted"}
OPEN = {"assigned", "draft"}


def reviewer(name, country, *, languages=("en",), themes=(), capacity=4, active=True):
    user = ReviewerFactory(
        username=name,
        mfa=False,
        reviewer_profile__country=country,
        reviewer_profile__languages=list(languages),
        reviewer_profile__expertise=list(themes),
        reviewer_profile__capacity=capacity,
    )
    if not active:
        ReviewerProfile.objects.filter(user=user).update(is_active=False)
    return user


def nominate(call, country, *, stage="screening", language="en", themes=(), summary=""):
    return NominationFactory(
        call=call,
        country=country,
        stage=stage,
        language=language,
        english_summary=summary,
        themes=list(themes),
    )


@pytest.fixture
def world(call, countries):
    """A mixed pool and a mixed call, with reviews held and a reviewer away."""
    energy = ThemeFactory(name="Energy poverty")
    segregation = ThemeFactory(name="Spatial segregation")
    call.themes.add(energy)
    es, fr, lv, se = (countries[code] for code in ["ES", "FR", "LV", "SE"])
    people = {
        "ana": reviewer("ana", es, languages=["es", "en"], themes=[energy], capacity=3),
        "luc": reviewer("luc", fr, languages=["fr", "en"], themes=[energy, segregation]),
        "ilze": reviewer("ilze", lv, languages=["lv", "en"], capacity=2),
        "sven": reviewer("sven", se, languages=["sv", "en", "lv"], themes=[segregation]),
        "idle": reviewer("idle", fr, languages=["fr", "lv"], themes=[energy], active=False),
        "away": reviewer("away", es, languages=["es", "fr"], capacity=5),
    }
    Unavailability.objects.create(
        profile=people["away"].reviewer_profile,
        starts_on=timezone.localdate() + timedelta(days=3),
        ends_on=timezone.localdate() + timedelta(days=10),
    )
    # Away, but only after any review period starting today has ended: still counts.
    Unavailability.objects.create(
        profile=people["sven"].reviewer_profile,
        starts_on=timezone.localdate() + timedelta(days=call.review_days + 5),
        ends_on=timezone.localdate() + timedelta(days=call.review_days + 9),
    )
    nominations = [
        nominate(call, lv, language="lv", themes=[energy], summary="In English."),
        nominate(call, lv, language="lv", themes=[energy, segregation], stage="review"),
        nominate(call, es, language="es", themes=[segregation], summary="In English."),
        nominate(call, es, language="en", themes=[energy], stage="changes_requested"),
        nominate(call, se, language="sv", themes=[segregation], stage="review", summary="E."),
        nominate(call, fr, language="fr", themes=[energy], stage="selection", summary="E."),
        nominate(call, fr, language="fr", themes=[energy], stage="rejected", summary="E."),
        nominate(call, fr, language="fr", themes=[energy], stage="draft"),
        nominate(call, se, language="", themes=[]),
    ]
    in_review, swedish = nominations[1], nominations[4]
    Review.objects.create(nomination=in_review, reviewer=people["luc"], status="assigned")
    Review.objects.create(nomination=in_review, reviewer=people["sven"], status="declined")
    Review.objects.create(nomination=swedish, reviewer=people["ana"], status="submitted")
    Review.objects.create(nomination=swedish, reviewer=people["luc"], status="draft")
    # Another call's open review takes no place in this call.
    other = NominationFactory(call=CallFactory(), country=lv, stage="review")
    Review.objects.create(nomination=other, reviewer=people["ana"], status="assigned")
    return people


def expected_places(call):
    """{profile id: (open reviews in the call, free places, away)}, counted row by row."""
    today = timezone.localdate()
    period_end = today + timedelta(days=call.review_days)
    reviews = list(Review.objects.select_related("nomination"))
    places = {}
    for profile in ReviewerProfile.objects.all():
        away = any(
            v.starts_on <= period_end and v.ends_on >= today
            for v in Unavailability.objects.filter(profile=profile)
        )
        load = sum(
            1
            for r in reviews
            if r.reviewer_id == profile.user_id
            and r.status in OPEN
            and r.nomination.call_id == call.pk
        )
        places[profile.pk] = (load, 0 if away else max(profile.capacity - load, 0), away)
    return places


def expected_countries(call):
    """The per-country figures counted object by object, without the selector."""
    profiles = list(ReviewerProfile.objects.all())
    nominations = list(Nomination.objects.filter(call=call))
    reviews = list(Review.objects.all())
    places = expected_places(call)

    free = {}
    figures = {}
    for profile in profiles:
        if not profile.is_active:
            continue
        row = figures.setdefault(profile.country.name, Counter())
        row["reviewers"] += 1
        load, free_places, away = places[profile.pk]
        row["away"] += away
        row["capacity"] += profile.capacity
        row["load"] += load
        row["free"] += free_places
        free[profile.country.name] = free.get(profile.country.name, 0) + free_places
    for nomination in nominations:
        if nomination.stage == "draft":
            continue
        row = figures.setdefault(nomination.country.name, Counter())
        row["received"] += 1
        if nomination.stage in TO_REVIEW:
            held = sum(1 for r in reviews if r.nomination_id == nomination.pk and r.status in HELD)
            row["to_review"] += 1
            row["held"] += held
            row["needed"] += max(call.reviewers_per_nomination - held, 0)
    total = sum(free.values())
    for name, row in figures.items():
        row["free_elsewhere"] = total - free.get(name, 0)
    return {name: dict(row) for name, row in figures.items()}


FIELDS = (
    "reviewers",
    "away",
    "capacity",
    "load",
    "free",
    "received",
    "to_review",
    "held",
    "needed",
    "free_elsewhere",
)


def test_country_figures_match_a_count_from_the_rows(call, world):
    summary = pool_summary(call=call)

    found = {c.name: {f: getattr(c, f) for f in FIELDS if getattr(c, f)} for c in summary.countries}
    assert found == {
        name: {f: v for f, v in row.items() if v} for name, row in expected_countries(call).items()
    }
    assert [c.name for c in summary.countries] == ["France", "Latvia", "Spain", "Sweden"]


def test_the_known_figures_of_the_world(call, world, countries):
    """A few figures spelled out, so a shared mistake in both counts cannot hide."""
    by_name = {c.name: c for c in pool_summary(call=call).countries}

    # Spain: ana (3, one open review elsewhere: none here) and away (5, away): 3 free.
    assert (by_name["Spain"].reviewers, by_name["Spain"].away, by_name["Spain"].free) == (2, 1, 3)
    # France: luc holds two open reviews of four; idle is inactive and not counted.
    assert (by_name["France"].reviewers, by_name["France"].free) == (1, 2)
    # Latvia: two to review; the one in review holds one (the declined one is not held).
    assert (by_name["Latvia"].to_review, by_name["Latvia"].needed) == (2, 3)
    # France: one in selection (no longer reviewed), one rejected, one draft.
    assert (by_name["France"].received, by_name["France"].to_review) == (2, 0)


def test_languages_count_readers_from_other_countries_only(call, world):
    summary = pool_summary(call=call)
    profiles = [p for p in ReviewerProfile.objects.all() if p.is_active]
    nominations = list(Nomination.objects.filter(call=call, stage__in=TO_REVIEW))
    expected = {}
    for nomination in nominations:
        code = nomination.language or "en"
        key = (code, nomination.country.name)
        count, with_summary, _readers, _english = expected.get(key, (0, 0, 0, 0))
        expected[key] = (
            count + 1,
            with_summary + bool(nomination.english_summary),
            sum(
                1 for p in profiles if p.country_id != nomination.country_id and code in p.languages
            ),
            sum(
                1 for p in profiles if p.country_id != nomination.country_id and "en" in p.languages
            ),
        )

    found = {
        (line.code, line.country_name): (
            line.nominations,
            line.with_english_summary,
            line.readers_elsewhere,
            line.english_readers_elsewhere,
        )
        for line in summary.languages
    }
    assert found == expected
    # Latvian from Latvia: sven reads it in Sweden; idle reads it too, but is inactive.
    assert found[("lv", "Latvia")] == (2, 1, 1, 3)


def test_themes_count_each_nomination_under_each_of_its_themes(call, world):
    summary = pool_summary(call=call)
    profiles = [p for p in ReviewerProfile.objects.all() if p.is_active]
    nominations = list(Nomination.objects.filter(call=call, stage__in=TO_REVIEW))

    places = expected_places(call)

    found = {
        theme.name: (theme.nominations, theme.experts, theme.expert_free)
        for theme in summary.themes
    }

    expected = {}
    for theme in {t for n in nominations for t in n.themes.all()} | set(call.themes.all()):
        experts = [p for p in profiles if theme in p.expertise.all()]
        expected[theme.name] = (
            sum(1 for n in nominations if theme in n.themes.all()),
            len(experts),
            sum(places[p.pk][1] for p in experts),
        )
    assert found == expected
    # ana (3 free) and luc (4 less 2 open); idle is an expert too, but inactive.
    assert found["Energy poverty"] == (3, 2, 5)


def test_no_gap_when_the_pool_is_ample(call, countries):
    for code in ["ES", "FR"]:
        reviewer(f"r-{code}", countries[code], languages=["en", "lv"], themes=call.themes.all())
    nominate(call, countries["LV"], language="lv", themes=call.themes.all(), summary="E.")

    assert pool_summary(call=call).gaps == []


def test_a_language_nobody_reads_outside_its_country(call, countries):
    latvia = countries["LV"]
    reviewer("ilze", latvia, languages=["lv", "en"], capacity=20)
    reviewer("sven", countries["SE"], languages=["sv"], themes=call.themes.all(), capacity=20)
    for _ in range(9):
        nominate(call, latvia, language="lv", themes=call.themes.all())

    gaps = pool_summary(call=call).gaps

    assert [(gap.severity, gap.text) for gap in gaps] == [
        (BLOCKS, "No reviewer reads Latvian outside Latvia (9 nominations in Latvian).")
    ]


def test_an_english_summary_softens_a_language_gap(call, countries):
    latvia = countries["LV"]
    reviewer("sven", countries["SE"], languages=["en"], themes=call.themes.all(), capacity=20)
    nominate(call, latvia, language="lv", themes=call.themes.all(), summary="In English.")

    gaps = pool_summary(call=call).gaps

    assert [(gap.severity, gap.text) for gap in gaps] == [
        (
            WEAKENS,
            "No reviewer reads Latvian outside Latvia: 1 nomination in Latvian will be "
            "reviewed from its English summary.",
        )
    ]


def test_a_theme_with_few_experts(call, countries):
    energy = ThemeFactory(name="Energy poverty")
    reviewer("a", countries["FR"], themes=[energy], capacity=4)
    reviewer("b", countries["ES"], themes=[energy], capacity=4)
    reviewer("c", countries["LV"], capacity=30)
    for _ in range(14):
        nominate(call, countries["SE"], themes=[energy])

    gaps = pool_summary(call=call).gaps

    assert [(gap.severity, gap.text) for gap in gaps] == [
        (THIN, "Energy poverty has 2 experts for 14 nominations.")
    ]


def test_a_theme_with_one_expert_speaks_in_the_singular(call, countries):
    energy = ThemeFactory(name="Energy poverty")
    reviewer("a", countries["FR"], themes=[energy], capacity=0)
    reviewer("c", countries["LV"], capacity=30)
    nominate(call, countries["SE"], themes=[energy])

    assert [gap.text for gap in pool_summary(call=call).gaps] == [
        "Energy poverty has 1 expert for 1 nomination."
    ]


def test_a_country_whose_nominations_need_more_than_the_others_can_give(call, countries):
    spain = countries["ES"]
    reviewer("es-1", spain, themes=call.themes.all(), capacity=20)
    for code, capacity in [("FR", 10), ("LV", 10), ("SE", 10)]:
        reviewer(f"r-{code}", countries[code], themes=call.themes.all(), capacity=capacity)
    for _ in range(21):
        nominate(call, spain, themes=call.themes.all())

    gaps = pool_summary(call=call).gaps

    assert [(gap.severity, gap.text) for gap in gaps] == [
        (
            BLOCKS,
            "Spain's nominations need 42 reviews; reviewers outside Spain have 30 free places.",
        )
    ]


def test_gaps_are_ranked_by_severity_then_size(call, countries):
    energy = ThemeFactory(name="Energy poverty")
    reviewer("sven", countries["SE"], languages=["en"], capacity=3)
    for _ in range(2):
        nominate(call, countries["LV"], language="lv", themes=[energy])
    nominate(call, countries["ES"], language="es", themes=[energy], summary="E.")

    gaps = pool_summary(call=call).gaps

    assert [gap.text for gap in gaps] == [
        "The call's nominations need 6 reviews; the pool has 3 free places.",
        "No reviewer reads Latvian outside Latvia (2 nominations in Latvian).",
        "Latvia's nominations need 4 reviews; reviewers outside Latvia have 3 free places.",
        "No reviewer reads Spanish outside Spain: 1 nomination in Spanish will be reviewed "
        "from its English summary.",
        "Energy poverty has 0 experts for 3 nominations.",
    ]
    assert [gap.severity for gap in gaps] == [BLOCKS, BLOCKS, BLOCKS, WEAKENS, THIN]


def invite(email, *, role="reviewer", country=None, call=None, status="pending", days=7):
    return Invitation.objects.create(
        email=email,
        role=role,
        country=country,
        call=call,
        language="en",
        status=status,
        expires_at=timezone.now() + timedelta(days=days),
        token_hash=email.ljust(64, "0")[:64],
    )


def test_pending_reviewer_invitations_are_counted_beside_the_pool(call, countries, lead):
    es, lv = countries["ES"], countries["LV"]
    invite("a@example.org", country=es)
    invite("b@example.org", country=es, call=call)
    invite("c@example.org", country=es, call=CallFactory())  # a profile serves every call
    invite("d@example.org", country=lv)
    invite("e@example.org", country=lv, days=-1)  # expired, not yet swept
    invite("f@example.org", country=lv, status="accepted")
    invite("g@example.org", country=lv, status="declined")
    invite("h@example.org", role="coordinator", country=lv)
    invite("i@example.org", role="lead", call=call)

    summary = pool_summary(call=call)

    expected = Counter(
        i.country.name
        for i in Invitation.objects.all()
        if i.role == "reviewer" and i.status == "pending" and i.expires_at > timezone.now()
    )
    assert {c.name: c.invited for c in summary.countries if c.invited} == dict(expected)
    assert dict(expected) == {"Spain": 3, "Latvia": 1}
    # Invitees are not reviewers yet: nobody counts in the pool.
    assert (summary.invited, summary.reviewers, summary.free) == (4, 0, 0)


def test_invitations_blocked_by_a_deactivated_account_are_not_counted(call, countries):
    es = countries["ES"]
    invite("open@example.org", country=es)
    invite("gone@example.org", country=es)
    invite("alias@example.org", country=es)
    UserFactory(username="gone", email="Gone@Example.org", is_active=False)
    former = UserFactory(username="former", email="former@example.org", is_active=False)
    EmailAddress.objects.create(user=former, email="alias@example.org", verified=True)

    summary = pool_summary(call=call)

    # The deactivated account's own address (in any case) and its verified second address
    # cannot accept until an administrator reactivates it: they are not on their way.
    assert {c.name: c.invited for c in summary.countries if c.invited} == {"Spain": 1}


# --- who may open it ---------------------------------------------------------------------


def person(role, *, call, countries):
    if role == "nominator":
        return NominationFactory(call=call, country=countries["SE"], stage="screening").nominator
    if role == "reviewer":
        return reviewer("a-reviewer", countries["FR"])
    if role == "coordinator":
        user = UserFactory(username="coordinator-se")
        countries["SE"].coordinators.add(user)
        return user
    if role == "coordinator_elsewhere":
        user = UserFactory(username="coordinator-lv")
        countries["LV"].coordinators.add(user)
        return user
    if role == "lead":
        user = UserFactory(username="the-lead")
        call.leads.add(user)
        return user
    if role == "other_lead":
        user = UserFactory(username="lead-elsewhere")
        CallFactory().leads.add(user)
        return user
    return UserFactory(username="admin", is_staff=True)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("nominator", 404),
        ("reviewer", 404),
        ("other_lead", 404),
        ("coordinator", 200),
        ("coordinator_elsewhere", 200),
        ("lead", 200),
        ("admin", 200),
    ],
)
def test_who_may_open_the_pool(client, call, countries, role, status):
    client.force_login(person(role, call=call, countries=countries))

    assert client.get(reverse("workflow:pool", args=[call.pk])).status_code == status


def test_anonymous_visitors_are_sent_to_sign_in(client, call):
    response = client.get(reverse("workflow:pool", args=[call.pk]))

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_an_unknown_call_is_not_found(client, call, countries):
    client.force_login(person("admin", call=call, countries=countries))

    assert client.get(reverse("workflow:pool", args=[call.pk + 1000])).status_code == 404


def test_coordinators_see_their_country_highlighted_and_no_reviewer_named(
    client, call, countries, world
):
    user = person("coordinator", call=call, countries=countries)
    client.force_login(user)

    page = client.get(reverse("workflow:pool", args=[call.pk]))

    html = page.content.decode()
    assert page.context["own_countries"] == frozenset({countries["SE"].pk})
    # Sweden's row of reviewers and reviews, and its two language rows (Swedish, English).
    assert html.count('<tr class="own">') == 3
    assert "<strong>Sweden</strong>" in html
    for person_ in world.values():
        assert person_.email not in html
        assert person_.get_full_name() not in html
    # Names are on the reviewers' list, which shows a coordinator their own country only.
    assert reverse("reviewers:country") in html
    # Every country's figures are shown: the pool is shared across borders.
    assert [c.name for c in page.context["summary"].countries] == [
        "France",
        "Latvia",
        "Spain",
        "Sweden",
    ]


def test_leads_see_the_gaps_the_tables_and_the_chart_data(client, call, countries, world):
    client.force_login(person("lead", call=call, countries=countries))

    page = client.get(reverse("workflow:pool", args=[call.pk]))

    html = page.content.decode()
    assert '<tr class="own">' not in html
    assert "Invited, not yet answered" in html
    assert reverse("reviewers:country") not in html  # a lead lists no reviewers by name
    assert '<script id="pool-capacity-chart" type="application/json">' in html
    assert 'role="img" aria-label=' in html
    assert [gap["text"] for gap in page.context["gaps"]] == [
        gap.text for gap in pool_summary(call=call).gaps
    ]
    for gap in page.context["gaps"]:
        assert gap["text"].replace("'", "&#x27;") in html


def test_the_dashboard_links_to_the_pool(client, call, countries):
    client.force_login(person("lead", call=call, countries=countries))

    page = client.get(reverse("workflow:dashboard", args=[call.pk]))

    assert reverse("workflow:pool", args=[call.pk]) in page.content.decode()


# --- bounded queries ---------------------------------------------------------------------


def grow_pool(countries, theme, size):
    codes = ["ES", "FR", "LV", "SE"]
    existing = ReviewerProfile.objects.count()
    for index in range(existing, size):
        reviewer(
            f"pool-{index}",
            countries[codes[index % 4]],
            languages=["en", ["es", "fr", "lv", "sv"][index % 4]],
            themes=[theme] if index % 2 else [],
        )


def test_queries_do_not_grow_with_the_pool(client, call, countries, theme):
    energy = ThemeFactory(name="Energy poverty")
    for code, language in [("LV", "lv"), ("ES", "es"), ("SE", "en")]:
        nominate(call, countries[code], language=language, themes=[theme, energy])
    lead = person("lead", call=call, countries=countries)
    countries["SE"].coordinators.add(lead)
    client.force_login(lead)
    url = reverse("workflow:pool", args=[call.pk])

    counts = []
    for size in (10, 60):
        grow_pool(countries, theme, size)
        with CaptureQueriesContext(connection) as selector:
            pool_summary(call=call)
        with CaptureQueriesContext(connection) as page:
            assert client.get(url).status_code == 200
        counts.append((len(selector), len(page)))

    assert ReviewerProfile.objects.count() == 60
    assert counts[0] == counts[1]
    assert counts[0][0] == 7


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_reviewers_loads_are_counted_from_the_open_reviews_index(call, world):
    """With sequential scans priced out (a test table is tiny), each reviewer's load in the
    call comes from the partial index of open reviews, not from every review they gave."""
    with CaptureQueriesContext(connection) as captured:
        pool_summary(call=call)
    loads = [q["sql"] for q in captured if "reviewers_reviewerprofile" in q["sql"]]
    assert loads
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in loads:
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "open_reviews_by_reviewer" in plan, plan
