"""Where people find their work: the home page, the inbox and each task's page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from nominations.accounts import user_display
from nominations.pagination import page_by_number
from nominations.selectors import open_calls

from ..actors import ACTORS
from ..deadlines import OPEN_TASK_STATUSES
from ..flows import NominationFlow
from ..selectors import (
    calls_awaiting_reviewers,
    can_act_on_task,
    my_nominations,
    nomination_viewer_role,
    open_tasks_for,
)
from .assignment import reviewers_needed_page
from .reviewing import review_page
from .screening import revise_page, screening_page
from .selection import selection_page

#: Tasks on one page of the inbox; the home page shows the first few.
INBOX_PAGE_SIZE = 50
HOME_TASKS_SHOWN = 10


def home(request):
    """Signed in, one's tasks and nominations; signed out, what Nomflow is and its open calls."""
    if not request.user.is_authenticated:
        return render(request, "workflow/landing.html", {"calls": open_calls(now=timezone.now())})
    return render(
        request,
        "workflow/home.html",
        {
            "tasks": open_tasks_for(user=request.user)[:HOME_TASKS_SHOWN],
            "nominations": my_nominations(user=request.user)[:10],
            "now": timezone.now(),
        },
    )


@login_required
def inbox(request):
    """The person's open tasks, most urgent first, a page at a time; filtered by step."""
    step = request.GET.get("step", "")
    tasks = open_tasks_for(user=request.user)
    if step in ACTORS:
        tasks = tasks.filter(flow_task=getattr(NominationFlow, step))
    else:
        step = ""
    return render(
        request,
        "workflow/inbox.html",
        {
            "tasks": page_by_number(
                tasks, number=request.GET.get("page"), per_page=INBOX_PAGE_SIZE
            ),
            "step": step,
            "steps": [(name, getattr(NominationFlow, name).task_title) for name in ACTORS],
            "now": timezone.now(),
            "calls_awaiting_reviewers": calls_awaiting_reviewers(user=request.user),
        },
    )


@login_required
def task_detail(request, task_pk):
    task = get_object_or_404(
        Task.objects.select_related("process__nominationprocess__nomination__call", "owner"),
        pk=task_pk,
    )
    nomination = task.process.nominationprocess.nomination
    if task.status not in OPEN_TASK_STATUSES and request.method == "GET":
        return _task_moved_on(request, task, nomination)
    if not can_act_on_task(user=request.user, task=task):
        raise Http404
    page = TASK_PAGES.get(task.flow_task)
    if page is None:
        raise Http404
    return page(request, task, nomination)


def _task_moved_on(request, task, nomination):
    """A link to a task that is over (an old email's): the nomination, and what became of it.

    Whoever could act on the task, and the staff roles who may open the nomination, land
    on the nomination page told who completed the task, when, and where the nomination
    is now; anyone else gets a 404, as for a task they never had.
    """
    can_act = can_act_on_task(user=request.user, task=task)
    role = nomination_viewer_role(user=request.user, nomination=nomination)
    if role is None or not (can_act or role in {"admin", "coordinator", "lead"}):
        raise Http404
    stage = nomination.get_stage_display()
    if task.status == STATUS.DONE and task.owner_id and task.finished:
        text = _(
            "This task was completed by %(name)s on %(date)s. The nomination is now at the "
            "stage: %(stage)s."
        ) % {
            "name": user_display(task.owner),
            "date": date_format(timezone.localtime(task.finished), "DATETIME_FORMAT"),
            "stage": stage,
        }
    else:
        text = _("This task is no longer open. The nomination is now at the stage: %(stage)s.") % {
            "stage": stage
        }
    messages.info(request, text)
    return redirect("nominations:detail", pk=nomination.pk)


TASK_PAGES = {
    NominationFlow.find_reviewers: reviewers_needed_page,
    NominationFlow.find_replacement: reviewers_needed_page,
    NominationFlow.screen: screening_page,
    NominationFlow.revise: revise_page,
    NominationFlow.review: review_page,
    NominationFlow.select: selection_page,
}
