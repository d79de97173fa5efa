"""Reviewers keep their own profile; coordinators see and correct their country's reviewers."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from nominations.models import Nomination
from reviewers.models import Expertise, ProfileChange, Review, Unavailability, expertise_set
from reviewers.selectors import _matching_rows, _matching_sql, matching_inputs
from reviewers.services import profile_update, reviews_assign

from ..factories import NominationFactory, ReviewerFactory, ThemeFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

OWN = reverse("reviewers:profile")
LIST = reverse("reviewers:country")


def edit_url(user):
    return reverse("reviewers:profile_edit", args=[user.reviewer_profile.pk])


@pytest.fixture
def french(countries, theme):
    return ReviewerFactory(
        username="french",
        first_name="Amélie",
        last_name="Bernard",
        reviewer_profile__country=countries["FR"],
        reviewer_profile__expertise=[theme],
        reviewer_profile__languages=["en", "fr"],
    )


@pytest.fixture
def latvian(countries, theme):
    return ReviewerFactory(
        username="latvian",
        first_name="Jānis",
        last_name="Ozols",
        reviewer_profile__country=countries["LV"],
        reviewer_profile__expertise=[theme],
    )


@pytest.fixture
def french_coordinator(countries):
    user = UserFactory(username="coordinator-fr")
    countries["FR"].coordinators.add(user)
    return user


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", is_staff=True)


def form_data(profile, **changes):
    """The profile form as the page would post it unchanged, with ``changes`` on top."""
    levels = {e.theme_id: e.level for e in profile.expertise_levels.all()}
    periods = list(profile.unavailable_periods.all())
    data = {
        "organisation": profile.organisation,
        "languages": [c for c in profile.languages if c in {"en", "sv", "fr", "es", "lv"}],
        "other_languages": "",
        "capacity": profile.capacity,
        "is_active": "on" if profile.is_active else "",
        "away-TOTAL_FORMS": len(periods) + 1,
        "away-INITIAL_FORMS": len(periods),
        "away-MIN_NUM_FORMS": 0,
        "away-MAX_NUM_FORMS": 1000,
    }
    for theme_id, level in levels.items():
        data[f"theme_{theme_id}"] = str(level)
    for index, period in enumerate(periods):
        data[f"away-{index}-id"] = period.pk
        data[f"away-{index}-profile"] = profile.pk
        data[f"away-{index}-starts_on"] = period.starts_on.isoformat()
        data[f"away-{index}-ends_on"] = period.ends_on.isoformat()
        data[f"away-{index}-note"] = period.note
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def open_review(reviewer, call, country, theme):
    nomination = NominationFactory(
        call=call, country=country, themes=[theme], stage=Nomination.Stage.REVIEW
    )
    return Review.objects.create(nomination=nomination, reviewer=reviewer)


# --- who may see what ------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["own", "edit", "list"])
def test_anonymous_people_are_sent_to_sign_in(client, french, url):
    target = {"own": OWN, "edit": edit_url(french), "list": LIST}[url]

    response = client.get(target)

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_someone_without_a_reviewer_profile_is_told_so(client, nominator, french):
    client.force_login(nominator)

    own = client.get(OWN)

    assert own.status_code == 404
    assert "You are not a reviewer in Nomflow" in own.content.decode()
    assert client.get(edit_url(french)).status_code == 404
    assert client.get(LIST).status_code == 403


def test_a_reviewer_sees_only_their_own_profile(client, french, latvian):
    client.force_login(french)

    assert client.get(OWN).context["profile"] == french.reviewer_profile
    assert client.get(edit_url(french)).status_code == 200
    assert client.get(edit_url(latvian)).status_code == 404
    assert client.post(edit_url(latvian), form_data(latvian.reviewer_profile)).status_code == 404
    assert client.get(LIST).status_code == 403


def test_a_coordinator_sees_and_opens_their_countrys_reviewers_only(
    client, french, latvian, french_coordinator
):
    client.force_login(french_coordinator)

    listed = client.get(LIST)

    assert [p.user for p in listed.context["page"]] == [french]
    assert client.get(edit_url(french)).status_code == 200
    assert client.get(edit_url(latvian)).status_code == 404
    post = client.post(edit_url(latvian), form_data(latvian.reviewer_profile, organisation="X"))
    assert post.status_code == 404
    latvian.reviewer_profile.refresh_from_db()
    assert latvian.reviewer_profile.organisation != "X"


def test_a_coordinator_of_another_country_is_refused(client, french, coordinator):
    client.force_login(coordinator)  # Sweden's

    assert client.get(edit_url(french)).status_code == 404
    assert list(client.get(LIST).context["page"]) == []


def test_a_lead_has_no_access_unless_also_a_coordinator(client, french, lead, countries):
    client.force_login(lead)
    assert client.get(LIST).status_code == 403
    assert client.get(edit_url(french)).status_code == 404
    assert client.get(OWN).status_code == 404

    countries["FR"].coordinators.add(lead)

    assert client.get(edit_url(french)).status_code == 200
    assert [p.user for p in client.get(LIST).context["page"]] == [french]


def test_an_admin_sees_every_country_and_filters_by_one(client, admin, french, latvian):
    client.force_login(admin)

    assert {p.user for p in client.get(LIST).context["page"]} == {french, latvian}
    assert [p.user for p in client.get(LIST, {"country": "LV"}).context["page"]] == [latvian]
    assert client.get(edit_url(latvian)).status_code == 200


def test_the_navigation_links_reviewers_and_coordinators_to_their_pages(
    client, french, french_coordinator
):
    client.force_login(french)
    html = client.get(OWN).content.decode()
    assert f'href="{OWN}"' in html and f'href="{LIST}"' not in html

    client.force_login(french_coordinator)
    html = client.get(LIST).content.decode()
    assert f'href="{LIST}"' in html and f'href="{OWN}"' not in html


# --- the reviewer keeps their profile --------------------------------------------------------


def test_a_reviewer_saves_levels_languages_capacity_and_an_absence(client, french, theme):
    other = ThemeFactory(name="Social exclusion")
    profile = french.reviewer_profile
    client.force_login(french)

    response = client.post(
        OWN,
        form_data(
            profile,
            organisation="Fondation Lien",
            languages=["fr", "es"],
            other_languages="de, IT",
            capacity=2,
            is_active="",
            **{
                f"theme_{theme.pk}": "3",
                f"theme_{other.pk}": "1",
                "away-0-starts_on": "2027-01-04",
                "away-0-ends_on": "2027-01-08",
                "away-0-note": "Fieldwork",
            },
        ),
    )

    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.organisation, profile.languages, profile.capacity, profile.is_active) == (
        "Fondation Lien",
        ["fr", "es", "de", "it"],
        2,
        False,
    )
    assert dict(profile.expertise_levels.values_list("theme__name", "level")) == {
        "Spatial segregation": 3,
        "Social exclusion": 1,
    }
    assert list(profile.unavailable_periods.values_list("starts_on", "ends_on", "note")) == [
        (date(2027, 1, 4), date(2027, 1, 8), "Fieldwork")
    ]
    (change,) = ProfileChange.objects.all()
    assert change.changed_by == french
    assert {item["field"] for item in change.changes} == {
        "organisation",
        "languages",
        "capacity",
        "is_active",
        "expertise",
        "unavailable",
    }
    page = client.get(OWN).content.decode()
    assert "Spatial segregation: Experienced → Expert" in page
    assert "Social exclusion: — → Some knowledge" in page


def test_a_theme_set_to_none_is_no_longer_expertise_and_a_period_can_be_removed(
    client, french, theme
):
    profile = french.reviewer_profile
    period = Unavailability.objects.create(
        profile=profile, starts_on=date(2027, 2, 1), ends_on=date(2027, 2, 3)
    )
    client.force_login(french)

    client.post(OWN, form_data(profile, **{f"theme_{theme.pk}": "", "away-0-DELETE": "on"}))

    assert not Expertise.objects.filter(profile=profile).exists()
    assert not Unavailability.objects.filter(pk=period.pk).exists()


def test_an_absence_ending_before_it_starts_is_refused_and_the_form_keeps_what_was_typed(
    client, french
):
    profile = french.reviewer_profile
    client.force_login(french)

    response = client.post(
        OWN,
        form_data(
            profile,
            organisation="Typed organisation",
            **{"away-0-starts_on": "2027-03-10", "away-0-ends_on": "2027-03-01"},
        ),
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "The last day cannot be before the first." in html
    assert 'value="Typed organisation"' in html and 'value="2027-03-10"' in html
    profile.refresh_from_db()
    assert profile.organisation != "Typed organisation"
    assert not Unavailability.objects.exists() and not ProfileChange.objects.exists()


def test_no_language_or_a_wrong_code_is_refused(client, french):
    profile = french.reviewer_profile
    client.force_login(french)

    none = client.post(OWN, form_data(profile, languages=[]))
    wrong = client.post(OWN, form_data(profile, other_languages="german"))

    assert none.context["form"].errors["languages"] == ["Choose at least one language you read."]
    assert "is not a language code" in wrong.context["form"].errors["other_languages"][0]
    profile.refresh_from_db()
    assert profile.languages == ["en", "fr"]


def test_an_independent_reviewer_leaves_the_organisation_empty(client, french):
    client.force_login(french)

    response = client.post(OWN, form_data(french.reviewer_profile, organisation="  "))

    assert response.status_code == 302
    french.reviewer_profile.refresh_from_db()
    assert french.reviewer_profile.organisation == ""


def test_a_reviewer_cannot_change_their_own_country(client, french, countries):
    client.force_login(french)

    page = client.get(OWN)
    client.post(OWN, form_data(french.reviewer_profile, country=countries["ES"].pk))

    assert "country" not in page.context["form"].fields
    french.reviewer_profile.refresh_from_db()
    assert french.reviewer_profile.country == countries["FR"]


def test_saving_an_unchanged_profile_logs_nothing(client, french):
    client.force_login(french)

    client.post(OWN, form_data(french.reviewer_profile))

    assert not ProfileChange.objects.exists()


# --- changes after assignment ----------------------------------------------------------------


def test_profile_changes_never_touch_existing_reviews(client, call, countries, theme, french):
    reviews = [open_review(french, call, countries[code], theme) for code in ("SE", "ES")]
    before = list(Review.objects.order_by("pk").values())
    client.force_login(french)

    client.post(
        OWN,
        form_data(
            french.reviewer_profile,
            languages=["sv"],
            capacity=1,
            is_active="",
            **{
                f"theme_{theme.pk}": "",
                "away-0-starts_on": "2026-01-01",
                "away-0-ends_on": "2030-01-01",
            },
        ),
    )

    assert list(Review.objects.order_by("pk").values()) == before
    assert len(reviews) == 2


def test_a_capacity_below_the_open_load_is_allowed_and_the_page_says_so(
    client, call, countries, theme, french
):
    for code in ("SE", "ES"):
        open_review(french, call, countries[code], theme)
    client.force_login(french)

    response = client.post(OWN, form_data(french.reviewer_profile, capacity=1), follow=True)

    french.reviewer_profile.refresh_from_db()
    assert french.reviewer_profile.capacity == 1
    note = (
        f"You have 2 open reviews in “{call.title}”; new ones will wait until you are "
        "below 1. Reviews you hold are not moved."
    )
    assert [str(m) for m in response.context["messages"]][-1] == note
    assert response.context["capacity_notes"] == [note]


def test_a_coordinator_moves_a_reviewer_to_another_country(
    client, french, french_coordinator, countries
):
    client.force_login(french_coordinator)

    client.post(edit_url(french), form_data(french.reviewer_profile, country=countries["ES"].pk))

    french.reviewer_profile.refresh_from_db()
    assert french.reviewer_profile.country == countries["ES"]
    (change,) = ProfileChange.objects.all()
    assert change.changed_by == french_coordinator
    assert change.changes == [{"field": "country", "old": "FR", "new": "ES"}]


def test_a_move_into_the_country_of_a_nomination_under_review_is_refused(
    client, call, french, french_coordinator, countries, theme
):
    review = open_review(french, call, countries["ES"], theme)
    client.force_login(french_coordinator)

    response = client.post(
        edit_url(french),
        form_data(french.reviewer_profile, country=countries["ES"].pk, organisation="Typed"),
    )

    assert response.status_code == 200
    (error,) = response.context["form"].errors["country"]
    assert error.startswith("The reviewer cannot move to")
    assert review.nomination.title in error
    french.reviewer_profile.refresh_from_db()
    assert french.reviewer_profile.country == countries["FR"]
    assert french.reviewer_profile.organisation != "Typed"
    assert 'value="Typed"' in response.content.decode()


def test_the_service_refuses_a_reviewer_moving_themself(french, countries):
    profile = french.reviewer_profile

    with pytest.raises(PermissionDenied):
        profile_update(
            profile=profile,
            by=french,
            organisation=profile.organisation,
            languages=profile.languages,
            capacity=profile.capacity,
            is_active=True,
            expertise={},
            unavailable=[],
            country=countries["ES"],
        )

    profile.refresh_from_db()
    assert profile.country == countries["FR"]
    assert not ProfileChange.objects.exists()


# --- the country list ------------------------------------------------------------------------


def test_the_list_shows_each_reviewers_details(
    client, admin, call, countries, theme, french, latvian
):
    open_review(french, call, countries["SE"], theme)
    Unavailability.objects.create(
        profile=french.reviewer_profile, starts_on=date(2099, 1, 1), ends_on=date(2099, 1, 9)
    )
    client.force_login(admin)

    page = client.get(LIST, {"country": "FR"})

    (row,) = page.context["page"]
    assert row.open_reviews == 1
    html = page.content.decode()
    for text in ("Bernard", "en, fr", "Spatial segregation (2)", "2099-01-01 – 2099-01-09"):
        assert text in html


def test_the_list_is_paginated_by_25_and_sorted_by_name(client, admin, countries):
    for number in range(26):
        ReviewerFactory(
            username=f"reviewer{number:02}",
            last_name=f"Name {number:02}",
            reviewer_profile__country=countries["LV"],
        )
    client.force_login(admin)

    first = client.get(LIST)
    second = client.get(LIST, {"page": 2})
    backwards = client.get(LIST, {"sort": "-name"})

    assert [p.user.last_name for p in first.context["page"]] == [f"Name {n:02}" for n in range(25)]
    assert [p.user.last_name for p in second.context["page"]] == ["Name 25"]
    assert backwards.context["page"][0].user.last_name == "Name 25"


def test_the_list_costs_the_same_queries_however_many_reviewers(client, admin, countries, theme):
    def reviewer(code):
        user = ReviewerFactory(reviewer_profile__country=countries[code])
        expertise_set(user.reviewer_profile, [theme], level=3)
        Unavailability.objects.create(
            profile=user.reviewer_profile, starts_on=date(2099, 1, 1), ends_on=date(2099, 1, 2)
        )

    reviewer("FR")
    client.force_login(admin)
    client.get(LIST)  # the session and the navigation's first reads
    with CaptureQueriesContext(connection) as one:
        client.get(LIST)
    for code in ("LV", "ES", "SE"):
        reviewer(code)
    with CaptureQueriesContext(connection) as four:
        response = client.get(LIST)

    assert len(response.context["page"]) == 4
    assert len(four) == len(one)


def test_the_profile_page_costs_the_same_queries_however_much_it_shows(
    client, call, countries, theme, french
):
    profile = french.reviewer_profile
    client.force_login(french)

    def grow():
        other = ThemeFactory()
        Expertise.objects.create(profile=profile, theme=other, level=1)
        Unavailability.objects.create(
            profile=profile, starts_on=date(2099, 1, 1), ends_on=date(2099, 1, 2)
        )
        ProfileChange.objects.create(profile=profile, changed_by=french, changes=[])
        open_review(french, call, countries["SE"], theme)

    grow()
    client.get(OWN)
    with CaptureQueriesContext(connection) as one:
        client.get(OWN)
    grow()
    grow()
    with CaptureQueriesContext(connection) as three:
        response = client.get(OWN)

    assert len(response.context["changes"]) == 3
    assert len(three) == len(one)


# --- the matcher reads the levels ------------------------------------------------------------


def test_the_matcher_prefers_the_reviewer_with_the_higher_level(call, countries, theme, draft):
    call.reviewers_per_nomination = 1
    call.save()
    some = ReviewerFactory(reviewer_profile__country=countries["FR"])
    expert = ReviewerFactory(reviewer_profile__country=countries["LV"])
    expertise_set(some.reviewer_profile, [theme], level=Expertise.Level.SOME)
    expertise_set(expert.reviewer_profile, [theme], level=Expertise.Level.EXPERT)
    draft.stage = Nomination.Stage.REVIEW
    draft.save()

    reviews_assign(nomination=draft)

    assert list(Review.objects.values_list("reviewer", flat=True)) == [expert.pk]


def test_the_matchers_inputs_carry_the_levels(call, countries, theme, draft):
    other = ThemeFactory(name="Social exclusion")
    user = ReviewerFactory(reviewer_profile__country=countries["FR"])
    expertise_set(user.reviewer_profile, [theme], level=3)
    Expertise.objects.create(profile=user.reviewer_profile, theme=other, level=1)

    _needs, (candidate,), _bids = matching_inputs(call=call, nominations=[draft])

    assert candidate.expertise == {theme.pk: 3, other.pk: 1}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one statement is PostgreSQL's")
def test_the_one_statement_and_the_orm_read_give_the_same_rows(call, countries, theme, draft):
    other = ThemeFactory(name="Social exclusion")
    for code, levels in (("FR", {theme: 3, other: 1}), ("LV", {other: 2}), ("ES", {})):
        user = ReviewerFactory(reviewer_profile__country=countries[code])
        for each, level in levels.items():
            Expertise.objects.create(profile=user.reviewer_profile, theme=each, level=level)
    today = date(2026, 12, 1)
    period_end = date(2026, 12, 31)
    with connection.cursor() as cursor:
        cursor.execute(
            _matching_sql(),
            {
                "open": list(Review.OPEN_STATUSES),
                "call": call.pk,
                "period_end": period_end,
                "today": today,
                "nominations": [draft.pk],
                "bidding": False,
            },
        )
        sql_rows = cursor.fetchone()

    orm_rows = _matching_rows(
        call=call, nomination_ids=[draft.pk], today=today, period_end=period_end
    )

    assert [[list(row) for row in rows] for rows in orm_rows] == [
        [list(row) for row in rows] for rows in sql_rows
    ]
    assert [row[8] for row in sql_rows[0]] == [
        [[theme.pk, 3], [other.pk, 1]],
        [[other.pk, 2]],
        [],
    ]
