"""The inbox and the task pages of coordinators, reviewers, leads and nominators."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task

from nominations.selectors import my_nominations, survey_answer_rows
from nominations.services import NominationError
from reviewers.forms import DeclineForm, ReviewForm
from reviewers.models import Review
from reviewers.selectors import submitted_reviews_summary
from reviewers.services import review_save_draft

from .deadlines import OPEN_TASK_STATUSES
from .flows import NominationFlow
from .forms import ScreeningForm, SelectionForm
from .selectors import can_act_on_task, open_tasks_for
from .services import (
    TaskUnavailable,
    nomination_screen,
    review_decline,
    review_submit,
    selection_decide,
)


@login_required
def home(request):
    return render(
        request,
        "workflow/home.html",
        {
            "tasks": open_tasks_for(user=request.user)[:10],
            "nominations": my_nominations(user=request.user)[:10],
            "now": timezone.now(),
        },
    )


@login_required
def inbox(request):
    return render(
        request,
        "workflow/inbox.html",
        {"tasks": open_tasks_for(user=request.user), "now": timezone.now()},
    )


@login_required
def task_detail(request, task_pk):
    task = get_object_or_404(
        Task.objects.select_related("process__nominationprocess__nomination__call", "owner"),
        pk=task_pk,
    )
    if not can_act_on_task(user=request.user, task=task):
        raise Http404
    nomination = task.process.nominationprocess.nomination
    if task.status not in OPEN_TASK_STATUSES and request.method == "GET":
        messages.info(request, _("This task is already done."))
        return redirect("nominations:detail", pk=nomination.pk)
    page = TASK_PAGES.get(task.flow_task)
    if page is None:
        raise Http404
    return page(request, task, nomination)


def _task_context(task, nomination, **extra):
    return {
        "task": task,
        "nomination": nomination,
        "answers": survey_answer_rows(nomination=nomination),
        "themes": nomination.themes.all(),
        "attachments": nomination.attachments.all(),
        "now": timezone.now(),
        **extra,
    }


def _act(form, action):
    """Run a flow action; on refusal keep the form as typed and say why. True if done."""
    try:
        action()
    except (TaskUnavailable, NominationError) as error:
        form.add_error(None, str(error))
        return False
    return True


def screening_page(request, task, nomination):
    form = ScreeningForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _act(
            form,
            lambda: nomination_screen(
                task_id=task.pk,
                by=request.user,
                decision=form.cleaned_data["decision"],
                message=form.cleaned_data["message"],
            ),
        )
        if done:
            messages.success(request, _("Screening recorded. Thank you."))
            return redirect("workflow:inbox")
    return render(request, "workflow/task_screen.html", _task_context(task, nomination, form=form))


def revise_page(request, task, nomination):
    return redirect("nominations:edit", pk=nomination.pk)


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
        if _act(
            request,
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
        if _act(form, action):
            if submitting:
                messages.success(request, _("Your review is submitted. Thank you."))
                return redirect("workflow:inbox")
            messages.success(request, _("Your draft review is saved."))
            return redirect("workflow:task", task_pk=task.pk)
    return render(
        request,
        "workflow/task_review.html",
        _task_context(task, nomination, form=form, decline_form=decline_form, review=review),
    )


def selection_page(request, task, nomination):
    form = SelectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _act(
            form,
            lambda: selection_decide(
                task_id=task.pk,
                by=request.user,
                outcome=form.cleaned_data["outcome"],
                rationale=form.cleaned_data["rationale"],
            ),
        )
        if done:
            messages.success(request, _("The decision is recorded and shown to the nominator."))
            return redirect("workflow:inbox")
    return render(
        request,
        "workflow/task_select.html",
        _task_context(
            task, nomination, form=form, summary=submitted_reviews_summary(nomination=nomination)
        ),
    )


TASK_PAGES = {
    NominationFlow.screen: screening_page,
    NominationFlow.revise: revise_page,
    NominationFlow.review: review_page,
    NominationFlow.select: selection_page,
}
