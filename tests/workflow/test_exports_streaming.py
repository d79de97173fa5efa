"""The CSV export streamed from the database: the same rows as the figures computed by hand
from the scores given, in a constant number of queries however many nominations."""

import csv
import io
import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from nominations.models import SelectionDecision
from reviewers.models import CriterionScore, Review

from ..factories import (
    NominationFactory,
    QuestionFactory,
    ReviewerFactory,
    ThemeFactory,
    UserFactory,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

STAGE_LABELS = {
    "screening": "National screening",
    "review": "Peer review",
    "selection": "Selection",
    "decided": "Decided",
    "rejected": "Not accepted",
    "changes_requested": "Changes requested",
}
OUTCOME_LABELS = {
    "transnational": "Selected for the transnational showcase",
    "national": "Selected for the national showcase",
    "not_selected": "Not selected",
}


def csv_of(client, user, call):
    client.force_login(user)
    response = client.get(reverse("nominations:export", args=[call.pk, "csv"]))
    if response.status_code != 200:
        return response.status_code, None
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    return 200, list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def half_up_2(value):
    """An exact fraction to two decimals, halves up: what the board and the export show.

    Worked out here in decimal arithmetic with ample precision, independently of the
    code's own rounding (``reviewers.selectors.shown``).
    """
    with localcontext() as context:
        context.prec = 50
        decimal = Decimal(value.numerator) / Decimal(value.denominator)
    return decimal.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def fmt(value):
    """A figure as the csv module writes it."""
    return "" if value is None else str(value)


@pytest.fixture
def generated(call, countries, lead):
    """A call of 40 nominations in every submitted stage, two to four reviews each (some
    declined or drafts, some scores left empty), survey answers of each kind, several themes,
    decisions, a reviewer erased; and the facts it was made from, to compute by hand."""
    rng = random.Random(14)
    innovation, impact, transfer = call.criteria.all()
    innovation.weight, impact.weight, transfer.weight = Decimal(3), Decimal("1.5"), Decimal(1)
    for criterion in (innovation, impact, transfer):
        criterion.save()
    criteria = [innovation, impact, transfer]
    yes_no = QuestionFactory(call=call, kind="yes_no", text="Still running?", position=1)
    scale = QuestionFactory(
        call=call, kind="single_choice", text="Scale?", choices="City\nRegion", position=2
    )
    tools = QuestionFactory(
        call=call, kind="multiple_choice", text="Tools?", choices="Maps\nSurveys", position=3
    )
    note = QuestionFactory(call=call, kind="short_text", text="Note?", position=4)
    themes = [
        ThemeFactory(name="Zoning"),
        ThemeFactory(name="Access", is_priority=True),
        ThemeFactory(name="Belonging"),
    ]
    theme_order = ["Access", "Belonging", "Spatial segregation", "Zoning"]  # priority first
    pool = [
        ReviewerFactory(username=f"rev{i}", reviewer_profile__country=countries[code])
        for i, code in enumerate(["ES", "FR", "LV", "ES", "FR"])
    ]
    stages = list(STAGE_LABELS)
    facts = []
    base = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    for number in range(40):
        country = countries[["ES", "FR", "LV", "SE"][number % 4]]
        stage = stages[number % len(stages)]
        own_themes = rng.sample(themes, rng.randint(0, 3))
        answers = {
            str(yes_no.pk): rng.choice([True, False]),
            str(scale.pk): rng.choice(["City", "Region"]),
            str(tools.pk): rng.sample(["Maps", "Surveys"], rng.randint(0, 2)),
        }
        if number % 3:
            answers[str(note.pk)] = "=SUM(A1)" if number % 7 == 0 else f"note {number}"
        nomination = NominationFactory(
            call=call,
            country=country,
            stage=stage,
            title=f"+Practice {number}" if number % 9 == 0 else f"Practice {number}",
            themes=own_themes,
            survey_answers=answers,
            year_started=2000 + number,
            submitted_at=base + timedelta(hours=number),
        )
        reviews = []
        for index, reviewer in enumerate(rng.sample(pool, rng.randint(0, 4))):
            status = rng.choice(["submitted", "submitted", "submitted", "declined", "draft"])
            submitted_at = (
                base + timedelta(days=2, minutes=rng.randint(0, 3)) + timedelta(seconds=index)
            )
            review = Review.objects.create(
                nomination=nomination,
                reviewer=reviewer,
                status=status,
                comment=f"-comment {number}.{index}" if index == 1 else f"comment {number}.{index}",
                submitted_at=submitted_at if status == "submitted" else None,
            )
            scores = {}
            for criterion in criteria:
                score = rng.choice([1, 2, 3, 4, 5, 5, None])
                CriterionScore.objects.create(review=review, criterion=criterion, score=score)
                scores[criterion.pk] = score
            if status == "submitted":
                reviews.append((submitted_at, review.pk, reviewer, review.comment, scores))
        decision = None
        if stage == "decided":
            outcome = rng.choice(list(OUTCOME_LABELS))
            decided_at = base + timedelta(days=10, minutes=number)
            SelectionDecision.objects.create(
                nomination=nomination,
                outcome=outcome,
                rationale=f"because {number}",
                decided_by=lead,
                decided_at=decided_at,
            )
            decision = (outcome, f"because {number}", decided_at)
        facts.append(
            {
                "nomination": nomination,
                "country": country.name,
                "stage": stage,
                "themes": [t for t in theme_order if t in {x.name for x in own_themes}],
                "answers": answers,
                "reviews": sorted(reviews, key=lambda r: (r[0], r[1])),
                "decision": decision,
            }
        )
    NominationFactory(call=call, country=countries["SE"], title="A draft")  # never exported
    # An erased account, as account_erase leaves it (tests/nominations/test_gdpr_erasure.py).
    type(pool[4]).objects.filter(pk=pool[4].pk).update(
        email="erased-4@erased.invalid", first_name="", last_name=""
    )
    return {
        "call": call,
        "criteria": criteria,
        "facts": facts,
        "questions": [yes_no, scale, tools, note],
    }


def expected_table(generated, *, visible, named):
    """The export computed by hand from the facts: what the old export showed."""
    criteria = generated["criteria"]
    facts = [f for f in generated["facts"] if visible(f)]
    most = max((len(f["reviews"]) for f in facts), default=0)
    yes_no, scale, tools, note = generated["questions"]
    headers = [
        "Id", "Title", "Kind", "Country", "Organisation", "Themes", "Language",
        "Year started", "Stage", "Submitted (Europe/Brussels)",
        "Still running?", "Scale?", "Tools?", "Note?",
        *[f"Mean: {c.title}" for c in criteria], "Weighted score",
    ]  # fmt: skip
    for number in range(1, most + 1):
        if named:
            headers.append(f"Review {number}: reviewer")
        headers += [f"Review {number}: {c.title}" for c in criteria]
        headers.append(f"Review {number}: comment")
    headers += ["Decision", "Rationale", "Decided (Europe/Brussels)"]
    rows = []
    for fact in sorted(facts, key=lambda f: f["nomination"].pk):
        nomination = fact["nomination"]
        answers = fact["answers"]
        title = nomination.title
        row = [
            str(nomination.pk),
            "'" + title if title.startswith("+") else title,
            "Programme",
            fact["country"],
            "Malmö Neighbourhood Trust",
            ", ".join(fact["themes"]),
            "en",
            str(nomination.year_started),
            STAGE_LABELS[fact["stage"]],
            (nomination.submitted_at + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
            "Yes" if answers[str(yes_no.pk)] else "No",
            answers[str(scale.pk)],
            ", ".join(answers[str(tools.pk)]),
            _safe(answers.get(str(note.pk), "")),
        ]
        means = []
        for criterion in criteria:
            given = [r[4][criterion.pk] for r in fact["reviews"] if r[4][criterion.pk] is not None]
            if not given:
                means.append(None)
                continue
            means.append(Fraction(sum(given), len(given)))
        # Exact means, weighted exactly, rounded once for display (never before weighting).
        scored = [
            (Fraction(c.weight), m) for c, m in zip(criteria, means, strict=False) if m is not None
        ]
        weight = sum(w for w, _m in scored)
        weighted = sum(w * m for w, m in scored) / weight if weight else None
        row += [fmt(None if m is None else half_up_2(m)) for m in means]
        row.append(fmt(None if weighted is None else half_up_2(weighted)))
        for index in range(most):
            review = fact["reviews"][index] if index < len(fact["reviews"]) else None
            if named:
                row.append(_named(review[2]) if review else "")
            row += [fmt(review[4][c.pk]) if review else "" for c in criteria]
            row.append(_safe(review[3]) if review else "")
        if fact["decision"]:
            outcome, rationale, decided_at = fact["decision"]
            row += [
                OUTCOME_LABELS[outcome],
                rationale,
                (decided_at + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
            ]
        else:
            row += ["", "", ""]
        rows.append(row)
    return [headers, *rows]


def _safe(text):
    return "'" + text if text[:1] in "=+-@" and text else text


def _named(reviewer):
    reviewer.refresh_from_db()
    if reviewer.email.endswith("@erased.invalid"):
        return "Reviewer (erased)"
    name = f"{reviewer.first_name} {reviewer.last_name}".strip() or reviewer.email
    return f"{name} <{reviewer.email}> ({reviewer.reviewer_profile.country.code})"


def test_an_admin_gets_every_submitted_nomination_with_the_figures_computed_by_hand(
    client, generated
):
    admin = UserFactory(username="admin", is_staff=True)

    status, table = csv_of(client, admin, generated["call"])

    assert status == 200
    assert table == expected_table(generated, visible=lambda f: True, named=True)


def test_the_lead_gets_the_nominations_in_selection_and_decided_with_reviewers_named(
    client, generated, lead
):
    status, table = csv_of(client, lead, generated["call"])

    expected = expected_table(
        generated, visible=lambda f: f["stage"] in {"selection", "decided"}, named=True
    )
    assert (status, table) == (200, expected)
    assert len(table) == 1 + 14  # 40 nominations over 6 stages: 7 in selection, 7 decided


def test_a_coordinator_gets_their_countrys_nominations_with_reviewers_unnamed(
    client, generated, coordinator
):
    status, table = csv_of(client, coordinator, generated["call"])

    expected = expected_table(generated, visible=lambda f: f["country"] == "Sweden", named=False)
    assert (status, table) == (200, expected)
    assert len(table) == 1 + 10
    assert not any(header.endswith(": reviewer") for header in table[0])


def test_a_call_with_nothing_to_export_has_the_headers_alone(client, call, coordinator):
    status, table = csv_of(client, coordinator, call)

    assert status == 200
    assert table == [
        [
            "Id", "Title", "Kind", "Country", "Organisation", "Themes", "Language",
            "Year started", "Stage", "Submitted (Europe/Brussels)", "Mean: Innovation",
            "Mean: Impact and evidence", "Mean: Transferability", "Weighted score",
            "Decision", "Rationale", "Decided (Europe/Brussels)",
        ]
    ]  # fmt: skip


@pytest.mark.parametrize(
    "role", ["anonymous", "nominator", "reviewer", "other_coordinator", "other_lead"]
)
def test_people_who_may_not_export_the_call_get_nothing(client, call, countries, role):
    nomination = NominationFactory(call=call, country=countries["SE"], stage="selection")
    reviewer = ReviewerFactory(username="rev", reviewer_profile__country=countries["FR"])
    Review.objects.create(nomination=nomination, reviewer=reviewer, status="submitted")
    url = reverse("nominations:export", args=[call.pk, "csv"])
    if role == "nominator":
        client.force_login(nomination.nominator)
    elif role == "reviewer":
        client.force_login(reviewer)
    elif role == "other_coordinator":
        # A coordinator of France, where the call has no nomination they may see: an
        # empty file (coordinators export their own countries'), never Sweden's rows.
        other = UserFactory(username="coordinator-fr")
        countries["FR"].coordinators.add(other)
        client.force_login(other)
        response = client.get(url)
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        assert body.count("\n") == 1 and nomination.title not in body
        return
    elif role == "other_lead":
        other_call_lead = UserFactory(username="lead-elsewhere")
        NominationFactory(call__title="Elsewhere").call.leads.add(other_call_lead)
        client.force_login(other_call_lead)

    response = client.get(url)

    assert response.status_code == (302 if role == "anonymous" else 404)


def test_the_streamed_export_costs_the_same_queries_for_5_or_60_nominations(
    client, call, countries, lead, django_assert_num_queries
):
    reviewers = [
        ReviewerFactory(username=f"r{i}", reviewer_profile__country=countries[code])
        for i, code in enumerate(["ES", "FR"])
    ]
    criteria = list(call.criteria.all())

    def add(count):
        for _ in range(count):
            nomination = NominationFactory(call=call, country=countries["LV"], stage="selection")
            for reviewer in reviewers:
                review = Review.objects.create(
                    nomination=nomination, reviewer=reviewer, status="submitted"
                )
                for criterion in criteria:
                    CriterionScore.objects.create(review=review, criterion=criterion, score=3)

    client.force_login(lead)
    url = reverse("nominations:export", args=[call.pk, "csv"])
    add(5)
    b"".join(client.get(url).streaming_content)
    # Session and user, the staff second-factor check, the call, the lead check; the
    # questions, the criteria, the most reviews; countries, themes; the three row streams.
    with django_assert_num_queries(13):
        body = b"".join(client.get(url).streaming_content)
    assert body.count(b"\n") == 1 + 5
    add(55)
    with django_assert_num_queries(13):
        body = b"".join(client.get(url).streaming_content)
    assert body.count(b"\n") == 1 + 60
