"""Inviting people from a spreadsheet: reading the file, the preview, the run, the report.

The files are built here with csv and openpyxl, as a person's spreadsheet program would
write them. Nothing is sent before the uploader confirms; confirming twice, a task run
again or the same file uploaded again never invites anyone twice.
"""

import csv
import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from kombu.exceptions import OperationalError
from openpyxl import Workbook, load_workbook

from nominations.models import Invitation, InvitationImport, InvitationImportRow
from notifications.models import Message
from workflow import tasks
from workflow.services.people import invitation_create
from workflow.services.people_import import (
    COLUMNS,
    INLINE_ROWS,
    STALLED_AFTER,
    ImportFileError,
    invitation_import_check,
    invitation_import_confirm,
    invitation_import_run,
    read_rows,
    row_error_text,
)

from ..factories import CallFactory, ReviewerFactory, ThemeFactory, UserFactory

pytestmark = [pytest.mark.integration]

Outcome = InvitationImportRow.Outcome
HEADERS = ["email", "name", "role", "country code", "call", "language", "organisation", "themes"]


def csv_bytes(rows, *, headers=HEADERS, delimiter=",", bom=False):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(headers)
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode()


def xlsx_bytes(rows, *, headers=HEADERS):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def reviewer_row(email, country="SE", **cells):
    """A template row inviting ``email`` as a reviewer for ``country``."""
    row = dict.fromkeys(HEADERS, "")
    row.update({"email": email, "role": "reviewer", "country code": country})
    row.update({key.replace("_", " "): value for key, value in cells.items()})
    return [row[header] for header in HEADERS]


def check(by, rows, **options):
    return invitation_import_check(by=by, content=csv_bytes(rows, **options), file_name="a.csv")


def planned(batch):
    return [(row.number, row.planned) for row in batch.rows.all()]


def errors(batch):
    return {row.number: [e["code"] for e in row.errors] for row in batch.rows.all() if row.errors}


# --- the people ----------------------------------------------------------------------------


@pytest.fixture
def call(db):
    return CallFactory(title="Inclusive cities")


@pytest.fixture
def other_call(db):
    return CallFactory(title="Rural futures")


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", is_staff=True)


@pytest.fixture
def other_coordinator(countries):
    user = UserFactory(username="coord-fr")
    countries["FR"].coordinators.add(user)
    return user


@pytest.fixture
def other_lead(other_call):
    user = UserFactory(username="other-lead")
    other_call.leads.add(user)
    return user


@pytest.fixture
def reviewer(countries):
    return ReviewerFactory(username="reviewer", reviewer_profile__country=countries["FR"])


# --- reading files -------------------------------------------------------------------------


@pytest.mark.unit
def test_a_csv_file_is_read_by_its_headers_in_any_order():
    content = csv_bytes(
        [["SE", "ann@example.org", "reviewer"]], headers=["country code", "Email", "role"]
    )

    rows = read_rows(content=content, file_name="people.csv")

    assert rows == [
        (
            2,
            {
                "email": "ann@example.org",
                "name": "",
                "role": "reviewer",
                "country": "SE",
                "call": "",
                "language": "",
                "organisation": "",
                "themes": "",
            },
        )
    ]


@pytest.mark.unit
def test_an_excel_file_is_read_with_numbers_as_typed_and_empty_rows_skipped():
    content = xlsx_bytes(
        [
            ["ann@example.org", "Ann", "lead", None, 7, "sv", None, None],
            [None] * 8,
            ["bo@example.org", None, "reviewer", "FR", None, None, "Town hall", "A; B"],
        ]
    )

    rows = read_rows(content=content, file_name="people.xlsx")

    assert [(number, values["email"], values["call"]) for number, values in rows] == [
        (2, "ann@example.org", "7"),
        (4, "bo@example.org", ""),
    ]
    assert rows[1][1]["themes"] == "A; B"
    assert rows[1][1]["organisation"] == "Town hall"


@pytest.mark.unit
def test_excel_saves_with_a_byte_order_mark_and_semicolons():
    content = csv_bytes(
        [["åsa@example.org", "Åsa Öberg", "reviewer", "SE"]],
        headers=HEADERS[:4],
        delimiter=";",
        bom=True,
    )

    ((number, values),) = read_rows(content=content, file_name="people.csv")

    assert (number, values["email"], values["name"], values["country"]) == (
        2,
        "åsa@example.org",
        "Åsa Öberg",
        "SE",
    )


@pytest.mark.unit
@pytest.mark.parametrize("language", ["sv", "fr", "es", "lv", "en"])
def test_headers_are_read_in_every_interface_language(language):
    with translation.override(language):
        headers = [str(header) for header in COLUMNS.values()]
    content = csv_bytes([["ann@example.org", "Ann", "reviewer", "SE"]], headers=headers[:4])

    ((_number, values),) = read_rows(content=content, file_name="people.csv")

    assert (values["email"], values["name"], values["role"], values["country"]) == (
        "ann@example.org",
        "Ann",
        "reviewer",
        "SE",
    )


@pytest.mark.unit
def test_swedish_headers_are_not_the_english_ones():
    """The test above would pass trivially if the catalogue had no Swedish headers."""
    with translation.override("sv"):
        assert str(COLUMNS["email"]) == "E-post"
        assert str(COLUMNS["role"]) == "roll"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("content", "file_name", "says"),
    [
        (b"", "empty.csv", "empty"),
        ("namn,roll\nÅsa,x\n".encode("cp1252"), "a.csv", "UTF-8"),
        (b"name,role\nAnn,reviewer\n", "a.csv", "“Email”"),
        (b"email,role,e-mail\n", "a.csv", "twice"),
        (b"PK\x03\x04 not really a workbook", "a.xlsx", "damaged"),
        (b"\xd0\xcf\x11\xe0 an old Excel file", "a.xls", ".xlsx"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(content, file_name, says):
    with pytest.raises(ImportFileError) as error:
        read_rows(content=content, file_name=file_name)

    assert says in str(error.value)


@pytest.mark.unit
def test_a_file_with_too_many_rows_is_refused():
    content = csv_bytes([reviewer_row(f"p{n}@example.org") for n in range(1001)])

    with pytest.raises(ImportFileError, match="more than 1000 rows"):
        read_rows(content=content, file_name="big.csv")


# --- checking rows -------------------------------------------------------------------------


def test_each_kind_of_row_error_is_found(admin, countries, call, theme):
    ThemeFactory(name="Social exclusion")
    taken = ReviewerFactory(email="taken@example.org", reviewer_profile__country=countries["ES"])
    rows = [
        reviewer_row("ok@example.org", themes="Spatial segregation; social exclusion"),  # 2
        reviewer_row("not-an-address"),  # 3
        reviewer_row("ok2@example.org", country="DE"),  # 4
        reviewer_row("ok3@example.org", themes="Spatial segregation; Loneliness"),  # 5
        ["ok4@example.org", "", "jester", "SE", "", "", "", ""],  # 6
        reviewer_row("OK@example.org "),  # 7: the same as row 2
        reviewer_row("", name="No Address"),  # 8
        reviewer_row("ok5@example.org", country=""),  # 9
        ["lead@example.org", "", "lead", "SE", call.pk, "", "", ""],  # 10
        ["coord@example.org", "", "coordinator", "SE", call.pk, "", "", ""],  # 11
        reviewer_row("ok6@example.org", call="No such call"),  # 12
        reviewer_row("ok7@example.org", language="de"),  # 13
        reviewer_row(taken.email),  # 14
        ["ok8@example.org", "", "", "SE", "", "", "", ""],  # 15
    ]

    batch = check(admin, rows)

    assert errors(batch) == {
        3: ["bad_email"],
        4: ["unknown_country"],
        5: ["unknown_theme"],
        6: ["unknown_role"],
        7: ["duplicate"],
        8: ["missing"],
        9: ["missing_for_role"],
        10: ["extra_for_role"],
        11: ["extra_for_role"],
        12: ["unknown_call"],
        13: ["unknown_language"],
        14: ["has_role"],
        15: ["missing"],
    }
    first = batch.rows.get(number=2)
    assert first.planned == Outcome.NEW
    assert len(first.theme_ids) == 2
    assert [row_error_text(e) for e in batch.rows.get(number=7).errors] == [
        "The same invitation as row 2."
    ]
    assert [row_error_text(e) for e in batch.rows.get(number=4).errors] == [
        "No partner country has the code “DE”."
    ]


def test_overlong_cells_are_row_errors_and_kept_as_written(admin, countries):
    address = "a" * 300 + "@example.org"

    batch = check(admin, [reviewer_row(address, language="english, please")])

    assert errors(batch) == {2: ["bad_email", "unknown_language"]}
    assert batch.rows.get().cells["email"] == address


def test_row_errors_are_stored_as_codes_and_worded_in_the_readers_language(admin, countries):
    batch = check(admin, [reviewer_row("", name="No Address")])
    (error,) = batch.rows.get().errors

    with translation.override("sv"):
        swedish = row_error_text(error)

    assert error == {"code": "missing", "params": {"column": "email"}}
    assert row_error_text(error) == "“Email” is empty."
    # Swedish quotes with ” on both sides.
    assert swedish == "”E-post” är tom."


def test_roles_are_read_in_any_language_and_calls_by_id_or_title(admin, countries, call):
    rows = [
        ["a@example.org", "", "Granskare", "se", "", "", "", ""],
        ["b@example.org", "", "Lead", "", call.pk, "", "", ""],
        ["c@example.org", "", "National coordinator", "LV", "", "", "", ""],
        ["d@example.org", "", "reviewer", "FR", "inclusive CITIES", "", "", ""],
    ]

    batch = check(admin, rows)

    assert errors(batch) == {}
    assert [(r.role, r.country and r.country.code, r.call_id) for r in batch.rows.all()] == [
        ("reviewer", "SE", None),
        ("lead", None, call.pk),
        ("coordinator", "LV", None),
        ("reviewer", "FR", call.pk),
    ]


def test_a_coordinator_invites_reviewers_for_their_own_country_only(coordinator, call):
    rows = [
        reviewer_row("se@example.org", country="SE"),
        reviewer_row("fr@example.org", country="FR"),
        ["c@example.org", "", "coordinator", "SE", "", "", "", ""],
        ["l@example.org", "", "lead", "", call.pk, "", "", ""],
    ]

    batch = check(coordinator, rows)

    assert errors(batch) == {
        3: ["not_allowed_reviewer"],
        4: ["not_allowed_role"],
        5: ["not_allowed_role"],
    }
    assert [row_error_text(e) for e in batch.rows.get(number=4).errors] == [
        "You may not give the role “National coordinator”."
    ]


def test_a_lead_invites_reviewers_for_their_calls_from_any_country(
    lead, call, other_call, countries
):
    rows = [
        reviewer_row("a@example.org", country="ES", call=call.pk),
        reviewer_row("b@example.org", country="ES", call=other_call.pk),
        reviewer_row("c@example.org", country="ES"),
    ]

    batch = check(lead, rows)

    assert errors(batch) == {3: ["not_allowed_reviewer"], 4: ["not_allowed_reviewer"]}


def test_the_preview_says_what_each_row_will_do_and_sends_nothing(admin, countries, call):
    UserFactory(email="known@example.org")
    invitation_create(
        by=admin, email="pending@example.org", role="reviewer", country=countries["SE"]
    )
    Message.objects.all().delete()
    mail.outbox.clear()

    batch = check(
        admin,
        [
            reviewer_row("new@example.org"),
            reviewer_row("known@example.org"),
            reviewer_row("pending@example.org"),
            reviewer_row("broken"),
        ],
    )

    assert planned(batch) == [
        (2, Outcome.NEW),
        (3, Outcome.ROLE_ADDED),
        (4, Outcome.ALREADY_INVITED),
        (5, Outcome.ERROR),
    ]
    assert batch.status == InvitationImport.Status.CHECKED
    assert Invitation.objects.count() == 1
    assert Message.objects.count() == 0
    assert mail.outbox == []


# --- confirming ----------------------------------------------------------------------------


def test_confirming_invites_each_valid_row_once(
    admin, countries, django_capture_on_commit_callbacks
):
    UserFactory(email="known@example.org")
    batch = check(
        admin,
        [
            reviewer_row("new@example.org"),
            reviewer_row("known@example.org"),
            reviewer_row("broken"),
        ],
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert invitation_import_confirm(batch_id=batch.pk, by=admin) is True
    with django_capture_on_commit_callbacks(execute=True):
        assert invitation_import_confirm(batch_id=batch.pk, by=admin) is False

    batch.refresh_from_db()
    assert batch.status == InvitationImport.Status.DONE
    assert sorted(Invitation.objects.values_list("email", flat=True)) == [
        "known@example.org",
        "new@example.org",
    ]
    assert sorted(m.to for m in mail.outbox) == [["known@example.org"], ["new@example.org"]]
    assert [(row.number, row.result) for row in batch.rows.all()] == [
        (2, Outcome.NEW),
        (3, Outcome.ROLE_ADDED),
        (4, ""),
    ]


def test_the_same_file_uploaded_again_and_confirmed_invites_nobody_twice(
    coordinator, countries, django_capture_on_commit_callbacks
):
    content = xlsx_bytes([reviewer_row("a@example.org"), reviewer_row("b@example.org")])
    first = invitation_import_check(by=coordinator, content=content, file_name="a.xlsx")
    with django_capture_on_commit_callbacks(execute=True):
        invitation_import_confirm(batch_id=first.pk, by=coordinator)

    again = invitation_import_check(by=coordinator, content=content, file_name="a.xlsx")
    assert planned(again) == [(2, Outcome.ALREADY_INVITED), (3, Outcome.ALREADY_INVITED)]
    assert again.content_hash == first.content_hash
    with django_capture_on_commit_callbacks(execute=True):
        invitation_import_confirm(batch_id=again.pk, by=coordinator)

    assert Invitation.objects.count() == 2
    assert Message.objects.filter(kind=Message.Kind.INVITATION).count() == 2
    assert len(mail.outbox) == 2
    assert [row.result for row in again.rows.all()] == [Outcome.ALREADY_INVITED] * 2


def test_a_row_done_is_never_carried_out_again_even_without_its_invitation(admin, countries):
    """The row's own marker, not only the service's rule: a redelivered task after the
    invitations were withdrawn (so none is pending) invites nobody again."""
    batch = check(admin, [reviewer_row("a@example.org"), reviewer_row("b@example.org")])
    invitation_import_confirm(batch_id=batch.pk, by=admin)
    Invitation.objects.update(status=Invitation.Status.WITHDRAWN)
    InvitationImport.objects.filter(pk=batch.pk).update(status=InvitationImport.Status.RUNNING)

    assert invitation_import_run(batch_id=batch.pk) == 0
    assert Invitation.objects.count() == 2
    assert Invitation.objects.filter(status=Invitation.Status.PENDING).count() == 0


def test_a_row_refused_when_carried_out_is_an_error_in_the_report(coordinator, countries):
    batch = check(coordinator, [reviewer_row("a@example.org"), reviewer_row("b@example.org")])
    # Between the preview and the confirmation, the uploader stops coordinating Sweden.
    countries["SE"].coordinators.remove(coordinator)

    invitation_import_confirm(batch_id=batch.pk, by=coordinator)

    assert Invitation.objects.count() == 0
    assert [(row.result, row.result_message) for row in batch.rows.all()] == [
        (Outcome.ERROR, "You may not give this role."),
        (Outcome.ERROR, "You may not give this role."),
    ]


def test_a_large_file_goes_through_the_task_and_shows_its_progress(
    client, admin, countries, django_capture_on_commit_callbacks
):
    rows = [reviewer_row(f"p{n}@example.org") for n in range(INLINE_ROWS + 1)]
    batch = check(admin, rows)
    client.force_login(admin)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("people:import_confirm", args=[batch.pk]))
    assert response.status_code == 302
    progress = client.get(reverse("people:import_progress", args=[batch.pk])).json()
    assert progress == {"status": "running", "done": 0, "total": INLINE_ROWS + 1}
    page = client.get(reverse("people:import_detail", args=[batch.pk])).content.decode()
    assert '<meta http-equiv="refresh"' in page
    assert Invitation.objects.count() == 0

    for callback in callbacks:  # the task, queued after commit, runs eagerly in tests
        callback()

    progress = client.get(reverse("people:import_progress", args=[batch.pk])).json()
    assert progress == {"status": "done", "done": INLINE_ROWS + 1, "total": INLINE_ROWS + 1}
    assert Invitation.objects.count() == INLINE_ROWS + 1
    page = client.get(reverse("people:import_detail", args=[batch.pk])).content.decode()
    assert '<meta http-equiv="refresh"' not in page


def test_a_task_lost_with_the_broker_down_is_resumed_by_the_uploader(
    client, admin, countries, monkeypatch, django_capture_on_commit_callbacks
):
    batch = check(admin, [reviewer_row(f"p{n}@example.org") for n in range(INLINE_ROWS + 1)])
    client.force_login(admin)
    detail = reverse("people:import_detail", args=[batch.pk])
    confirm = reverse("people:import_confirm", args=[batch.pk])

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as patched:
        patched.setattr(tasks.invitation_import_run, "delay", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(confirm)
    assert response.status_code == 302
    assert client.get(reverse("people:import_progress", args=[batch.pk])).json() == {
        "status": "running",
        "done": 0,
        "total": INLINE_ROWS + 1,
    }
    assert "Resume sending" not in client.get(detail).content.decode()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(confirm)  # too early to call it lost: a second confirm does nothing
    assert callbacks == []

    InvitationImport.objects.filter(pk=batch.pk).update(
        confirmed_at=timezone.now() - STALLED_AFTER - timedelta(seconds=1)
    )
    assert "Resume sending" in client.get(detail).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm)

    batch.refresh_from_db()
    assert batch.status == InvitationImport.Status.DONE
    assert Invitation.objects.count() == INLINE_ROWS + 1


def test_a_small_file_is_carried_out_at_once(client, admin, countries):
    batch = check(admin, [reviewer_row("a@example.org")])
    client.force_login(admin)

    client.post(reverse("people:import_confirm", args=[batch.pk]))

    batch.refresh_from_db()
    assert batch.status == InvitationImport.Status.DONE
    assert Invitation.objects.get().email == "a@example.org"


def test_the_report_gives_each_rows_result(client, admin, countries):
    UserFactory(email="known@example.org")
    batch = check(
        admin,
        [reviewer_row("a@example.org"), reviewer_row("known@example.org"), reviewer_row("x")],
    )
    invitation_import_confirm(batch_id=batch.pk, by=admin)
    client.force_login(admin)

    response = client.get(reverse("people:import_report", args=[batch.pk]))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0][:2] == ["Row", "Email"]
    assert [(line[0], line[1], line[-3], line[-2]) for line in table[1:]] == [
        ("2", "a@example.org", "New invitation", "Invited"),
        ("3", "known@example.org", "Role added to an existing person", "Role added"),
        ("4", "x", "Error", "Error"),
    ]
    assert table[3][-1] == "“x” is not a valid email address."


def test_the_report_follows_the_readers_spreadsheet_conventions(client, admin, countries):
    batch = check(admin, [reviewer_row("=cmd@example.org")])
    client.force_login(admin)

    response = client.get(
        reverse("people:import_report", args=[batch.pk]), HTTP_ACCEPT_LANGUAGE="sv"
    )

    header, row = response.content.decode("utf-8-sig").splitlines()
    assert header.split(";")[1:3] == ["E-post", "namn"]
    assert row.split(";")[:2] == ["2", "'=cmd@example.org"]


# --- the pages -----------------------------------------------------------------------------


def test_the_template_comes_in_the_persons_language_and_reads_back(client, coordinator, call):
    client.force_login(coordinator)

    xlsx = client.get(reverse("people:import_template", args=["xlsx"]), HTTP_ACCEPT_LANGUAGE="fr")
    csv_template = client.get(
        reverse("people:import_template", args=["csv"]), HTTP_ACCEPT_LANGUAGE="fr"
    )

    with translation.override("fr"):
        french = [str(header) for header in COLUMNS.values()]
    workbook = load_workbook(io.BytesIO(xlsx.content))
    sheet = workbook.worksheets[0]
    assert [cell.value for cell in sheet[1]] == french
    # Excel in French reads ";" between columns (a comma is the decimal separator there).
    assert csv_template.content.decode("utf-8-sig").splitlines() == [";".join(french)]
    assert (
        read_rows(content=csv_template.content + b"\r\nann@example.org;;reviewer;SE\r\n")[0][1][
            "country"
        ]
        == "SE"
    )
    sheet.append(["ann@example.org", "Ann", "Granskare", "SE"])
    filled = io.BytesIO()
    workbook.save(filled)
    batch = invitation_import_check(
        by=coordinator, content=filled.getvalue(), file_name="filled.xlsx"
    )
    assert planned(batch) == [(2, Outcome.NEW)]


def test_the_english_csv_template_is_comma_separated(client, admin):
    client.force_login(admin)

    response = client.get(reverse("people:import_template", args=["csv"]))

    assert response.content.decode("utf-8-sig") == (
        "Email,name,role,country code,call,language,organisation,expertise themes\r\n"
    )


def test_the_templates_lists_show_what_the_person_may_give(client, lead, admin, call, other_call):
    lists = {}
    for person in (lead, admin):
        client.force_login(person)
        response = client.get(reverse("people:import_template", args=["xlsx"]))
        sheet = load_workbook(io.BytesIO(response.content)).worksheets[1]
        lists[person.username] = {
            column[0].value: [cell.value for cell in column[1:] if cell.value]
            for column in sheet.iter_cols()
        }

    assert lists["lead"]["role"] == ["Reviewer"]
    assert lists["lead"]["call"] == [f"{call.pk}: Inclusive cities"]
    assert lists["admin"]["role"] == ["Lead of a call", "National coordinator", "Reviewer"]
    assert sorted(lists["admin"]["call"]) == sorted(
        [f"{call.pk}: Inclusive cities", f"{other_call.pk}: Rural futures"]
    )


def test_uploading_shows_the_preview(client, coordinator, countries):
    client.force_login(coordinator)
    upload = SimpleUploadedFile("people.csv", csv_bytes([reviewer_row("a@example.org")]))

    response = client.post(reverse("people:import"), {"file": upload})

    batch = InvitationImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("people:import_detail", args=[batch.pk])
    page = client.get(response["Location"]).content.decode()
    assert "a@example.org" in page
    assert "New invitation: 1" in page
    assert Invitation.objects.count() == 0


def test_a_file_that_cannot_be_read_is_an_error_on_the_form(client, coordinator):
    client.force_login(coordinator)
    upload = SimpleUploadedFile("people.csv", b"name,role\nAnn,reviewer\n")

    response = client.post(reverse("people:import"), {"file": upload})

    assert response.status_code == 200
    assert "“Email” not found" in response.content.decode()
    assert InvitationImport.objects.count() == 0


def test_the_same_file_again_is_pointed_out(client, coordinator, countries):
    content = csv_bytes([reviewer_row("a@example.org")])
    first = invitation_import_check(by=coordinator, content=content, file_name="a.csv")
    again = invitation_import_check(by=coordinator, content=content, file_name="a.csv")
    client.force_login(coordinator)

    page = client.get(reverse("people:import_detail", args=[again.pk])).content.decode()

    assert "You uploaded this same file before" in page
    assert reverse("people:import_detail", args=[first.pk]) in page


def test_the_preview_reads_a_bounded_number_of_queries(
    client, admin, countries, theme, django_assert_max_num_queries
):
    small = check(admin, [reviewer_row("a@example.org", themes=theme.name)])
    large = check(admin, [reviewer_row(f"p{n}@example.org", themes=theme.name) for n in range(5)])
    client.force_login(admin)
    client.get(reverse("people:import_detail", args=[small.pk]))  # session, site: warm

    with django_assert_max_num_queries(12) as small_queries:
        client.get(reverse("people:import_detail", args=[small.pk]))
    with django_assert_max_num_queries(12) as large_queries:
        client.get(reverse("people:import_detail", args=[large.pk]))

    assert len(large_queries) == len(small_queries)


# --- who may do what -----------------------------------------------------------------------


def urls(batch_pk):
    return {
        "import": (reverse("people:import"), "get"),
        "template": (reverse("people:import_template", args=["xlsx"]), "get"),
        "detail": (reverse("people:import_detail", args=[batch_pk]), "get"),
        "progress": (reverse("people:import_progress", args=[batch_pk]), "get"),
        "report": (reverse("people:import_report", args=[batch_pk]), "get"),
        "confirm": (reverse("people:import_confirm", args=[batch_pk]), "post"),
    }


@pytest.fixture
def coordinators_import(coordinator, countries):
    return check(coordinator, [reviewer_row("a@example.org")])


@pytest.mark.parametrize("page", ["import", "template", "detail", "progress", "report", "confirm"])
def test_anonymous_people_are_sent_to_sign_in(client, coordinators_import, page):
    url, method = urls(coordinators_import.pk)[page]

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("who", ["nominator", "reviewer"])
@pytest.mark.parametrize("page", ["import", "template"])
def test_nominators_and_reviewers_may_not_import(client, request, coordinators_import, who, page):
    client.force_login(request.getfixturevalue(who))
    url, method = urls(coordinators_import.pk)[page]

    assert getattr(client, method)(url).status_code == 403
    assert Invitation.objects.count() == 0


@pytest.mark.parametrize("who", ["coordinator", "lead", "admin"])
@pytest.mark.parametrize("page", ["import", "template"])
def test_coordinators_leads_and_admins_may_import(client, request, who, page):
    client.force_login(request.getfixturevalue(who))
    url, _method = urls(0)[page]

    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    "who", ["nominator", "reviewer", "other_coordinator", "lead", "other_lead"]
)
@pytest.mark.parametrize("page", ["detail", "progress", "report", "confirm"])
def test_nobody_else_sees_a_coordinators_import(client, request, coordinators_import, who, page):
    client.force_login(request.getfixturevalue(who))
    url, method = urls(coordinators_import.pk)[page]

    assert getattr(client, method)(url).status_code == 404
    assert Invitation.objects.count() == 0


@pytest.mark.parametrize("page", ["detail", "progress", "report"])
def test_the_uploader_and_admins_see_an_import(
    client, coordinator, admin, coordinators_import, page
):
    url, _method = urls(coordinators_import.pk)[page]
    for person in (coordinator, admin):
        client.force_login(person)
        assert client.get(url).status_code == 200


def test_only_the_uploader_confirms_an_import(client, coordinator, admin, coordinators_import):
    url, _method = urls(coordinators_import.pk)["confirm"]
    client.force_login(admin)
    page = client.get(reverse("people:import_detail", args=[coordinators_import.pk]))
    assert url not in page.content.decode()

    assert client.post(url).status_code == 403
    assert Invitation.objects.count() == 0

    client.force_login(coordinator)
    assert client.post(url).status_code == 302
    assert Invitation.objects.get().inviter == coordinator


def test_a_coordinator_lists_only_their_own_imports(
    client, coordinator, other_coordinator, admin, countries
):
    own = check(coordinator, [reviewer_row("a@example.org")])
    theirs = check(other_coordinator, [reviewer_row("b@example.org", country="FR")])
    theirs.file_name = "theirs.csv"
    theirs.save(update_fields=["file_name"])

    client.force_login(coordinator)
    page = client.get(reverse("people:import")).content.decode()
    client.force_login(admin)
    admins_page = client.get(reverse("people:import")).content.decode()

    assert reverse("people:import_detail", args=[own.pk]) in page
    assert reverse("people:import_detail", args=[theirs.pk]) not in page
    assert reverse("people:import_detail", args=[theirs.pk]) in admins_page
