"""A call's nominations in CSV and Excel, as much as the exporter may see."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from nominations.models import Nomination, SelectionDecision
from reviewers.models import CriterionScore, Review
from reviewers.selectors import selection_board
from reviewers.services import score_summaries_rebuild
from workflow.exports import export_build, export_request

from ..factories import NominationFactory, QuestionFactory, ReviewerFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def world(call, countries, theme, lead, coordinator, nominator):
    """A decided Swedish nomination with two reviews, a French one in review, a draft."""
    question = QuestionFactory(call=call, kind="yes_no", text="Still running?")
    decided = NominationFactory(
        call=call,
        nominator=nominator,
        country=countries["SE"],
        themes=[theme],
        title="Mentors",
        stage=Nomination.Stage.DECIDED,
        survey_answers={str(question.pk): True},
    )
    SelectionDecision.objects.create(
        nomination=decided, outcome="national", rationale="=Strong evidence", decided_by=lead
    )
    criteria = list(call.criteria.all())
    for username, code, score in (("ana", "ES", 4), ("zoe", "FR", 2)):
        reviewer = ReviewerFactory(username=username, reviewer_profile__country=countries[code])
        review = Review.objects.create(
            nomination=decided, reviewer=reviewer, status="submitted", comment=f"{username} says"
        )
        for criterion in criteria:
            CriterionScore.objects.create(review=review, criterion=criterion, score=score)
    NominationFactory(call=call, country=countries["FR"], title="Habiter", stage="review")
    NominationFactory(call=call, country=countries["SE"], title="Draft only")
    return call


def exported(client, user, call, file_format="csv"):
    client.force_login(user)
    if file_format == "xlsx":
        sheet = xlsx_sheet(client, user, call).active
        return 200, [[cell.value for cell in row] for row in sheet.iter_rows()]
    response = client.get(reverse("nominations:export", args=[call.pk, file_format]))
    if response.status_code != 200:
        return response.status_code, None
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return 200, list(csv.reader(io.StringIO(text)))


def as_dicts(table):
    headers, *rows = table
    return [dict(zip(headers, row, strict=True)) for row in rows]


def test_the_lead_exports_the_calls_nominations_in_selection_with_reviewers_named(
    client, world, lead
):
    status, table = exported(client, lead, world)

    assert status == 200
    (row,) = as_dicts(table)
    assert row["Title"] == "Mentors"
    assert row["Still running?"] == "Yes"
    assert row["Mean: Innovation"] == "3.00"
    named = {row["Review 1: reviewer"], row["Review 2: reviewer"]}
    assert any("<ana@example.org> (ES)" in name for name in named)
    assert any("<zoe@example.org> (FR)" in name for name in named)
    assert {row["Review 1: comment"], row["Review 2: comment"]} == {"ana says", "zoe says"}
    assert row["Decision"] == "Selected for the national showcase"
    # A rationale that looks like a formula stays text in a spreadsheet.
    assert row["Rationale"] == "'=Strong evidence"


def test_a_coordinator_exports_their_countrys_submitted_nominations_without_reviewer_names(
    client, world, coordinator
):
    status, table = exported(client, coordinator, world)

    assert status == 200
    rows = as_dicts(table)
    assert [r["Title"] for r in rows] == ["Mentors"]  # not the French one, not the draft
    assert not any(header.endswith(": reviewer") for header in table[0])
    assert "ana@example.org" not in str(table) and "zoe" not in str(table[0])
    assert rows[0]["Review 1: Innovation"] in {"4", "2"}


def test_an_admin_exports_every_submitted_nomination_as_excel(client, world):
    admin = UserFactory(username="admin", is_staff=True)

    status, table = exported(client, admin, world, "xlsx")

    assert status == 200
    rows = as_dicts(table)
    assert sorted(r["Title"] for r in rows) == ["Habiter", "Mentors"]
    mentors = next(r for r in rows if r["Title"] == "Mentors")
    assert mentors["Mean: Innovation"] == 3
    assert "ana@example.org" in (mentors["Review 1: reviewer"] + mentors["Review 2: reviewer"])


@pytest.mark.parametrize("role", ["nominator", "reviewer"])
def test_nominators_and_reviewers_cannot_export(client, world, request, role):
    person = (
        request.getfixturevalue("nominator")
        if role == "nominator"
        else Review.objects.first().reviewer
    )

    assert exported(client, person, world)[0] == 404


def test_the_export_costs_the_same_queries_for_few_or_many_nominations(
    client, world, lead, countries, theme, django_assert_num_queries
):
    client.force_login(lead)
    url = reverse("nominations:export", args=[world.pk, "csv"])
    client.get(url)
    # Session and user, the staff second-factor check, the call, lead check, the
    # questions, the criteria, the most reviews, countries, themes; and three row streams.
    with django_assert_num_queries(13):
        b"".join(client.get(url).streaming_content)
    for _ in range(3):
        NominationFactory(call=world, country=countries["LV"], themes=[theme], stage="selection")
    with django_assert_num_queries(13):
        body = b"".join(client.get(url).streaming_content)
    assert body.decode("utf-8-sig").count("\n") == 5


# --- times, the weighted score and the Excel sheet ---------------------------------------


def xlsx_sheet(client, user, call):
    """The Excel file as the person gets it: asked for, built by the task, downloaded."""
    client.force_login(user)
    export, _created = export_request(call=call, user=user)
    export_build(export_id=export.pk)
    response = client.get(reverse("nominations:export_download", args=[export.pk]))
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_times_are_exported_in_the_sites_local_time_with_the_zone_named(client, world, lead):
    mentors = Nomination.objects.get(title="Mentors")
    Nomination.objects.filter(pk=mentors.pk).update(
        submitted_at=datetime(2025, 1, 15, 12, 30, tzinfo=UTC)
    )
    SelectionDecision.objects.filter(nomination=mentors).update(
        decided_at=datetime(2025, 7, 1, 8, 5, tzinfo=UTC)
    )

    (row,) = as_dicts(exported(client, lead, world)[1])
    workbook = xlsx_sheet(client, lead, world)

    # Brussels is UTC+1 in winter, UTC+2 in summer.
    assert row["Submitted (Europe/Brussels)"] == "2025-01-15 13:30"
    assert row["Decided (Europe/Brussels)"] == "2025-07-01 10:05"
    sheet = workbook.active
    headers = [cell.value for cell in sheet[1]]
    submitted = sheet.cell(row=2, column=headers.index("Submitted (Europe/Brussels)") + 1)
    assert submitted.value == datetime(2025, 1, 15, 13, 30)
    assert submitted.is_date and submitted.number_format == "yyyy-mm-dd hh:mm"


def test_the_export_has_the_weighted_score_the_board_ranks_by(client, world, lead):
    innovation, *_others = world.criteria.all()
    innovation.weight = Decimal(3)
    innovation.save()
    mentors = Nomination.objects.get(title="Mentors")
    CriterionScore.objects.filter(review__nomination=mentors, criterion=innovation).update(score=5)
    score_summaries_rebuild(nominations=[mentors.pk])  # the board's summaries of the new scores
    _criteria, (board_row,) = selection_board(
        call=world, nominations=Nomination.objects.filter(pk=mentors.pk)
    )

    (row,) = as_dicts(exported(client, lead, world)[1])

    # Innovation 5 (weight 3), the two others 3 (weight 1 each): (15 + 3 + 3) / 5.
    assert board_row.weighted == Fraction(21, 5)
    # Shown as the board shows it: exact, then two decimals, halves up.
    assert row["Weighted score"] == str(board_row.weighted_shown) == "4.20"


def test_the_excel_sheet_has_a_whole_name_fitting_columns_and_the_full_title(client, world, lead):
    world.title = "Social innovation against spatial segregation: 2025/26 round"
    world.save()

    workbook = xlsx_sheet(client, lead, world)

    sheet = workbook.active
    assert sheet.title == "Social innovation against…"
    assert workbook.properties.title == world.title
    widths = {
        header.value: sheet.column_dimensions[header.column_letter].width for header in sheet[1]
    }
    assert widths["Id"] == 8
    assert widths["Title"] == len("Mentors") + 2  # the longest title, and a margin
    assert max(widths.values()) <= 52
