"""Inviting people in bulk from a spreadsheet: the template, the check, the preview, the run.

1. ``import_template`` gives the columns in the person's language (CSV or Excel).
2. ``invitation_import_check`` reads an upload (CSV with ``,`` or ``;``, with or without
   Excel's byte order mark, or XLSX), checks every row and stores what each would do as
   an ``InvitationImport``: nothing is sent.
3. ``invitation_import_confirm`` carries the valid rows out, each through
   ``invitation_create`` and each once: inline for a small file, in a Celery task
   (``invitation_import_run``) for a large one.

Idempotency rests on two things: the service keeps one pending invitation per address,
role, country and call (inviting again returns it), and each row is marked done in the
same transaction as its invitation, under a row lock, so a second confirm, a redelivered
task or a second worker skips it.
"""

import csv
import hashlib
import io
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nominations.models import (
    Call,
    Country,
    Invitation,
    InvitationImport,
    InvitationImportRow,
    Theme,
)
from nominations.permissions import may_invite

from .people import (
    InvitationError,
    account_for_email,
    email_normalise,
    holds_role,
    invitation_create,
    is_deactivated,
)

#: Files with more valid rows than this are carried out by a Celery task, with progress.
INLINE_ROWS = 50
#: The most rows one file may hold, and its largest size: a person's list, not a database.
MAX_ROWS = 1000
MAX_BYTES = 2 * 1024 * 1024
#: A running import with no row done for this long has lost its task and may be resumed.
STALLED_AFTER = timedelta(minutes=5)

#: The columns of the template, in order, with their headers (in the reader's language).
COLUMNS = {
    "email": gettext_lazy("Email"),
    "name": gettext_lazy("name"),
    "role": gettext_lazy("role"),
    "country": gettext_lazy("country code"),
    "call": gettext_lazy("call"),
    "language": gettext_lazy("language"),
    "organisation": gettext_lazy("organisation"),
    "themes": gettext_lazy("expertise themes"),
}
#: Other headers read as a column, in every interface language too.
HEADER_ALIASES = {
    "email": [gettext_lazy("email address"), "e-mail", "mail"],
    "country": [gettext_lazy("country")],
    "themes": ["themes", "expertise"],
}
Role = Invitation.Role
#: Other names a role may be written as, besides its key and its label (translated too).
ROLE_ALIASES = {
    Role.REVIEWER: [gettext_lazy("reviewer")],
    Role.COORDINATOR: [gettext_lazy("coordinator")],
    Role.LEAD: [gettext_lazy("Lead"), gettext_lazy("call lead")],
}
#: Which role needs, allows or forbids a country and a call.
ROLE_NEEDS = {
    Role.REVIEWER: {"country": "required", "call": "optional"},
    Role.COORDINATOR: {"country": "required", "call": "forbidden"},
    Role.LEAD: {"country": "forbidden", "call": "required"},
}
THEME_SEPARATOR = ";"

Outcome = InvitationImportRow.Outcome


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message says why, in the reader's language."""


# --- who may see what ---------------------------------------------------------------------


def may_see_import(*, user, batch):
    """Admins see every import; everyone else only their own."""
    return user.is_authenticated and (user.is_staff or batch.uploaded_by_id == user.pk)


# --- reading a file -----------------------------------------------------------------------


def _normal(text):
    """A header or a name as compared: accents kept, case and spacing ignored."""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return " ".join(text.replace("*", " ").replace(":", " ").split())


def _in_every_language(texts):
    """Each text as each interface language writes it, normalised."""
    words = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            words.update(_normal(text) for text in texts)
    return words


def header_keys():
    """Every header a column may have, in every interface language: ``{header: key}``."""
    keys = {}
    for key, header in COLUMNS.items():
        for word in _in_every_language([header, key, *HEADER_ALIASES.get(key, [])]):
            keys.setdefault(word, key)
    return keys


def role_keys():
    """Every way of writing a role, in every interface language: ``{name: role}``."""
    keys = {}
    for role in Role:
        for word in _in_every_language([role.value, role.label, *ROLE_ALIASES[role]]):
            keys.setdefault(word, role.value)
    return keys


def role_name(role):
    """A role's name in the active language."""
    return str(Role(role).label) if role in Role.values else role


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a call's id typed into Excel comes back as 3.0
    return str(value).strip()


def _read_csv(content):
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _(
                "The file is not in UTF-8. In your spreadsheet program, save it as "
                "“CSV UTF-8” (or as an Excel workbook) and upload it again."
            )
        ) from error
    first_line = text.split("\n", 1)[0]
    # Excel writes ";" where the decimal separator is a comma (most of Europe), "," elsewhere.
    delimiter = max([",", ";", "\t"], key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return [(reader.line_num, row) for row in reader]


def _read_xlsx(content):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise ImportFileError(_("The Excel file cannot be read: is it damaged?")) from error
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            rows.append((number, [_cell_text(value) for value in values]))
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        workbook.close()


def read_rows(*, content, file_name=""):
    """The file's data rows as ``[(number, {key: text})]``; raises ``ImportFileError``.

    An Excel workbook (its first sheet) or a CSV file; the header row names the columns,
    in any interface language or in English, in any order; empty rows are skipped.
    """
    if len(content) > MAX_BYTES:
        raise ImportFileError(_("The file is larger than 2 MB."))
    if content[:4] == b"PK\x03\x04":  # a ZIP archive: an XLSX workbook
        lines = _read_xlsx(content)
    elif file_name.lower().endswith((".xlsx", ".xls", ".ods")):
        raise ImportFileError(
            _("Upload an Excel workbook (.xlsx) or a CSV file; this file is neither.")
        )
    else:
        lines = _read_csv(content)
    lines = [(number, cells) for number, cells in lines if any(_cell_text(c) for c in cells)]
    if not lines:
        raise ImportFileError(_("The file is empty."))
    known = header_keys()
    _number, header = lines[0]
    columns = [known.get(_normal(cell)) for cell in header]
    missing = [key for key in ("email", "role") if key not in columns]
    if missing:
        raise ImportFileError(
            _(
                "The first row must name the columns; %(missing)s not found. "
                "Download the template to see them."
            )
            % {"missing": ", ".join(f"“{COLUMNS[key]}”" for key in missing)}
        )
    repeated = [key for key, times in Counter(c for c in columns if c).items() if times > 1]
    if repeated:
        raise ImportFileError(
            _("The column “%(column)s” appears twice.") % {"column": COLUMNS[repeated[0]]}
        )
    data = lines[1:]
    if len(data) > MAX_ROWS:
        raise ImportFileError(
            _("The file has more than %(most)d rows: split it into smaller files.")
            % {"most": MAX_ROWS}
        )
    rows = []
    for number, cells in data:
        values = dict.fromkeys(COLUMNS, "")
        for key, cell in zip(columns, cells, strict=False):
            if key:
                values[key] = _cell_text(cell)
        rows.append((number, values))
    return rows


# --- checking rows ------------------------------------------------------------------------


@dataclass
class _Lookups:
    """What checking every row needs from the database, read once per file."""

    countries: dict
    calls_by_id: dict
    calls_by_title: dict
    themes: dict
    roles: dict
    languages: set


def _lookups():
    countries = {c.code.upper(): c for c in Country.objects.all()}
    calls = list(Call.objects.all())
    by_title = {}
    title_fields = [f"title_{code}" for code, _name in settings.LANGUAGES]
    for call in calls:
        for title in {getattr(call, field, None) or "" for field in title_fields} - {""}:
            by_title.setdefault(_normal(title), set()).add(call)
    themes = {}
    name_fields = [f"name_{code}" for code, _name in settings.LANGUAGES]
    for theme in Theme.objects.all():
        for name in {getattr(theme, field, None) or "" for field in name_fields} - {""}:
            themes.setdefault(_normal(name), theme)
    return _Lookups(
        countries=countries,
        calls_by_id={str(call.pk): call for call in calls},
        calls_by_title=by_title,
        themes=themes,
        roles=role_keys(),
        languages={code for code, _name in settings.LANGUAGES},
    )


def _error(code, **params):
    return {"code": code, "params": params}


def _check_row(values, lookups, *, by):
    """(the row's fields, its errors) from its cells, without the database's state."""
    fields = {
        # As long as an address may be; a longer cell is not one (and is kept in ``cells``).
        "email": email_normalise(values["email"])[:254],
        "name": values["name"][:200],
        "role": "",
        "country": None,
        "call": None,
        "language": "",
        "organisation": values["organisation"][:200],
        "theme_ids": [],
    }
    errors = []
    if not values["email"]:
        errors.append(_error("missing", column="email"))
    else:
        try:
            validate_email(fields["email"])
        except ValidationError:
            errors.append(_error("bad_email", value=values["email"]))
    if not values["role"]:
        errors.append(_error("missing", column="role"))
    else:
        fields["role"] = lookups.roles.get(_normal(values["role"]), "")
        if not fields["role"]:
            errors.append(_error("unknown_role", value=values["role"]))
    if values["country"]:
        fields["country"] = lookups.countries.get(values["country"].strip().upper())
        if fields["country"] is None:
            errors.append(_error("unknown_country", value=values["country"]))
    if values["call"]:
        call_text = values["call"].strip()
        calls = lookups.calls_by_title.get(_normal(call_text), set())
        call = lookups.calls_by_id.get(call_text.removeprefix("#"))
        if call is None and len(calls) == 1:
            (call,) = calls
        if call is not None:
            fields["call"] = call
        elif calls:
            errors.append(_error("ambiguous_call", value=call_text))
        else:
            errors.append(_error("unknown_call", value=call_text))
    if values["language"]:
        language = values["language"].strip().lower()
        if language in lookups.languages:
            fields["language"] = language
        else:
            errors.append(_error("unknown_language", value=values["language"]))
    for name in filter(None, (n.strip() for n in values["themes"].split(THEME_SEPARATOR))):
        theme = lookups.themes.get(_normal(name))
        if theme is None:
            errors.append(_error("unknown_theme", value=name))
        elif theme.pk not in fields["theme_ids"]:
            fields["theme_ids"].append(theme.pk)
    role = fields["role"]
    if role:
        for column in ("country", "call"):
            need = ROLE_NEEDS[role][column]
            if need == "required" and not values[column]:
                errors.append(_error("missing_for_role", column=column, role=role))
            elif need == "forbidden" and values[column]:
                errors.append(_error("extra_for_role", column=column, role=role))
        if not errors and not may_invite(
            user=by, role=role, country=fields["country"], call=fields["call"]
        ):
            code = "not_allowed_reviewer" if role == Role.REVIEWER else "not_allowed_role"
            errors.append(_error(code, role=role))
    return fields, errors


def _pending_keys(rows):
    """``{(email, role, country_id, call_id)}`` of the invitations pending for these rows."""
    pending = Invitation.objects.filter(
        email__in={row.email for row in rows},
        status=Invitation.Status.PENDING,
        expires_at__gt=timezone.now(),
    ).values_list("email", "role", "country_id", "call_id")
    return set(pending)


def rows_plan(rows):
    """Fill in each unsaved row's ``planned`` outcome and ``errors`` from today's state.

    The same rules as ``invitation_create``'s, read rather than written: an address whose
    account holds the role already is an error; a pending invitation means nothing new.
    """
    for row in rows:
        if row.errors:
            row.planned = Outcome.ERROR
    valid = [row for row in rows if not row.errors]
    pending = _pending_keys(valid)
    accounts = {}
    seen = {}
    for row in valid:
        key = (row.email, row.role, row.country_id, row.call_id)
        if row.email not in accounts:
            accounts[row.email] = account_for_email(row.email)
        account = accounts[row.email]
        if key in seen:
            row.errors = [_error("duplicate", number=seen[key])]
        elif is_deactivated(account):
            row.errors = [_error("deactivated")]
        elif account is not None and holds_role(
            user=account, role=row.role, country=row.country, call=row.call
        ):
            row.errors = [_error("has_role", role=row.role)]
        seen.setdefault(key, row.number)
        if row.errors:
            row.planned = Outcome.ERROR
        elif key in pending:
            row.planned = Outcome.ALREADY_INVITED
        elif account is not None:
            row.planned = Outcome.ROLE_ADDED
        else:
            row.planned = Outcome.NEW
    return rows


def row_error_text(error):
    """An error of a row, worded in the active language."""
    params = dict(error.get("params", {}))
    if "column" in params:
        params["column"] = COLUMNS.get(params["column"], params["column"])
    if "role" in params:
        params["role"] = role_name(params["role"])
    texts = {
        "missing": _("“%(column)s” is empty."),
        "bad_email": _("“%(value)s” is not a valid email address."),
        "unknown_role": _(
            "“%(value)s” is not a role: write reviewer, national coordinator or lead."
        ),
        "unknown_country": _("No partner country has the code “%(value)s”."),
        "unknown_call": _("No call has the id or title “%(value)s”."),
        "ambiguous_call": _("Several calls are called “%(value)s”: write the call's id."),
        "unknown_language": _("“%(value)s” is not an interface language (en, sv, fr, es, lv)."),
        "unknown_theme": _("No theme is called “%(value)s”."),
        "missing_for_role": _("The role “%(role)s” needs “%(column)s”."),
        "extra_for_role": _("The role “%(role)s” takes no “%(column)s”: leave it empty."),
        "not_allowed_role": _("You may not give the role “%(role)s”."),
        "not_allowed_reviewer": _(
            "You may invite reviewers only for a country you coordinate or a call you lead."
        ),
        "duplicate": _("The same invitation as row %(number)d."),
        "has_role": _("This person has the role “%(role)s” already."),
        "deactivated": _(
            "This address belongs to an account that has been deactivated; ask an "
            "administrator to reactivate it."
        ),
    }
    if error["code"] == "message":
        return params.get("text", "")
    return texts.get(error["code"], error["code"]) % params


# --- the import's lifecycle ---------------------------------------------------------------


@transaction.atomic
def invitation_import_check(*, by, content, file_name):
    """Read, check and store an upload; nothing is sent. Raises ``ImportFileError``."""
    values_by_row = read_rows(content=content, file_name=file_name)
    lookups = _lookups()
    batch = InvitationImport.objects.create(
        uploaded_by=by,
        file_name=file_name[:255],
        content_hash=hashlib.sha256(content).hexdigest(),
    )
    rows = []
    for number, values in values_by_row:
        fields, errors = _check_row(values, lookups, by=by)
        row = InvitationImportRow(batch=batch, number=number, cells=values, errors=errors)
        row.email, row.name, row.role = fields["email"], fields["name"], fields["role"]
        row.country, row.call = fields["country"], fields["call"]
        row.language, row.organisation = fields["language"], fields["organisation"]
        row.theme_ids = fields["theme_ids"]
        rows.append(row)
    InvitationImportRow.objects.bulk_create(rows_plan(rows))
    return batch


def same_file_imports(*, batch):
    """The uploader's earlier imports of the very same file, newest first."""
    return InvitationImport.objects.filter(
        uploaded_by_id=batch.uploaded_by_id, content_hash=batch.content_hash
    ).exclude(pk=batch.pk)


def import_counts(*, batch):
    """``{outcome: rows}`` planned, plus ``total``, ``valid`` and ``done`` (carried out)."""
    counts = batch.rows.aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(done_at__isnull=False)),
        **{outcome.value: Count("pk", filter=Q(planned=outcome)) for outcome in Outcome},
    )
    counts["valid"] = counts["total"] - counts[Outcome.ERROR.value]
    return counts


def import_stalled(*, batch, now=None):
    """Whether a running import has done no row for ``STALLED_AFTER``: its task was lost
    (the broker was down when it was queued, say) and it may be resumed."""
    if batch.status != InvitationImport.Status.RUNNING:
        return False
    last = batch.rows.aggregate(last=Max("done_at"))["last"] or batch.confirmed_at
    return last < (now or timezone.now()) - STALLED_AFTER


def _run_queue(batch_id):
    """Hand the run to a worker once the transaction commits.

    ``robust``: a broker that is down is logged and leaves the import running with
    nothing done, which ``import_stalled`` then offers to resume; the person's
    confirmation, already committed, is not turned into an error page.
    """
    from ..tasks import invitation_import_run as run_task

    def invitation_import_queue():  # named: Django logs a robust callback's failure by name
        run_task.delay(batch_id)

    transaction.on_commit(invitation_import_queue, robust=True)


def invitation_import_confirm(*, batch_id, by):
    """Carry out an import's valid rows: inline when few, else in a task. Safe twice.

    Returns False when the import was already confirmed (nothing more is done), except
    that a stalled import (``import_stalled``) is queued again: its rows done stay done.
    """
    with transaction.atomic():
        batch = InvitationImport.objects.select_for_update().get(pk=batch_id)
        if import_stalled(batch=batch):
            _run_queue(batch.pk)
            return True
        if batch.status != InvitationImport.Status.CHECKED:
            return False
        batch.status = InvitationImport.Status.RUNNING
        batch.confirmed_at = timezone.now()
        batch.save(update_fields=["status", "confirmed_at"])
        large = batch.rows.exclude(planned=Outcome.ERROR).count() > INLINE_ROWS
        if large:
            _run_queue(batch.pk)
    if not large:
        invitation_import_run(batch_id=batch.pk)
    return True


def _row_carry_out(*, row_id, by):
    """Invite one row, once: its invitation and its done marker are one transaction."""
    with transaction.atomic():
        row = (
            # Only the row is locked: its country and call may be absent (outer joins).
            InvitationImportRow.objects.select_for_update(of=("self",))
            .select_related("country", "call")
            .filter(pk=row_id, done_at__isnull=True)
            .first()
        )
        if row is None:
            return  # done already, by an earlier run or another worker
        had_account = account_for_email(row.email) is not None
        try:
            with transaction.atomic():
                invitation, created = invitation_create(
                    by=by,
                    email=row.email,
                    role=row.role,
                    country=row.country,
                    call=row.call,
                    language=row.language or None,
                )
        except InvitationError as error:
            row.result, row.result_message = Outcome.ERROR, str(error)
        else:
            row.invitation = invitation
            if not created:
                row.result = Outcome.ALREADY_INVITED
            else:
                row.result = Outcome.ROLE_ADDED if had_account else Outcome.NEW
        row.done_at = timezone.now()
        row.save(update_fields=["result", "result_message", "invitation", "done_at"])


def invitation_import_run(*, batch_id):
    """Carry out every valid row not yet done; finish the import. Safe to run twice.

    Returns how many rows this run carried out (0 when the import is not running).
    """
    batch = InvitationImport.objects.filter(pk=batch_id).select_related("uploaded_by").first()
    if batch is None or batch.status != InvitationImport.Status.RUNNING:
        return 0
    pending = list(
        batch.rows.filter(done_at__isnull=True)
        .exclude(planned=Outcome.ERROR)
        .values_list("pk", flat=True)
    )
    # Each invitation is written in the uploader's language unless its row names one.
    for row_id in pending:
        _row_carry_out(row_id=row_id, by=batch.uploaded_by)
    if not batch.rows.filter(done_at__isnull=True).exclude(planned=Outcome.ERROR).exists():
        InvitationImport.objects.filter(pk=batch.pk, status=InvitationImport.Status.RUNNING).update(
            status=InvitationImport.Status.DONE, finished_at=timezone.now()
        )
    return len(pending)


# --- files for the person -----------------------------------------------------------------


def template_headers():
    return [str(header) for header in COLUMNS.values()]


def row_result_text(row):
    """What was done with a row, in the active language; empty while it waits."""
    if row.planned == Outcome.ERROR:
        return _("Error")
    if row.done_at is None:
        return ""
    return {
        Outcome.NEW: _("Invited"),
        Outcome.ROLE_ADDED: _("Role added"),
        Outcome.ALREADY_INVITED: _("Already invited"),
        Outcome.ERROR: _("Error"),
    }[row.result]


def report_table(*, batch):
    """(headers, rows) of what an import did, row by row, in the active language."""
    headers = [_("Row"), *template_headers(), _("Planned"), _("Result"), _("Message")]
    table = [
        [
            row.number,
            *[row.cells.get(key, "") for key in COLUMNS],
            row.get_planned_display(),
            row_result_text(row),
            row.result_message or "; ".join(row_error_text(e) for e in row.errors),
        ]
        for row in batch.rows.all()
    ]
    return headers, table
