"""Selection: the lead's task, the call's board, decisions in bulk and the final selection."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import Count, OuterRef, Subquery, Window
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task

from nominations.models import Call, Nomination, SelectionProposal
from nominations.permissions import may_lead_call
from nominations.selectors import selection_balance, target_warnings
from nominations.services import NominationError
from reviewers.selectors import (
    board_figure_names,
    board_nominations,
    board_ranking,
    board_rows,
    submitted_reviews_summary,
)

from ..deadlines import OPEN_TASK_STATUSES
from ..flows import NominationFlow
from ..forms import BoardFilterForm, ReturnProposalForm, SelectionForm
from ..selectors import selection_final_audience, undecided_first, undecided_nominations
from ..services import (
    TaskUnavailable,
    selection_confirm,
    selection_decide,
    selection_decide_many,
    selection_finalise,
    selection_propose,
    selection_return,
)
from .frame import posted_version, run_or_keep_form, task_context


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
            done = run_or_keep_form(form, lambda: selection_propose(**values))
            message = _("Your proposal waits for a second lead.")
        else:
            done = run_or_keep_form(form, lambda: selection_decide(**values))
            message = _("The decision is recorded and shown to the nominator.")
    elif action == "confirm":
        try:
            selection_confirm(
                task_id=task.pk, by=request.user, version=posted_version(request.POST)
            )
        except (TaskUnavailable, NominationError) as error:
            messages.error(request, str(error))
        else:
            done, message = True, _("The decision is confirmed and shown to the nominator.")
    elif action == "return" and return_form.is_valid():
        note = return_form.cleaned_data["note"]
        done = run_or_keep_form(
            return_form,
            lambda: selection_return(
                task_id=task.pk, by=request.user, version=posted_version(request.POST), note=note
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
        task_context(
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


#: Rows of the selection board on one page.
BOARD_PAGE_SIZE = 50

#: Undecided nominations named on top of the board before "show all".
UNDECIDED_SHOWN = 20


def _board_page(request, nominations, ranked, criteria):
    """One page of ``ranked`` — ids and figures — with the count of ``nominations``, from
    one query as a rule.

    The count comes with the page's rows (``COUNT(*) OVER ()`` over the ranking, before
    its ``LIMIT``); only a page past the end asks again, for the count, to show the last.
    """
    paginator = Paginator(ranked, BOARD_PAGE_SIZE)
    try:
        number = max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        number = 1
    counted = ranked.annotate(board_total=Window(Count("pk"))).values_list(
        "board_total", "pk", *board_figure_names(criteria)
    )
    rows = list(counted[(number - 1) * BOARD_PAGE_SIZE : number * BOARD_PAGE_SIZE])
    if rows:
        paginator.count = rows[0][0]
    else:
        paginator.count = nominations.count()
        if number > 1 and paginator.count:
            number = paginator.num_pages
            start = (number - 1) * BOARD_PAGE_SIZE
            rows = list(counted[start : start + BOARD_PAGE_SIZE])
        else:
            number = 1
    return Page([row[1:] for row in rows], number, paginator)


@login_required
def selection_board(request, call_pk):
    """The call's nominations in selection and decided, ranked, for its leads and admins.

    One page of rows at a time (offset pages: the ranking is one grouped query ordered
    and limited by the database, so a page costs the same wherever it is); the filters,
    the order and the page stay in the querystring.
    """
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
    )
    criteria, ranked = board_ranking(call=call, nominations=nominations, order=form.order)
    page = _board_page(request, nominations, ranked, criteria)
    # The page's nominations, each with its open selection task (if any) in the same query.
    open_selection = Task.objects.filter(
        flow_task=NominationFlow.select,
        status__in=OPEN_TASK_STATUSES,
        process__nominationprocess__nomination=OuterRef("pk"),
    ).order_by("created", "pk")
    found = (
        board_nominations(ids=[pk for pk, *_figures in page.object_list])
        .annotate(select_task=Subquery(open_selection.values("pk")[:1]))
        .in_bulk()
    )
    rows = board_rows(criteria=criteria, ranked=page.object_list, nominations=found)
    query = request.GET.copy()
    query.pop("page", None)
    all_undecided = query.pop("undecided", None) == ["all"]
    return render(
        request,
        "workflow/selection_board.html",
        {
            "call": call,
            "still_open": call.closes_at > timezone.now(),
            "form": form,
            "criteria": criteria,
            "rows": [(row, row.nomination.select_task) for row in rows],
            "page": page,
            "first_rank": page.start_index(),
            "query": query.urlencode(),
            "bulk_form": _bulk_decision_form(),
            **_undecided_on_board(call=call, user=request.user, show_all=all_undecided),
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


def _back_to_board(request, call):
    """The board as the lead left it: same filters, order and page."""
    url = reverse("workflow:board", args=[call.pk])
    return redirect(f"{url}?{request.GET.urlencode()}" if request.GET else url)


def _board_decide(request, call):
    """The same outcome and rationale for the nominations ticked on the board.

    The ticked task ids come from the page, so each is checked here: an open selection
    task of this call, whichever page it was on; any other id is ignored.
    """
    if call.selection_finalised_at is not None:
        messages.error(request, _("The selection of this call is already final."))
        return _back_to_board(request, call)
    decision = SelectionForm(request.POST)
    ticked = {int(v) for v in request.POST.getlist("task") if v.isdigit()}
    task_ids = sorted(
        Task.objects.filter(
            pk__in=ticked,
            flow_task=NominationFlow.select,
            status__in=OPEN_TASK_STATUSES,
            process__nominationprocess__nomination__call=call,
        ).values_list("pk", flat=True)
    )
    if not task_ids or not decision.is_valid():
        messages.error(request, _("Tick nominations and give an outcome and a rationale."))
        return _back_to_board(request, call)
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
    return _back_to_board(request, call)


def _undecided_with_links(*, user, undecided):
    """[(nomination, link or "")]: the selection task for leads, the history for admins."""
    rows = []
    for nomination, task_pk in undecided:
        if task_pk and nomination.stage == Nomination.Stage.SELECTION:
            link = reverse("workflow:task", args=[task_pk])
        elif user.is_staff:
            link = reverse("nominations:detail", args=[nomination.pk])
        else:
            link = ""
        rows.append((nomination, link))
    return rows


def _undecided_on_board(*, call, user, show_all):
    """The board's "not decided yet": the first few and how many, or all when asked."""
    if call.selection_finalised_at is not None:
        return {"undecided": [], "undecided_count": 0}
    if show_all:
        undecided = undecided_nominations(call=call)
        total = len(undecided)
    else:
        total, undecided = undecided_first(call=call, limit=UNDECIDED_SHOWN)
    return {
        "undecided": _undecided_with_links(user=user, undecided=undecided),
        "undecided_count": total,
    }


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
            "undecided": _undecided_with_links(
                user=request.user, undecided=undecided_nominations(call=call)
            ),
            "nominators": selection_final_audience(call=call),
        },
    )


@login_required
def led_calls(request):
    """The calls a lead leads, each with its selection board and dashboard."""
    return render(request, "workflow/led_calls.html")
