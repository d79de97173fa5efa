"""A call's export page: the CSV at once, the Excel file built in the background.

Who may export a call, and what they get, is ``exports.exportable_nominations``'s rule.
An Excel file is followed and downloaded only by the person who asked for it, and by
admins; anyone else gets a 404, as for a call they may not export.
"""

import os
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from nominations.models import Call

from ..exports import (
    export_request,
    export_visible_or_denied,
    exportable_nominations,
    exports_of,
)
from ..models import ExportFile

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@require_http_methods(["GET", "POST"])
@login_required
def call_exports(request, call_pk):
    """The export page; a POST asks for an Excel file (or finds the one being built)."""
    call = get_object_or_404(Call, pk=call_pk)
    try:
        if request.method == "POST":
            _export, created = export_request(call=call, user=request.user)
            if created:
                messages.success(
                    request,
                    _("Your Excel file is being prepared. We will tell you when it is ready."),
                )
            else:
                messages.info(request, _("Your Excel file is already being prepared."))
            return redirect("nominations:exports", call_pk=call.pk)
        exportable_nominations(call=call, user=request.user)
    except PermissionDenied as denied:
        raise Http404 from denied
    exports = list(exports_of(call=call, user=request.user)[:5])
    building = next((export for export in exports if export.is_active), None)
    return render(
        request,
        "nominations/call_exports.html",
        {"call": call, "exports": exports, "building": building},
    )


@require_GET
@login_required
def export_progress(request, pk):
    """How far an Excel export is, as JSON for the page's progress bar."""
    export = _visible_or_404(request, pk)
    data = {
        "status": export.status,
        "status_label": export.get_status_display(),
        "rows_done": export.rows_done,
        "rows_total": export.rows_total,
        "percent": export.percent,
    }
    if export.status == ExportFile.Status.READY:
        data["download_url"] = reverse("nominations:export_download", args=[export.pk])
    return JsonResponse(data)


@require_GET
@login_required
def export_download(request, pk):
    """The Excel file, once built, as a download; never shown inline or sniffed."""
    export = _visible_or_404(request, pk)
    if export.status != ExportFile.Status.READY or not export.file:
        raise Http404
    if settings.ATTACHMENT_SERVE == "x-accel":
        response = HttpResponse(content_type=XLSX_TYPE)
        response["X-Accel-Redirect"] = settings.ATTACHMENT_ACCEL_PREFIX + quote(export.file.name)
    else:
        response = FileResponse(export.file.open("rb"), content_type=XLSX_TYPE)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=os.path.basename(export.file.name)
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _visible_or_404(request, pk):
    try:
        return export_visible_or_denied(export_id=pk, user=request.user)
    except PermissionDenied as denied:
        raise Http404 from denied
