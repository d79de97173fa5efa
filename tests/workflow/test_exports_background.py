"""The Excel export built by a task: the CSV's rows in a workbook, its progress, one build
per person and call at a time, the person told, the file kept a while and then deleted;
only the requester (and admins) follow and download it."""

import csv
import datetime
import io

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from nominations.models import Nomination, SelectionDecision
from notifications.models import Message, Notification
from reviewers.models import CriterionScore, Review
from workflow.exports import export_build, export_request, exports_expire, exports_resume
from workflow.models import ExportFile

from ..factories import NominationFactory, ReviewerFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def world(call, countries, theme, lead):
    """Nominations of Sweden and France in selection and decided, reviewed and scored."""
    criteria = list(call.criteria.all())
    reviewers = [
        ReviewerFactory(username=f"rev-{code}", reviewer_profile__country=countries[code])
        for code in ["ES", "FR", "LV"]
    ]
    for number in range(7):
        nomination = NominationFactory(
            call=call,
            country=countries["SE" if number % 2 else "FR"],
            themes=[theme],
            title=f"=Practice {number}" if number == 3 else f"Practice {number}",
            stage=Nomination.Stage.DECIDED if number % 3 == 0 else Nomination.Stage.SELECTION,
        )
        for index, reviewer in enumerate(reviewers[: 1 + number % 3]):
            review = Review.objects.create(
                nomination=nomination, reviewer=reviewer, status="submitted", comment=f"c{index}"
            )
            for criterion in criteria:
                CriterionScore.objects.create(
                    review=review, criterion=criterion, score=1 + (number + index) % 5
                )
        if nomination.stage == Nomination.Stage.DECIDED:
            SelectionDecision.objects.create(
                nomination=nomination, outcome="national", rationale="Good", decided_by=lead
            )
    return call


def ask(client, user, call, capture):
    client.force_login(user)
    with capture(execute=True):
        return client.post(reverse("nominations:exports", args=[call.pk]))


def csv_table(client, user, call):
    client.force_login(user)
    response = client.get(reverse("nominations:export", args=[call.pk, "csv"]))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def as_csv_text(value):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def numbers_as_floats(table):
    def cell(text):
        try:
            return float(text)
        except ValueError:
            return text

    return [[cell(text) for text in row] for row in table]


def test_the_excel_file_has_the_csv_rows_and_the_person_is_told_it_is_ready(
    client, world, lead, django_capture_on_commit_callbacks
):
    response = ask(client, lead, world, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    export = ExportFile.objects.get()
    assert export.status == ExportFile.Status.READY
    assert (export.rows_done, export.rows_total) == (7, 7)
    assert export.expires_at - export.ready_at == datetime.timedelta(days=7)
    download = client.get(reverse("nominations:export_download", args=[export.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="nomflow-call-')
    workbook = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    sheet = workbook.active
    rows = [[as_csv_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    # Excel keeps numbers as numbers (a weighted 1.0 reads back as 1): compared as numbers.
    assert numbers_as_floats(rows) == numbers_as_floats(csv_table(client, lead, world))
    assert rows[4][1] == "'=Practice 3"  # a formula stays text
    assert sheet.freeze_panes == "C2"
    assert [cell.font.b for cell in sheet[1]] == [True] * len(rows[0])

    message = Message.objects.get(kind=Message.Kind.EXPORT_READY)
    assert message.recipient == lead
    (notification,) = Notification.objects.filter(recipient=lead)
    assert notification.path == reverse("nominations:exports", args=[world.pk])
    assert [m.subject for m in mail.outbox] == [f"Your export of “{world.title}” is ready"]
    page = client.get(reverse("nominations:exports", args=[world.pk])).content.decode()
    assert reverse("nominations:export_download", args=[export.pk]) in page
    assert "is ready (kept until" in page


def test_the_xlsx_address_leads_to_the_export_page(client, world, lead):
    client.force_login(lead)

    response = client.get(reverse("nominations:export", args=[world.pk, "xlsx"]))

    assert response.status_code == 302
    assert response["Location"] == reverse("nominations:exports", args=[world.pk])


def test_a_second_request_while_one_is_being_built_returns_that_one(client, world, lead):
    client.force_login(lead)
    url = reverse("nominations:exports", args=[world.pk])

    client.post(url)  # not built: its task is queued once the transaction commits
    response = client.post(url, follow=True)

    export = ExportFile.objects.get()
    assert export.status == ExportFile.Status.QUEUED
    assert "Your Excel file is already being prepared." in response.content.decode()
    assert export_request(call=world, user=lead) == (export, False)
    page = client.get(url).content.decode()
    assert reverse("nominations:export_progress", args=[export.pk]) in page
    assert '<meta http-equiv="refresh" content="5">' in page
    assert "Prepare an Excel file" not in page


def test_the_progress_endpoint_follows_the_build(client, world, lead):
    client.force_login(lead)
    export, _created = export_request(call=world, user=lead)
    url = reverse("nominations:export_progress", args=[export.pk])

    assert client.get(url).json() == {
        "status": "queued",
        "status_label": "Waiting to start",
        "rows_done": 0,
        "rows_total": None,
        "percent": 0,
    }
    ExportFile.objects.filter(pk=export.pk).update(status="running", rows_done=3, rows_total=7)
    assert client.get(url).json()["percent"] == 42
    ExportFile.objects.filter(pk=export.pk).update(status="queued")
    export_build(export_id=export.pk)
    assert client.get(url).json() == {
        "status": "ready",
        "status_label": "Ready",
        "rows_done": 7,
        "rows_total": 7,
        "percent": 100,
        "download_url": reverse("nominations:export_download", args=[export.pk]),
    }


def test_a_build_runs_once(world, lead):
    export, _created = export_request(call=world, user=lead)
    built = export_build(export_id=export.pk)
    name = built.file.name

    assert export_build(export_id=export.pk) is None
    export.refresh_from_db()
    assert export.file.name == name
    assert Message.objects.filter(kind=Message.Kind.EXPORT_READY).count() == 1


def test_an_export_whose_requester_lost_the_role_fails_without_a_file(
    world, coordinator, countries
):
    export, _created = export_request(call=world, user=coordinator)
    countries["SE"].coordinators.remove(coordinator)

    assert export_build(export_id=export.pk) is None
    export.refresh_from_db()
    assert (export.status, export.file.name) == (ExportFile.Status.FAILED, "")


def test_expired_exports_are_deleted_with_their_files(world, lead):
    export, _created = export_request(call=world, user=lead)
    export = export_build(export_id=export.pk)
    name = export.file.name
    assert default_storage.exists(name)

    assert exports_expire(now=export.expires_at - datetime.timedelta(seconds=1)) == 0
    assert default_storage.exists(name)
    assert exports_expire(now=export.expires_at) == 1
    assert not default_storage.exists(name)
    assert not ExportFile.objects.exists()


ROLES = [
    "anonymous",
    "nominator",
    "reviewer",
    "coordinator",
    "other_coordinator",
    "lead",
    "other_lead",
    "admin",
]


def person(role, *, world, countries, lead, coordinator):
    if role == "anonymous":
        return None
    if role == "nominator":
        return Nomination.objects.filter(call=world).first().nominator
    if role == "reviewer":
        return Review.objects.first().reviewer
    if role == "coordinator":
        return coordinator
    if role == "other_coordinator":
        other = UserFactory(username="coordinator-lv")
        countries["LV"].coordinators.add(other)
        return other
    if role == "lead":
        return lead
    if role == "other_lead":
        other = UserFactory(username="lead-elsewhere")
        NominationFactory(call__title="Elsewhere").call.leads.add(other)
        return other
    return UserFactory(username="admin", is_staff=True)


@pytest.mark.parametrize("role", ROLES)
def test_who_may_ask_for_an_excel_file(
    client, world, countries, lead, coordinator, role, django_capture_on_commit_callbacks
):
    user = person(role, world=world, countries=countries, lead=lead, coordinator=coordinator)
    url = reverse("nominations:exports", args=[world.pk])
    if user:
        client.force_login(user)

    with django_capture_on_commit_callbacks(execute=True):
        page, asked = client.get(url), client.post(url)

    may = role in {"coordinator", "other_coordinator", "lead", "admin"}
    if role == "anonymous":
        assert (page.status_code, asked.status_code) == (302, 302)
        assert asked["Location"].startswith(reverse("account_login"))
    else:
        assert (page.status_code, asked.status_code) == ((200, 302) if may else (404, 404))
    assert ExportFile.objects.filter(requested_by=user).exists() == may if user else True
    if may:
        # What each may see: the coordinators their country's, the lead those in selection.
        export = ExportFile.objects.get(requested_by=user)
        expected = {"coordinator": 3, "other_coordinator": 0, "lead": 7, "admin": 7}[role]
        assert export.rows_total == expected


@pytest.mark.parametrize("role", ROLES)
def test_only_the_requester_and_admins_follow_and_download_an_export(
    client, world, countries, lead, coordinator, role
):
    export, _created = export_request(call=world, user=lead)
    export_build(export_id=export.pk)
    user = person(role, world=world, countries=countries, lead=lead, coordinator=coordinator)
    if user:
        client.force_login(user)

    progress = client.get(reverse("nominations:export_progress", args=[export.pk]))
    download = client.get(reverse("nominations:export_download", args=[export.pk]))

    if role == "anonymous":
        assert (progress.status_code, download.status_code) == (302, 302)
    elif role in {"lead", "admin"}:
        assert (progress.status_code, download.status_code) == (200, 200)
    else:
        assert (progress.status_code, download.status_code) == (404, 404)


# --- an export whose build was lost ---------------------------------------------------------


def test_an_export_left_running_by_a_killed_build_is_built_again_by_the_hourly_sweep(
    world, lead, django_capture_on_commit_callbacks
):
    """A pool process killed mid-build (the kernel's out-of-memory killer picks the biggest)
    is redelivered at once, finds the export being built and stops: the sweep resumes it."""
    export, _created = export_request(call=world, user=lead)
    started = timezone.now() - datetime.timedelta(minutes=29)
    ExportFile.objects.filter(pk=export.pk).update(status="running", started_at=started)
    assert export_build(export_id=export.pk) is None  # the redelivery stops

    with django_capture_on_commit_callbacks(execute=True):
        assert exports_resume(now=timezone.now()) == 0
    export.refresh_from_db()
    assert export.status == ExportFile.Status.RUNNING

    ExportFile.objects.filter(pk=export.pk).update(
        started_at=started - datetime.timedelta(minutes=2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert exports_resume(now=timezone.now()) == 1
    export.refresh_from_db()
    assert export.status == ExportFile.Status.READY
    assert Message.objects.filter(kind=Message.Kind.EXPORT_READY).count() == 1


def test_an_export_whose_build_never_reached_the_broker_is_queued_again(
    client, world, lead, django_capture_on_commit_callbacks
):
    """The broker was down when it was asked for: it stays queued with no task. Asking again
    later, or the hourly sweep, queues its build; a recent one is left to its task."""
    export, _created = export_request(call=world, user=lead)  # its task is never sent

    assert export_request(call=world, user=lead) == (export, False)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert exports_resume(now=timezone.now()) == 0
    assert queued == []

    ExportFile.objects.filter(pk=export.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=31)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert export_request(call=world, user=lead) == (export, False)
    export.refresh_from_db()
    assert export.status == ExportFile.Status.READY


def test_an_export_lost_again_and_again_fails_after_half_a_day(world, lead):
    """A build killed each time (for its memory, say) is not queued again for ever."""
    export, _created = export_request(call=world, user=lead)
    now = timezone.now()
    ExportFile.objects.filter(pk=export.pk).update(
        status="running",
        created_at=now - datetime.timedelta(hours=13),
        started_at=now - datetime.timedelta(minutes=31),
    )

    assert exports_resume(now=now) == 0

    export.refresh_from_db()
    assert export.status == ExportFile.Status.FAILED
    assert export.expires_at > now
