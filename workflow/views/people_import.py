"""Inviting people from a spreadsheet: the template, the upload and its preview, the run.

Admins, national coordinators and call leads may import (``may_invite_anyone``); which
rows they may give is decided row by row (``may_invite``). Everyone else gets 403 on the
upload page and the template. An import is seen by its uploader and by admins only (404
for anyone else, whatever their role), and confirmed by its uploader only: the
invitations are theirs.
"""

import csv
import io

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from nominations.models import Call, Country, Invitation, InvitationImport, Theme
from nominations.permissions import may_invite_anyone

from ..exports import _safe_cell
from ..services.people_import import (
    COLUMNS,
    MAX_BYTES,
    ImportFileError,
    Outcome,
    import_counts,
    import_stalled,
    invitation_import_check,
    invitation_import_confirm,
    may_see_import,
    report_table,
    row_error_text,
    row_result_text,
    same_file_imports,
    template_headers,
)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet"),
        help_text=gettext_lazy(
            "An Excel workbook (.xlsx) or a CSV file, at most 2 MB, with the template's columns."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB."))
        return upload


def _importer(request):
    """The signed-in person, if they may import; 403 otherwise."""
    if not may_invite_anyone(request.user):
        raise PermissionDenied
    return request.user


def _batch(request, batch_pk):
    """An import the person may see (their own, or any for an admin); 404 otherwise, to
    everyone else alike: nobody learns that someone else's import exists."""
    batch = get_object_or_404(InvitationImport.objects.select_related("uploaded_by"), pk=batch_pk)
    if not may_see_import(user=request.user, batch=batch):
        raise Http404
    return batch


@login_required
def import_start(request):
    """Upload a spreadsheet; it is checked and previewed, nothing is sent yet."""
    user = _importer(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = invitation_import_check(
                by=user, content=upload.read(), file_name=upload.name or ""
            )
        except ImportFileError as error:
            form.add_error("file", str(error))
        else:
            return redirect("people:import_detail", batch_pk=batch.pk)
    imports = InvitationImport.objects.select_related("uploaded_by")
    if not user.is_staff:
        imports = imports.filter(uploaded_by=user)
    return render(
        request,
        "people/import_start.html",
        {"form": form, "imports": imports[:20], "columns": template_headers()},
    )


def _calls_for(user):
    calls = Call.objects.order_by("-opens_at", "pk")
    if user.is_staff or user.coordinated_countries.exists():
        return calls
    return calls.filter(leads=user)


def _template_lists(user):
    """The values each column accepts, for the template's second sheet."""
    roles = [Invitation.Role.REVIEWER.label]
    if user.is_staff:
        roles = [str(label) for label in Invitation.Role.labels]
    return [
        (COLUMNS["role"], [str(role) for role in roles]),
        (
            COLUMNS["country"],
            [f"{c.code} ({c.name})" for c in Country.objects.order_by("code")],
        ),
        (COLUMNS["call"], [f"{call.pk}: {call.title}" for call in _calls_for(user)]),
        (COLUMNS["language"], ["en", "sv", "fr", "es", "lv"]),
        (COLUMNS["themes"], [theme.name for theme in Theme.objects.order_by("pk")]),
    ]


def _template_xlsx(user):
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Invitations")[:31]
    sheet.append(template_headers())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in "ABCDEFGH":
        sheet.column_dimensions[column].width = 24
    lists = workbook.create_sheet(_("Accepted values")[:31])
    for index, (header, values) in enumerate(_template_lists(user), start=1):
        lists.cell(row=1, column=index, value=str(header)).font = Font(bold=True)
        for number, value in enumerate(values, start=2):
            lists.cell(row=number, column=index, value=_safe_cell(str(value)))
        lists.column_dimensions[lists.cell(row=1, column=index).column_letter].width = 30
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _csv_for_reader(headers, rows=()):
    """CSV as the person's spreadsheet program opens it: a byte order mark for UTF-8, ";"
    between columns where the decimal separator is a comma (Excel's list separator there),
    and text that a spreadsheet would run as a formula kept as text."""
    out = io.StringIO()
    out.write("\ufeff")
    delimiter = ";" if formats.get_format("DECIMAL_SEPARATOR") == "," else ","
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(headers)
    writer.writerows([_safe_cell(value) for value in row] for row in rows)
    return out.getvalue().encode()


@require_GET
@login_required
def import_template(request, file_format):
    """The empty template, its headers in the person's language (CSV or Excel)."""
    user = _importer(request)
    name = f"nomflow-invitations-{get_language()}.{file_format}"
    if file_format == "xlsx":
        response = HttpResponse(_template_xlsx(user), content_type=XLSX_TYPE)
    else:
        response = HttpResponse(
            _csv_for_reader(template_headers()), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def import_detail(request, batch_pk):
    """The preview before confirming, the progress while it runs, the report when done."""
    batch = _batch(request, batch_pk)
    rows = list(batch.rows.select_related("country", "call"))
    themes = Theme.objects.in_bulk({pk for row in rows for pk in row.theme_ids})
    for row in rows:
        row.error_texts = [row_error_text(error) for error in row.errors]
        row.result_text = row_result_text(row)
        row.theme_names = [themes[pk].name for pk in row.theme_ids if pk in themes]
    counts = import_counts(batch=batch)
    running = batch.status == InvitationImport.Status.RUNNING
    return render(
        request,
        "people/import_detail.html",
        {
            "batch": batch,
            "rows": rows,
            "counts": counts,
            "outcomes": [(o.value, o.label, counts[o.value]) for o in Outcome],
            "running": running,
            "may_confirm": batch.status == InvitationImport.Status.CHECKED
            and batch.uploaded_by_id == request.user.pk
            and counts["valid"] > 0,
            "earlier": list(same_file_imports(batch=batch)[:5]),
            "may_resume": batch.uploaded_by_id == request.user.pk and import_stalled(batch=batch),
        },
    )


@require_POST
@login_required
def import_confirm(request, batch_pk):
    """Invite every valid row, once; inline for a small file, in the background otherwise."""
    batch = _batch(request, batch_pk)
    if batch.uploaded_by_id != request.user.pk:
        raise PermissionDenied
    if invitation_import_confirm(batch_id=batch.pk, by=request.user):
        batch.refresh_from_db(fields=["status"])
        if batch.status == InvitationImport.Status.DONE:
            messages.success(request, _("The invitations are made: see the report below."))
        else:
            messages.info(request, _("The invitations are being sent; this page follows them."))
    else:
        messages.info(request, _("This list was confirmed already: nobody is invited twice."))
    return redirect("people:import_detail", batch_pk=batch.pk)


@require_GET
@login_required
def import_progress(request, batch_pk):
    """How far an import has come, for a page that follows it: rows done of rows to do."""
    batch = _batch(request, batch_pk)
    counts = import_counts(batch=batch)
    return JsonResponse({"status": batch.status, "done": counts["done"], "total": counts["valid"]})


@require_GET
@login_required
def import_report(request, batch_pk):
    """What the import did (or plans), row by row, as CSV in the person's language."""
    batch = _batch(request, batch_pk)
    headers, rows = report_table(batch=batch)
    stamp = timezone.localtime(batch.created_at).strftime("%Y%m%d-%H%M")
    response = HttpResponse(_csv_for_reader(headers, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="nomflow-invitations-report-{batch.pk}-{stamp}.csv"'
    )
    return response


__all__ = [
    "import_confirm",
    "import_detail",
    "import_progress",
    "import_report",
    "import_start",
    "import_template",
]
