"""Setting up a call: the guided page to create or edit one, a copy of an earlier call to
start from, and a preview of the call as nominators will see it.

The pages about one call answer 404 to whoever may not lead it, as the selection board
does; the new call's page, about no call, answers 403 to whoever may not create one.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from nominations.forms import NominationForm
from nominations.models import Call
from nominations.permissions import may_create_call, may_lead_call

from ..forms_calls import CallSetup
from ..services.calls import (
    CallDraft,
    CallRefused,
    call_copy_draft,
    call_draft,
    call_field_names,
    call_save,
)

#: The new call's page offers this many earlier calls to start from, the newest first.
EARLIER_CALLS_SHOWN = 30


def _blank_draft():
    """A new call with the model's defaults and nothing else."""
    call = Call()
    return CallDraft(
        fields={name: getattr(call, name) for name in call_field_names()},
        themes=[],
        leads=[],
        selection_escalation_people=[],
        criteria=[],
        questions=[],
    )


def _emails(draft):
    ids = {*draft.leads, *draft.selection_escalation_people}
    if not ids:
        return {}
    return dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "email"))


def _setup_page(request, *, call, draft, copied_from=None, earlier_calls=()):
    """Show ``draft``, or check and save what was posted; a refusal keeps every row typed."""
    creator = request.user if call is None else None
    if request.method == "POST":
        setup = CallSetup.from_post(request.POST, creator=creator)
        more_criteria = "more_criteria" in request.POST
        more_questions = "more_questions" in request.POST
        if more_criteria or more_questions:
            setup = setup.with_more_rows(criteria=int(more_criteria), questions=int(more_questions))
        elif setup.is_valid():
            posted = setup.as_draft()
            try:
                saved = call_save(
                    call=call,
                    by=request.user,
                    fields=posted.fields,
                    themes=posted.themes,
                    leads=posted.leads,
                    selection_escalation_people=posted.selection_escalation_people,
                    criteria=posted.criteria,
                    questions=posted.questions,
                )
            except CallRefused as refusal:
                for reason in refusal.reasons:
                    setup.form.add_error(None, reason)
                messages.error(request, _("Nothing was saved; the reasons are below."))
            else:
                messages.success(
                    request,
                    _("The call is saved.")
                    if call
                    else _("The call is created, and you are one of its leads."),
                )
                return redirect("workflow:call_edit", call_pk=saved.pk)
        else:
            messages.error(
                request, _("Please correct the errors below; nothing you typed is lost.")
            )
    else:
        setup = CallSetup.from_draft(draft, creator=creator, emails=_emails(draft))
    return render(
        request,
        "workflow/call_form.html",
        {
            "call": call,
            "copied_from": copied_from,
            "earlier_calls": earlier_calls,
            "setup": setup,
            "form": setup.form,
            "action": request.path if call or copied_from is None else reverse("workflow:call_new"),
        },
    )


@login_required
def call_new(request):
    if not may_create_call(request.user):
        raise PermissionDenied
    earlier = Call.objects.all() if request.user.is_staff else request.user.led_calls.all()
    return _setup_page(
        request,
        call=None,
        draft=_blank_draft(),
        # Offered on the empty page only, not above a form being filled in.
        earlier_calls=earlier.order_by("-opens_at", "pk")[:EARLIER_CALLS_SHOWN]
        if request.method == "GET"
        else (),
    )


@login_required
def call_edit(request, call_pk):
    call = get_object_or_404(Call, pk=call_pk)
    if not may_lead_call(user=request.user, call=call):
        raise Http404
    draft = call_draft(call=call) if request.method == "GET" else None
    return _setup_page(request, call=call, draft=draft)


@require_GET
@login_required
def call_copy(request, call_pk):
    """A new call's page filled in from an earlier call; nothing is saved until it is sent."""
    source = get_object_or_404(Call, pk=call_pk)
    if not may_lead_call(user=request.user, call=source):
        raise Http404
    if not may_create_call(request.user):
        raise PermissionDenied
    messages.info(
        request,
        _(
            "This is a copy of “%(title)s” with its dates a year on or more. Nothing is "
            "saved until you create the call."
        )
        % {"title": source.title},
    )
    return _setup_page(request, call=None, draft=call_copy_draft(call=source), copied_from=source)


@require_GET
@login_required
def call_preview(request, call_pk):
    """The call's page and its nomination form as a nominator will see them, read-only, in
    any interface language; for the call's leads and admins, also before it opens."""
    call = get_object_or_404(Call, pk=call_pk)
    if not may_lead_call(user=request.user, call=call):
        raise Http404
    codes = [code for code, _name in settings.LANGUAGES]
    language = request.GET.get("lang")
    if language not in codes:
        language = translation.get_language()
    with translation.override(language):
        form = NominationForm(call=call)
        for field in form.fields.values():
            field.disabled = True
        return render(
            request,
            "workflow/call_preview.html",
            {
                "call": call,
                "sections": form.sections(),
                "themes": call.themes.all(),
                "preview_language": language,
                "languages": settings.LANGUAGES,
                "is_open": call.is_open(),
                "opens_later": call.opens_at > timezone.now(),
            },
        )
