import uuid
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.forms.models import model_to_dict
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET

from nominations.forms import NominationForm, PracticeTranslationForm, PublicPracticeForm
from nominations.models import Attachment, Call, Nomination, NominationEvent, PublishedPractice
from nominations.pagination import page_by_number
from nominations.selectors import (
    exportable_calls,
    nomination_history_for,
    open_calls,
    survey_answer_rows,
)
from nominations.services import (
    TRANSLATED_FIELDS,
    NominationError,
    PublicTextChanged,
    nomination_attach,
    nomination_create,
    nomination_missing,
    nomination_update,
    practice_draft,
    practice_publishable,
    practice_translation_draft,
    practice_translation_save,
    practice_version,
)

from . import selectors as workflow_selectors
from .charts import nomination_flow_svg
from .exports import call_export_table, csv_chunks
from .selectors import my_nominations, next_due_subquery, nomination_timeline
from .services import (
    TaskUnavailable,
    nomination_resubmit,
    nomination_submit,
    practice_public_save,
)


@login_required
def call_list(request):
    calls = open_calls(now=timezone.now())
    return render(request, "nominations/call_list.html", {"calls": calls})


#: Rows on one page of the nominator's and the staff roles' lists of nominations.
NOMINATIONS_PAGE_SIZE = 50

#: How "Nominations I follow" may be sorted: (label, order), the first the default.
OVERVIEW_SORTS = {
    "submitted": (_lazy("Newest submitted first"), ("-submitted_at", "-created_at", "-pk")),
    "due": (_lazy("Next due first"), (F("next_due").asc(nulls_last=True), "-pk")),
    "title": (_lazy("Title"), ("title", "pk")),
}


@login_required
def nomination_list(request):
    return render(
        request,
        "nominations/nomination_list.html",
        {
            "nominations": page_by_number(
                my_nominations(user=request.user),
                number=request.GET.get("page"),
                per_page=NOMINATIONS_PAGE_SIZE,
            ),
            "now": timezone.now(),
        },
    )


@login_required
def nomination_overview(request):
    """Every nomination the person may see in a staff role, with its stage and next deadline.

    A page at a time, filtered by stage and sorted as chosen; the filter and the sort stay
    in the links to the other pages.
    """
    stage = request.GET.get("stage", "")
    sort = request.GET.get("sort", "")
    if sort not in OVERVIEW_SORTS:
        sort = next(iter(OVERVIEW_SORTS))
    nominations = (
        workflow_selectors.nominations_visible_to(user=request.user)
        .exclude(nominator=request.user)
        .select_related("call", "country")
        .annotate(next_due=next_due_subquery())
        .order_by(*OVERVIEW_SORTS[sort][1])
    )
    stages = [(value, label) for value, label in Nomination.Stage.choices if value != "draft"]
    if stage in dict(stages):
        nominations = nominations.filter(stage=stage)
    else:
        stage = ""
    return render(
        request,
        "nominations/nomination_overview.html",
        {
            "nominations": page_by_number(
                nominations, number=request.GET.get("page"), per_page=NOMINATIONS_PAGE_SIZE
            ),
            "stage": stage,
            "stages": stages,
            "sort": sort,
            "sorts": [(value, label) for value, (label, _order) in OVERVIEW_SORTS.items()],
            "now": timezone.now(),
            "exportable_calls": exportable_calls(user=request.user),
        },
    )


def _save_from_form(request, form, *, call, nomination=None):
    """Save the draft (and attachment) from a valid form; returns the nomination."""
    with transaction.atomic():
        if nomination is None:
            nomination, created = nomination_create(
                call=call,
                nominator=request.user,
                fields=form.nomination_values(),
                themes=form.cleaned_data["themes"],
                survey_answers=form.survey_answers(),
                client_token=form.cleaned_data.get("client_token"),
            )
            if not created:
                messages.info(request, _("This nomination was already saved."))
                return nomination
        else:
            nomination = nomination_update(
                nomination=nomination,
                by=request.user,
                fields=form.nomination_values(),
                themes=form.cleaned_data["themes"],
                survey_answers=form.survey_answers(),
            )
        upload = form.cleaned_data.get("attachment")
        if upload:
            nomination_attach(
                nomination=nomination,
                by=request.user,
                upload=upload,
                content_type=upload.checked_content_type,
            )
    return nomination


def _handle_nomination_form(request, *, call, nomination=None):
    submitting = request.method == "POST" and "submit" in request.POST
    # Read before the form copies what was typed onto the instance: the section list
    # tells what the saved draft lacks.
    missing = nomination_missing(nomination) if nomination else None
    form = NominationForm(
        request.POST or None,
        request.FILES or None,
        instance=nomination,
        call=call,
        submitting=submitting,
        initial={"client_token": uuid.uuid4()} if nomination is None else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            nomination = _save_from_form(request, form, call=call, nomination=nomination)
        except NominationError as error:
            form.add_error(None, str(error))
        else:
            if not submitting:
                messages.success(request, _("Your draft is saved."))
                return redirect("nominations:detail", pk=nomination.pk)
            try:
                _submit(request, nomination)
            except (NominationError, TaskUnavailable) as error:
                # The draft is saved with everything typed; say what stops submission.
                messages.error(request, str(error))
                return redirect("nominations:edit", pk=nomination.pk)
            return redirect("nominations:detail", pk=nomination.pk)
    elif request.method == "POST":
        messages.error(request, _("Please correct the errors below; nothing you typed is lost."))
        if request.FILES:
            form.add_error("attachment", _("Please choose the file again."))
    changes = (
        nomination.events.filter(action=NominationEvent.Action.CHANGES_REQUESTED)
        if nomination
        else None
    )
    return render(
        request,
        "nominations/nomination_form.html",
        {
            "form": form,
            "sections": form.sections(missing=missing),
            "call": call,
            "nomination": nomination,
            "changes_message": changes.last().message
            if nomination
            and nomination.stage == Nomination.Stage.CHANGES_REQUESTED
            and changes.exists()
            else "",
        },
    )


def _submit(request, nomination):
    """Submit a draft, or resubmit after requested changes."""
    if nomination.stage == Nomination.Stage.CHANGES_REQUESTED:
        task = workflow_selectors.open_tasks_for(user=request.user).filter(
            process__nominationprocess__nomination=nomination
        )
        task = task.first()
        if task is None:
            raise NominationError(_("This nomination is not waiting for your changes."))
        nomination_resubmit(task_id=task.pk, by=request.user)
        messages.success(request, _("Your changes are sent; national screening starts again."))
    else:
        nomination_submit(nomination=nomination, by=request.user)
        messages.success(request, _("Your nomination is submitted. You can follow it here."))


@login_required
def nomination_create_view(request, call_pk):
    call = get_object_or_404(Call, pk=call_pk)
    if not call.is_open():
        messages.error(request, _("This call is closed; nominations can no longer be made."))
        return redirect("nominations:calls")
    return _handle_nomination_form(request, call=call)


@login_required
def nomination_edit(request, pk):
    nomination = get_object_or_404(Nomination.objects.select_related("call"), pk=pk)
    if nomination.nominator_id != request.user.pk:
        raise Http404
    if not nomination.is_editable_by_nominator:
        messages.info(request, _("This nomination is under review and can no longer be edited."))
        return redirect("nominations:detail", pk=pk)
    return _handle_nomination_form(request, call=nomination.call, nomination=nomination)


def _visible_nomination_or_404(request, pk):
    nomination = get_object_or_404(
        Nomination.objects.select_related("call", "country", "nominator"), pk=pk
    )
    role = workflow_selectors.nomination_viewer_role(user=request.user, nomination=nomination)
    if role is None:
        # 404, not 403: a stranger must not learn that the nomination exists.
        raise Http404
    return nomination, role


@login_required
def nomination_detail(request, pk):
    nomination, role = _visible_nomination_or_404(request, pk)
    return render(
        request,
        "nominations/nomination_detail.html",
        {
            "nomination": nomination,
            "viewer_role": role,
            # Reviewers judge the practice, not the person who put it forward.
            "show_contact": role != "reviewer",
            "timeline": nomination_timeline(nomination=nomination),
            "history": nomination_history_for(nomination=nomination, role=role, user=request.user),
            "answers": survey_answer_rows(nomination=nomination),
            "attachments": nomination.attachments.all(),
            "themes": nomination.themes.all(),
            "my_tasks": workflow_selectors.open_tasks_for(user=request.user).filter(
                process__nominationprocess__nomination=nomination
            ),
            # Coordinators may take a review away from someone (a conflict came to light).
            "removable_review_tasks": workflow_selectors.open_review_tasks(nomination=nomination)
            if role in {"coordinator", "admin"}
            else [],
        },
    )


@require_GET
@login_required
def nomination_flow_chart(request, pk):
    nomination, _role = _visible_nomination_or_404(request, pk)
    return HttpResponse(nomination_flow_svg(nomination=nomination), content_type="image/svg+xml")


@require_GET
@login_required
def attachment_download(request, pk, attachment_pk):
    """The only way to read an attachment: MEDIA_ROOT has no URL of its own."""
    nomination, _role = _visible_nomination_or_404(request, pk)
    attachment = get_object_or_404(Attachment, pk=attachment_pk, nomination=nomination)
    return _attachment_response(attachment)


def _attachment_response(attachment):
    """The file as a download under its original name, never shown inline or sniffed.

    With ``ATTACHMENT_SERVE = "x-accel"`` the body is left to nginx, which sends the file
    from its internal location named in ``X-Accel-Redirect`` (docs/operations.md).
    """
    if settings.ATTACHMENT_SERVE == "x-accel":
        response = HttpResponse(content_type=attachment.content_type)
        response["X-Accel-Redirect"] = settings.ATTACHMENT_ACCEL_PREFIX + quote(
            attachment.file.name
        )
    else:
        response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=attachment.original_name
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def practice_public_edit(request, pk):
    """Coordinators keep a selected practice's public text, and publish or unpublish it."""
    nomination, role = _visible_nomination_or_404(request, pk)
    if role not in {"coordinator", "admin"}:
        raise Http404
    practice = practice_draft(nomination)
    form = PublicPracticeForm(request.POST or None, instance=practice)
    action = request.POST.get("action")
    if request.method == "POST" and form.is_valid():
        publish = {"publish": True, "unpublish": False}.get(action)
        try:
            practice_public_save(
                nomination=nomination,
                by=request.user,
                fields=form.cleaned_data,
                publish=publish,
                version=request.POST.get("version"),
            )
        except PublicTextChanged as error:
            # Another coordinator wrote first: show the text as it stands now.
            practice = practice_draft(nomination)
            form = _form_as_it_stands(PublicPracticeForm, practice, error)
        except NominationError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The public text is saved."))
            return redirect("nominations:public", pk=nomination.pk)
    return render(
        request,
        "nominations/practice_public_form.html",
        {
            "nomination": nomination,
            "practice": practice,
            "version": practice_version(practice),
            "form": form,
            "not_publishable": practice_publishable(nomination),
            "translations": _translation_languages(practice),
        },
    )


def _form_as_it_stands(form_class, instance, error):
    """``form_class`` filled with ``instance`` as saved, ``error`` above its fields."""
    form = form_class(model_to_dict(instance, fields=form_class._meta.fields), instance=instance)
    form.is_valid()
    form.add_error(None, str(error))
    return form


def _translation_languages(practice):
    """(code, translation or None) for each interface language but the original's."""
    if practice.pk is None:
        return []
    existing = {t.language: t for t in practice.translations.all()}
    return [
        (code, existing.get(code))
        for code, _name in settings.LANGUAGES
        if code != practice.language
    ]


@login_required
def practice_translation_edit(request, pk, language):
    """Coordinators add, change or take away a translation of a practice's public text."""
    nomination, role = _visible_nomination_or_404(request, pk)
    if role not in {"coordinator", "admin"}:
        raise Http404
    practice = PublishedPractice.objects.filter(nomination=nomination).first()
    if (
        practice is None
        or language == practice.language
        or language not in dict(settings.LANGUAGES)
    ):
        raise Http404
    translation = practice_translation_draft(practice, language)
    form = PracticeTranslationForm(request.POST or None, instance=translation)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in TRANSLATED_FIELDS}
        try:
            practice_translation_save(
                practice=practice,
                language=language,
                by=request.user,
                fields=fields,
                version=request.POST.get("version"),
            )
        except PublicTextChanged as error:
            # Another coordinator wrote first: show the translation as it stands now.
            translation = practice_translation_draft(practice, language)
            form = _form_as_it_stands(PracticeTranslationForm, translation, error)
        except NominationError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The translation is saved."))
            return redirect("nominations:public", pk=nomination.pk)
    return render(
        request,
        "nominations/practice_translation_form.html",
        {
            "nomination": nomination,
            "practice": practice,
            "language": language,
            "version": practice_version(translation),
            "form": form,
        },
    )


@require_GET
@login_required
def call_export(request, call_pk, file_format):
    """A call's nominations as CSV, streamed, as much of them as the person may see.

    The Excel file is built in the background: its address leads to the export page.
    """
    call = get_object_or_404(Call, pk=call_pk)
    if file_format == "xlsx":
        return redirect("nominations:exports", call_pk=call.pk)
    try:
        headers, rows = call_export_table(call=call, user=request.user)
    except PermissionDenied as denied:
        raise Http404 from denied
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(
        csv_chunks(headers, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="nomflow-call-{call.pk}-{stamp}.csv"'
    return response
