"""Selection: leads decide, propose and confirm (four eyes), decide in bulk, and make a
call's selection final."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from viewflow.workflow.models import Task

from nominations.accounts import user_display
from nominations.models import (
    Call,
    Nomination,
    NominationEvent,
    SelectionDecision,
    SelectionProposal,
)
from nominations.permissions import may_lead_call
from nominations.services import (
    NominationError,
    event_record,
)
from nominations.translation import texts_by_language
from notifications.models import Message
from notifications.services import notify

from ..flows import NominationFlow
from ..transitions import nomination_transition
from .tasks import TaskUnavailable, human_task, open_task_locked

Role = NominationEvent.Role
Action = NominationEvent.Action


def selection_decide(*, task_id, by, outcome, rationale):
    """A lead decides the nomination's outcome; the nominator sees it with the rationale.

    Where the call requires two leads, a decision is proposed and confirmed instead.
    """
    _rationale_required(rationale)
    with human_task(task_id=task_id, node=NominationFlow.select, user=by) as activation:
        nomination = activation.process.nomination
        if nomination.call.require_two_leads:
            raise NominationError(
                _(
                    "This call needs two leads for each decision: propose it, and another "
                    "lead confirms."
                )
            )
        return _decision_record(nomination=nomination, by=by, outcome=outcome, rationale=rationale)


def selection_propose(*, task_id, by, outcome, rationale):
    """The first of two leads proposes a decision, or changes their own proposal.

    A proposal by another lead is not theirs to overwrite: they confirm it or send it
    back. Every change gives the proposal a new version (the count of proposals ever
    made on the nomination, so a version is never reused after a proposal is sent back).
    """
    _rationale_required(rationale)
    with open_task_locked(task_id=task_id, nodes=(NominationFlow.select,), user=by) as task:
        nomination = task.process.nominationprocess.nomination
        if not nomination.call.require_two_leads:
            raise NominationError(
                _(
                    "This call needs only one lead for each decision: decide it; there is "
                    "nothing to propose."
                )
            )
        existing = (
            SelectionProposal.objects.select_for_update()
            .select_related("proposed_by")
            .filter(nomination=nomination)
            .first()
        )
        if existing is not None and existing.proposed_by_id != by.pk:
            raise NominationError(
                _(
                    "%(name)s has already proposed a decision: confirm it or send it back "
                    "before proposing another."
                )
                % {"name": user_display(existing.proposed_by)}
            )
        event_record(
            nomination=nomination,
            action=Action.DECISION_PROPOSED,
            actor=by,
            role=Role.LEAD,
            outcome=SelectionDecision.Outcome(outcome).value,
            message=rationale,
        )
        version = nomination.events.filter(action=Action.DECISION_PROPOSED).count()
        proposal, _created = SelectionProposal.objects.update_or_create(
            nomination=nomination,
            defaults={
                "outcome": outcome,
                "rationale": rationale,
                "proposed_by": by,
                "proposed_at": timezone.now(),
                "version": version,
            },
        )
        _proposal_notify(task=task, nomination=nomination, proposal=proposal)
    return proposal


def _proposal_notify(*, task, nomination, proposal):
    """Tell the call's other leads that a proposal waits for one of them to confirm it."""
    for lead in nomination.call.leads.exclude(pk=proposal.proposed_by_id):
        notify(
            recipient=lead,
            kind=Message.Kind.SELECTION_PROPOSED,
            key=f"proposal:{nomination.pk}:{proposal.version}:{lead.pk}",
            context={
                "nomination_title": nomination.title,
                "nomination_id": nomination.pk,
                "proposer": user_display(proposal.proposed_by),
                "outcome": proposal.outcome,
                "rationale": proposal.rationale,
            },
            path=f"/tasks/{task.pk}/",
        )


def _proposal_for_second_lead(nomination, by, version):
    """The proposal the second lead saw, locked; refused if it changed since they read it."""
    proposal = SelectionProposal.objects.select_for_update().filter(nomination=nomination).first()
    if proposal is None:
        raise NominationError(_("There is no proposed decision: propose one first."))
    if proposal.proposed_by_id == by.pk:
        raise NominationError(
            _("Another lead must confirm or send back your proposal: no lead decides alone.")
        )
    if proposal.version != version:
        raise NominationError(
            _(
                "The proposal changed after you opened this page. Read the proposal as it "
                "stands now, then confirm it or send it back."
            )
        )
    return proposal


def selection_confirm(*, task_id, by, version):
    """A second lead confirms the proposal they read (``version``); it becomes the decision."""
    with human_task(task_id=task_id, node=NominationFlow.select, user=by) as activation:
        nomination = activation.process.nomination
        proposal = _proposal_for_second_lead(nomination, by, version)
        decision = _decision_record(
            nomination=nomination,
            by=proposal.proposed_by,
            outcome=proposal.outcome,
            rationale=proposal.rationale,
            confirmed_by=by,
        )
        proposal.delete()
    return decision


def selection_return(*, task_id, by, version, note):
    """A second lead sends the proposal they read back; any lead may then propose again."""
    if not note.strip():
        raise NominationError(_("Please say why you send the proposal back."))
    with open_task_locked(task_id=task_id, nodes=(NominationFlow.select,), user=by) as task:
        nomination = task.process.nominationprocess.nomination
        proposal = _proposal_for_second_lead(nomination, by, version)
        event_record(
            nomination=nomination,
            action=Action.DECISION_RETURNED,
            actor=by,
            role=Role.LEAD,
            outcome=proposal.outcome,
            message=note,
        )
        notify(
            recipient=proposal.proposed_by,
            kind=Message.Kind.SELECTION_RETURNED,
            key=f"proposal-returned:{nomination.pk}:{proposal.version}",
            context={
                "nomination_title": nomination.title,
                "nomination_id": nomination.pk,
                "returned_by": user_display(by),
                "note": note,
            },
            path=f"/tasks/{task.pk}/",
        )
        proposal.delete()


def _rationale_required(rationale):
    if not rationale.strip():
        raise NominationError(_("Please give the rationale the nominator will read."))


def _decision_record(*, nomination, by, outcome, rationale, confirmed_by=None):
    # A decision ends every proposal on the nomination, whoever made it.
    SelectionProposal.objects.filter(nomination=nomination).delete()
    decision = SelectionDecision.objects.create(
        nomination=nomination,
        outcome=outcome,
        rationale=rationale,
        decided_by=by,
        confirmed_by=confirmed_by,
    )
    nomination_transition(
        nomination=nomination,
        move="decide",
        actor=confirmed_by or by,
        role=Role.LEAD,
        key="decided",
        message=rationale,
        outcome=decision.outcome,
    )
    return decision


class SelectionNotReady(NominationError):
    """Some nominations of the call are not decided yet; ``nominations`` says which."""

    def __init__(self, nominations):
        self.nominations = nominations
        count = len(nominations)
        super().__init__(
            ngettext(
                "%(count)d nomination is not decided yet: %(titles)s.",
                "%(count)d nominations are not decided yet: %(titles)s.",
                count,
            )
            % {"count": count, "titles": ", ".join(f"“{n.title}”" for n in nominations)}
        )


@transaction.atomic
def selection_finalise(*, call, by):
    """A lead makes the call's selection final once the call is closed and all is decided.

    The call must be closed (no new nomination can arrive) and every submitted
    nomination decided or rejected; drafts left in a closed call can no longer be
    submitted, so they do not hold the selection back. After it, nothing changes:
    ``selection_not_final`` refuses every step on the call's nominations.

    Each nominator with a decision is told, once, through the outbox.
    """
    call = Call.objects.select_for_update().get(pk=call.pk)
    if not may_lead_call(user=by, call=call):
        raise PermissionDenied
    if call.selection_finalised_at is not None:
        raise NominationError(_("The selection of this call is already final."))
    if call.closes_at > timezone.now():
        raise NominationError(
            _("This call is still open: new nominations may arrive until it closes.")
        )
    from ..selectors import undecided_nominations

    undecided = [nomination for nomination, _task in undecided_nominations(call=call)]
    if undecided:
        raise SelectionNotReady(undecided)
    call.selection_finalised_at = timezone.now()
    call.selection_finalised_by = by
    call.save(update_fields=["selection_finalised_at", "selection_finalised_by"])
    for nomination in call.nominations.filter(stage=Nomination.Stage.DECIDED).select_related(
        "decision", "nominator"
    ):
        notify(
            recipient=nomination.nominator,
            kind=Message.Kind.SELECTION_FINAL,
            key=f"selection-final:{call.pk}:{nomination.pk}",
            context={
                "call_title": call.title,
                # The call's title in the recipient's language, picked when rendered.
                "call_title_i18n": texts_by_language(call, "title"),
                "nomination_title": nomination.title,
                "nomination_id": nomination.pk,
                "outcome": nomination.decision.outcome,
            },
            path=f"/nominations/{nomination.pk}/",
        )
    return call


def selection_decide_many(*, task_ids, by, outcome, rationale):
    """One outcome and rationale for several nominations; proposals where two leads decide.

    Each nomination is decided (or proposed) on its own, as on its page; returns
    ``(done, refused messages)``.
    """
    done, refused = 0, []
    for task_id in task_ids:
        task = Task.objects.select_related("process__nominationprocess__nomination__call").get(
            pk=task_id
        )
        nomination = task.process.nominationprocess.nomination
        if nomination.call.selection_finalised_at is not None:
            refused.append(
                f"“{nomination.title}”: {_('the selection of this call is already final')}"
            )
            continue
        act = selection_propose if nomination.call.require_two_leads else selection_decide
        try:
            act(task_id=task_id, by=by, outcome=outcome, rationale=rationale)
        except (TaskUnavailable, NominationError, PermissionDenied) as error:
            reason = str(error) or _("not yours to decide")
            refused.append(f"“{nomination.title}”: {reason}")
        else:
            done += 1
    return done, refused
