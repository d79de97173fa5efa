"""Peer review: the reviewer's page, and a coordinator taking a review away."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from viewflow.workflow.models import Task

from nominations.services import NominationError
from reviewers.forms import DeclineForm, ReviewForm
from reviewers.models import Review
from reviewers.services import review_save_draft

from ..selectors import nomination_viewer_role
from ..services import TaskUnavailable, review_decline, review_remove, review_submit
from .frame import run_or_keep_form, task_context


def review_page(request, task, nomination):
    review = get_object_or_404(Review, pk=task.data["review_id"])
    if review.reviewer_id != request.user.pk:
        raise PermissionDenied
    criteria = nomination.call.criteria.all()
    submitting = "submit" in request.POST
    declining = "decline" in request.POST
    form = ReviewForm(
        None if declining else (request.POST or None),
        criteria=criteria,
        review=review,
        submitting=submitting,
    )
    decline_form = DeclineForm(request.POST if declining else None)
    if request.method == "POST" and declining and decline_form.is_valid():
        reason = decline_form.cleaned_data["reason"]
        if run_or_keep_form(
            decline_form,
            lambda: review_decline(task_id=task.pk, by=request.user, reason=reason),
        ):
            messages.success(request, _("You declined this review; a replacement will be asked."))
            return redirect("workflow:inbox")
    elif request.method == "POST" and not declining and form.is_valid():
        if submitting:
            action = lambda: review_submit(  # noqa: E731
                task_id=task.pk,
                by=request.user,
                scores=form.scores(),
                comment=form.cleaned_data["comment"],
            )
        else:
            action = lambda: review_save_draft(  # noqa: E731
                review=review,
                by=request.user,
                scores=form.scores(),
                comment=form.cleaned_data["comment"],
            )
        if run_or_keep_form(form, action):
            if submitting:
                messages.success(request, _("Your review is submitted. Thank you."))
                return redirect("workflow:inbox")
            messages.success(request, _("Your draft review is saved."))
            return redirect("workflow:task", task_pk=task.pk)
    return render(
        request,
        "workflow/task_review.html",
        task_context(task, nomination, form=form, decline_form=decline_form, review=review),
    )


@require_POST
@login_required
def review_remove_view(request, task_pk):
    """A coordinator takes a review away; the flow seeks the best valid replacement."""
    task = get_object_or_404(
        Task.objects.select_related("process__nominationprocess__nomination"), pk=task_pk
    )
    nomination = task.process.nominationprocess.nomination
    if nomination_viewer_role(user=request.user, nomination=nomination) not in {
        "coordinator",
        "admin",
    }:
        raise Http404
    try:
        review_remove(task_id=task.pk, by=request.user, reason=request.POST.get("reason", ""))
    except (TaskUnavailable, NominationError) as error:
        messages.error(request, str(error))
    except PermissionDenied as denied:
        raise Http404 from denied
    else:
        messages.success(request, _("The reviewer is removed; a replacement is being sought."))
    return redirect("nominations:detail", pk=nomination.pk)
