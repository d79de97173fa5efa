"""The inbox and the task pages of coordinators, reviewers, leads and nominators."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from nominations.accounts import user_display
from nominations.models import Call, Nomination, NominationEvent, SelectionProposal
from nominations.permissions import may_lead_call
from nominations.selectors import (
    open_calls,
    selection_balance,
    survey_answer_rows,
    target_warnings,
)
from nominations.services import NominationError
from reviewers.forms import DeclineForm, ReviewForm
from reviewers.models import Review
from reviewers.selectors import selection_board as board_rows
from reviewers.selectors import submitted_reviews_summary
from reviewers.services import assignment_propose, review_save_draft, reviewer_choices

from .deadlines import OPEN_TASK_STATUSES
from .flows import NominationFlow
from .forms import (
    BoardFilterForm,
    GoOnForm,
    ReturnProposalForm,
    ReviewerByHandForm,
    ScreeningForm,
    SelectionForm,
)
from .selectors import (
    calls_awaiting_reviewers,
    can_act_on_task,
    dashboard_figures,
    may_assign_in_bulk,
    may_see_dashboard,
    my_nominations,
    nomination_viewer_role,
    open_tasks_for,
    selection_final_audience,
    tasks_awaiting_reviewers,
    undecided_nominations,
)
from .services import (
    SoftRulesBroken,
    TaskUnavailable,
    nomination_screen,
    review_decline,
    review_remove,
    review_submit,
    reviewer_add_by_hand,
    reviewers_assign_in_bulk,
    reviewers_find_again,
    reviewers_go_on,
    selection_confirm,
    selection_decide,
    selection_decide_many,
    selection_finalise,
    selection_propose,
    selection_return,
)


def home(request):
    """Signed in, one's tasks and nominations; signed out, what Nomflow is and its open calls."""
    if not request.user.is_authenticated:
        return render(request, "workflow/landing.html", {"calls": open_calls(now=timezone.now())})
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
        {
            "tasks": open_tasks_for(user=request.user),
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


def _posted_version(data):
    """The proposal version a lead's form was rendered with; 0 (matching none) if absent."""
    try:
        return int(data.get("version", ""))
    except ValueError:
        return 0


def selection_page(request, task, nomination):
    """A lead decides; where the call needs two leads, one proposes and another confirms."""
    action = request.POST.get("action", "decide") if request.method == "POST" else None
    two_leads = nomination.call.require_two_leads
    form = SelectionForm(request.POST if action in ("decide", "propose") else None)
    return_form = ReturnProposalForm(request.POST if action == "return" else None)
    done, message = False, ""
    if action in ("decide", "propose") and form.is_valid():
        values = {
            "task_id": task.pk,
            "by": request.user,
            "outcome": form.cleaned_data["outcome"],
            "rationale": form.cleaned_data["rationale"],
        }
        if two_leads:
            done = _act(form, lambda: selection_propose(**values))
            message = _("Your proposal waits for a second lead.")
        else:
            done = _act(form, lambda: selection_decide(**values))
            message = _("The decision is recorded and shown to the nominator.")
    elif action == "confirm":
        try:
            selection_confirm(
                task_id=task.pk, by=request.user, version=_posted_version(request.POST)
            )
        except (TaskUnavailable, NominationError) as error:
            messages.error(request, str(error))
        else:
            done, message = True, _("The decision is confirmed and shown to the nominator.")
    elif action == "return" and return_form.is_valid():
        note = return_form.cleaned_data["note"]
        done = _act(
            return_form,
            lambda: selection_return(
                task_id=task.pk, by=request.user, version=_posted_version(request.POST), note=note
            ),
        )
        message = _("The proposal is sent back.")
    if done:
        messages.success(request, message)
        return redirect("workflow:inbox")
    proposal = (
        SelectionProposal.objects.filter(nomination=nomination)
        .select_related("proposed_by")
        .first()
        if two_leads
        else None
    )
    return render(
        request,
        "workflow/task_select.html",
        _task_context(
            task,
            nomination,
            form=form,
            return_form=return_form,
            proposal=proposal,
            two_leads=two_leads,
            target_warnings=target_warnings(nomination=nomination),
            summary=submitted_reviews_summary(nomination=nomination),
        ),
    )


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
        _task_context(
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


@login_required
def selection_board(request, call_pk):
    """The call's nominations in selection and decided, ranked, for its leads and admins."""
    call = get_object_or_404(Call, pk=call_pk)
    if not may_lead_call(user=request.user, call=call):
        raise Http404
    if request.method == "POST":
        return _board_decide(request, call)
    form = BoardFilterForm(request.GET)
    nominations = form.apply(
        Nomination.objects.filter(
            call=call, stage__in=[Nomination.Stage.SELECTION, Nomination.Stage.DECIDED]
        )
    ).distinct()
    criteria, rows = board_rows(call=call, nominations=nominations)
    open_selections = dict(
        Task.objects.filter(
            flow_task=NominationFlow.select,
            status__in=OPEN_TASK_STATUSES,
            process__nominationprocess__nomination__in=[row.nomination for row in rows],
        ).values_list("process__nominationprocess__nomination", "pk")
    )
    return render(
        request,
        "workflow/selection_board.html",
        {
            "call": call,
            "still_open": call.closes_at > timezone.now(),
            "form": form,
            "criteria": criteria,
            "rows": [(row, open_selections.get(row.nomination.pk)) for row in rows],
            "bulk_form": _bulk_decision_form(),
            "undecided": _undecided_with_links(call=call, user=request.user)
            if call.selection_finalised_at is None
            else [],
            "balance_tables": list(
                zip(selection_balance(call=call), (_("Country"), _("Theme")), strict=True)
            ),
        },
    )


def _bulk_decision_form():
    """The selection form, its inputs tied to the board's bulk form by their form attribute."""
    form = SelectionForm(auto_id="bulk_%s")
    for field in form.fields.values():
        field.widget.attrs["form"] = "bulk-decision"
    return form


def _board_decide(request, call):
    """The same outcome and rationale for the nominations ticked on the board."""
    if call.selection_finalised_at is not None:
        messages.error(request, _("The selection of this call is already final."))
        return redirect("workflow:board", call_pk=call.pk)
    decision = SelectionForm(request.POST)
    open_tasks = set(
        Task.objects.filter(
            flow_task=NominationFlow.select,
            status__in=OPEN_TASK_STATUSES,
            process__nominationprocess__nomination__call=call,
        ).values_list("pk", flat=True)
    )
    task_ids = [
        int(v) for v in request.POST.getlist("task") if v.isdigit() and int(v) in open_tasks
    ]
    if not task_ids or not decision.is_valid():
        messages.error(request, _("Tick nominations and give an outcome and a rationale."))
        return redirect("workflow:board", call_pk=call.pk)
    done, refused = selection_decide_many(
        task_ids=task_ids,
        by=request.user,
        outcome=decision.cleaned_data["outcome"],
        rationale=decision.cleaned_data["rationale"],
    )
    messages.success(
        request,
        (_("%(count)d proposals made.") if call.require_two_leads else _("%(count)d decided."))
        % {"count": done},
    )
    for message in refused:
        messages.warning(request, message)
    return redirect("workflow:board", call_pk=call.pk)


def _undecided_with_links(*, call, user):
    """[(nomination, link or "")]: the selection task for leads, the history for admins."""
    rows = []
    for nomination, task_pk in undecided_nominations(call=call):
        if task_pk and nomination.stage == Nomination.Stage.SELECTION:
            link = reverse("workflow:task", args=[task_pk])
        elif user.is_staff:
            link = reverse("nominations:detail", args=[nomination.pk])
        else:
            link = ""
        rows.append((nomination, link))
    return rows


@login_required
def selection_finalise_view(request, call_pk):
    """Say what making the selection final does, then do it on a confirmed POST.

    It cannot be undone and emails every nominator, so a POST without ``confirm=yes``
    only shows this page again.
    """
    call = get_object_or_404(Call, pk=call_pk)
    if not may_lead_call(user=request.user, call=call):
        raise Http404
    if call.selection_finalised_at is not None:
        return redirect("workflow:board", call_pk=call.pk)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            selection_finalise(call=call, by=request.user)
        except NominationError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The selection is final; every nominator is told."))
        return redirect("workflow:board", call_pk=call.pk)
    return render(
        request,
        "workflow/selection_finalise.html",
        {
            "call": call,
            "still_open": call.closes_at > timezone.now(),
            "undecided": _undecided_with_links(call=call, user=request.user),
            "nominators": selection_final_audience(call=call),
        },
    )


@login_required
def led_calls(request):
    """The calls a lead leads, each with its selection board and dashboard."""
    return render(request, "workflow/led_calls.html")


@login_required
def dashboard(request, call_pk=None):
    """Where a call stands (or, for admins, every call), as charts over tables of numbers."""
    call = get_object_or_404(Call, pk=call_pk) if call_pk else None
    if not may_see_dashboard(user=request.user, call=call):
        raise Http404
    calls = [call] if call else list(Call.objects.all())
    may_open_board = call is not None and may_lead_call(user=request.user, call=call)
    # Coordinators see their own countries' nominations; leads and admins the whole call.
    countries = (
        None
        if request.user.is_staff or may_open_board
        else list(request.user.coordinated_countries.all())
    )
    figures = dashboard_figures(calls=calls, countries=countries)
    pipeline = figures["pipeline"]
    charts = {
        "pipeline-chart": {
            "labels": [country for country, _counts in pipeline["rows"]],
            "series": [
                {"label": stage, "values": [counts[index] for _country, counts in pipeline["rows"]]}
                for index, stage in enumerate(pipeline["columns"])
            ],
            "stacked": True,
            "horizontal": True,
        },
        "reviews-chart": _single_series(_("Reviews"), figures["review_progress"]),
        "overdue-chart": {
            **_single_series(_("Overdue tasks"), figures["overdue_by_person"]),
            "horizontal": True,
        },
        "workload-chart": {
            **_single_series(
                _("Open reviews"), [(name, load) for name, load, _cap in figures["workload"]]
            ),
            "horizontal": True,
        },
        "scores-chart": _single_series(_("Scores given"), figures["score_distribution"]),
    }
    return render(
        request,
        "workflow/dashboard.html",
        {
            "call": call,
            "calls": calls,
            "figures": figures,
            "charts": charts,
            "may_open_board": may_open_board,
        },
    )


def _single_series(label, pairs):
    return {
        "labels": [str(name) for name, _value in pairs],
        "series": [{"label": str(label), "values": [value for _name, value in pairs]}],
    }


TASK_PAGES = {
    NominationFlow.find_reviewers: reviewers_needed_page,
    NominationFlow.find_replacement: reviewers_needed_page,
    NominationFlow.screen: screening_page,
    NominationFlow.revise: revise_page,
    NominationFlow.review: review_page,
    NominationFlow.select: selection_page,
}
