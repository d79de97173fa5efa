"""Finding reviewers: "reviewers needed" by hand, and a call's nominations in bulk."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from nominations.models import Call, NominationEvent
from nominations.services import NominationError
from reviewers.models import Review
from reviewers.services import assignment_propose, reviewer_choices

from ..forms import GoOnForm, ReviewerByHandForm
from ..selectors import may_assign_in_bulk, tasks_awaiting_reviewers
from ..services import (
    SoftRulesBroken,
    TaskUnavailable,
    reviewer_add_by_hand,
    reviewers_assign_in_bulk,
    reviewers_find_again,
    reviewers_go_on,
)
from .frame import task_context


def reviewers_needed_page(request, task, nomination):
    """Coordinators complete a nomination's reviewers: again, by hand, or go on without."""
    action = request.POST.get("action") if request.method == "POST" else None
    choices = reviewer_choices(nomination=nomination)
    by_hand = ReviewerByHandForm(
        request.POST if action == "assign" else None, choices=choices, prefix="hand"
    )
    go_on = GoOnForm(request.POST if action == "go_on" else None, prefix="go_on")
    done = None
    try:
        if action == "find_again":
            done = reviewers_find_again(task_id=task.pk, by=request.user)
            if not done:
                messages.warning(request, _("Still not enough valid reviewers: see why below."))
        elif action == "assign" and by_hand.is_valid():
            done = reviewer_add_by_hand(
                task_id=task.pk,
                by=request.user,
                reviewer_id=by_hand.cleaned_data["reviewer"],
                confirmed=by_hand.cleaned_data["confirmed"],
            )
            messages.success(request, _("The reviewer is assigned."))
        elif action == "go_on" and go_on.is_valid():
            reviewers_go_on(task_id=task.pk, by=request.user, note=go_on.cleaned_data["note"])
            done = True
    except SoftRulesBroken as warning:
        by_hand.add_error("confirmed", str(warning))
    except (TaskUnavailable, NominationError) as error:
        (go_on if action == "go_on" else by_hand).add_error(None, str(error))
    if done:
        messages.success(request, _("Peer review goes on."))
        return redirect("workflow:inbox")
    if done is False:
        return redirect("workflow:task", task_pk=task.pk)
    reviews = Review.objects.filter(nomination=nomination).select_related(
        "reviewer__reviewer_profile__country"
    )
    shortfall = (
        nomination.events.filter(action=NominationEvent.Action.NO_REVIEWER_AVAILABLE)
        .order_by("-created_at", "-pk")
        .first()
    )
    return render(
        request,
        "workflow/task_find_reviewers.html",
        task_context(
            task,
            nomination,
            choices=choices,
            by_hand=by_hand,
            go_on=go_on,
            reviews=reviews,
            shortfall=shortfall,
        ),
    )


def _task_reviewer_pairs(values, waiting):
    """Parse "task:reviewer" form values, keeping only tasks shown to this person."""
    pairs = []
    for value in values:
        task_id, _sep, reviewer_id = value.partition(":")
        if task_id.isdigit() and reviewer_id.isdigit() and int(task_id) in waiting:
            pairs.append((int(task_id), int(reviewer_id)))
    return pairs


@login_required
def bulk_assign(request, call_pk):
    """Preview the matcher's assignment of a call's waiting nominations, then confirm it."""
    if not may_assign_in_bulk(user=request.user):
        raise Http404
    call = get_object_or_404(Call, pk=call_pk)
    tasks = list(tasks_awaiting_reviewers(call=call, user=request.user))
    if request.method == "POST":
        waiting = {task.pk for task in tasks}
        assigned, refused, gone_on = reviewers_assign_in_bulk(
            by=request.user,
            pairs=_task_reviewer_pairs(request.POST.getlist("pair"), waiting),
            additions=_task_reviewer_pairs(request.POST.getlist("add"), waiting),
            confirmed=bool(request.POST.get("confirm_warnings")),
        )
        messages.success(
            request,
            _("%(assigned)d reviewers assigned; %(gone_on)d nominations went on to peer review.")
            % {"assigned": assigned, "gone_on": gone_on},
        )
        for message in refused:
            messages.warning(request, message)
        return redirect("workflow:bulk_assign", call_pk=call.pk)
    nominations = [task.process.nominationprocess.nomination for task in tasks]
    proposal = assignment_propose(call=call, nominations=nominations) if tasks else None
    rows = []
    if proposal:
        rows = [(task, *row) for task, row in zip(tasks, proposal.rows(nominations), strict=True)]
    return render(
        request,
        "workflow/bulk_assign.html",
        {
            "call": call,
            "rows": rows,
            "load_rows": proposal.load_rows() if proposal else [],
            "result": proposal.result if proposal else None,
        },
    )
