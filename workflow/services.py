"""Every action that moves a nomination through its process.

Human actions go through ``human_task``: it takes the process lock, re-reads
the task and checks that it is still open and that the person may act on it.
Of two people acting on one task at once exactly one succeeds; the other gets
a ``TaskUnavailable`` that says who was first.
"""

from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from nominations.accounts import user_display
from nominations.models import (
    Call,
    Nomination,
    NominationEvent,
    PublishedPractice,
    SelectionDecision,
    SelectionProposal,
)
from nominations.permissions import may_coordinate_nomination, may_lead_call
from nominations.services import (
    NominationError,
    event_record,
    nomination_missing_fields,
    practice_save,
)
from nominations.translation import texts_by_language
from notifications.models import Message
from notifications.services import notify, outbox_batch
from reviewers.models import Review, RubricCriterion
from reviewers.selectors import HELD_STATUSES
from reviewers.services import (
    call_assignments_lock,
    review_mark_declined,
    review_mark_submitted,
    review_scores_save,
    reviewer_choices,
    reviews_assign,
    reviews_create,
    reviews_replace_declined,
)

from .deadlines import OPEN_TASK_STATUSES
from .flows import NominationFlow
from .transitions import nomination_transition

Role = NominationEvent.Role
Action = NominationEvent.Action


class TaskUnavailable(Exception):
    """The task was completed or cancelled before this action reached it."""


#: What a step reads with its task: the process, nomination, call, country and nominator.
TASK_CONTEXT = (
    "owner",
    "process__nominationprocess__nomination__call",
    "process__nominationprocess__nomination__country",
    "process__nominationprocess__nomination__nominator",
)


def _task_checked(task, *, nodes, user, permitted):
    if task.flow_task not in nodes or not permitted(user=user, task=task):
        raise PermissionDenied
    if task.status not in OPEN_TASK_STATUSES:
        raise TaskUnavailable(task_unavailable_message(task, user=user))
    selection_not_final(task.process.nominationprocess.nomination.call)
    return task


@contextmanager
def open_task_locked(*, task_id, nodes, user, permitted=None):
    """The open task ``task_id`` of one of ``nodes``, under the process lock, for ``user``.

    Raises ``PermissionDenied`` if it is not theirs to act on (``permitted(user=, task=)``,
    by default whether it is their task or their pool's) and ``TaskUnavailable`` if it is
    done or cancelled.
    """
    from .selectors import can_act_on_task

    permitted = permitted or can_act_on_task
    # The lock's transaction is the step's (no savepoint inside an outer one); the
    # messages of the whole step are written together just before it commits.
    with transaction.atomic(), outbox_batch():
        if _process_lock_of_task(task_id=task_id) is None:
            raise TaskUnavailable(_("This task does not exist any more."))
        task = Task.objects.select_related(*TASK_CONTEXT).get(pk=task_id)
        yield _task_checked(task, nodes=nodes, user=user, permitted=permitted)


def _process_lock_of_task(*, task_id, process_id=None):
    """Lock the process of task ``task_id``; returns its (status, finished), None if gone.

    The same row lock ``NominationFlow.lock`` takes (viewflow's
    ``SelectForUpdateLock(nowait=False)``: ``SELECT … FOR UPDATE`` on the process row,
    waiting for it), found from the task and taken in the caller's transaction, so a
    step pays one statement for it rather than a read of the process id, a lock and
    a savepoint.
    """
    processes = NominationFlow.process_class._default_manager.filter(task__pk=task_id)
    if process_id is not None:
        processes = processes.filter(pk=process_id)
    return (
        processes.select_for_update(of=("self",))
        .values_list("task__status", "task__finished")
        .first()
    )


def selection_not_final(call):
    """Refuse any step once ``call``'s selection is final: nothing changes after it."""
    if call.selection_finalised_at is not None:
        raise NominationError(
            _("The selection of this call is final; its nominations can no longer change.")
        )


def _task_start(task, user):
    """Start an open task (inside ``open_task_locked``), taking it from its pool if needed.

    The task is completed in the same step, so taking it is not saved on its own: the
    task is written once, done, after the steps it leads to (``HumanTaskActivation``).
    """
    activation = task.flow_task.activation_class(task)
    if task.owner_id is None:
        activation.take(user)
    activation.start(None)
    return activation


def _task_complete(task, user, **data):
    """Finish an open task (inside ``open_task_locked``) and create the next steps."""
    activation = _task_start(task, user)
    activation.task.data = {**(activation.task.data or {}), **data}
    activation.execute()


@contextmanager
def human_task(*, task_id, node, user):
    """Run one person's action on an open task, then move the flow on.

    Yields the task's activation; the caller changes the domain inside the
    block. On leaving it the task is completed and the next steps created,
    all in one transaction under the process lock.
    """
    with open_task_locked(task_id=task_id, nodes=(node,), user=user) as task:
        activation = _task_start(task, user)
        yield activation
        activation.execute()


@contextmanager
def review_task(*, task_id, user, permitted=None):
    """``human_task`` for a review, with the process lock taken only to complete it.

    The review's own writes (the review row, its scores, the history event) touch rows
    of that review alone, so they go first, without holding up the other reviewers of
    the same nomination; then the process row is locked, the task read again (someone
    may have finished it meanwhile: ``TaskUnavailable`` rolls the whole step back), and
    the task completed with what follows it (the join). Three reviewers submitting at
    once wait for each other only for that last part. Every path that locks a review
    row and the process row takes the review first, as the review paths do, so none
    can deadlock another.
    """
    from .selectors import can_act_on_task

    permitted = permitted or can_act_on_task
    with transaction.atomic(), outbox_batch():
        task = Task.objects.select_related(*TASK_CONTEXT).filter(pk=task_id).first()
        if task is None:
            raise TaskUnavailable(_("This task does not exist any more."))
        _task_checked(task, nodes=(NominationFlow.review,), user=user, permitted=permitted)
        activation = _task_start(task, user)
        yield activation
        status, finished = _process_lock_of_task(task_id=task_id, process_id=task.process_id)
        if status not in OPEN_TASK_STATUSES:
            task.status, task.finished = status, finished
            raise TaskUnavailable(task_unavailable_message(task, user=user))
        activation.execute()


def task_unavailable_message(task, user=None):
    """Why ``user`` can no longer act on ``task``: who finished it, or what ended it."""
    removed_by = (task.data or {}).get("removed_by")
    if task.status == STATUS.DONE and removed_by:
        # The task's owner is the removed reviewer: "completed by" would name them.
        if user is not None and user.pk == task.owner_id:
            return _("A coordinator removed you from this review before you submitted it.")
        return _("%(name)s removed this reviewer from the review on %(date)s.") % {
            "name": user_display(get_user_model().objects.get(pk=removed_by)),
            "date": timezone.localtime(task.finished).strftime("%Y-%m-%d %H:%M"),
        }
    if task.status == STATUS.DONE and task.owner:
        return _("This task was already completed by %(name)s on %(date)s.") % {
            "name": user_display(task.owner),
            "date": timezone.localtime(task.finished).strftime("%Y-%m-%d %H:%M"),
        }
    return _("This task is no longer open.")


def nomination_submit(*, nomination, by):
    """Freeze a complete draft and start its process while the call is open."""
    with transaction.atomic(), outbox_batch():
        nomination = (
            Nomination.objects.select_for_update(of=("self",))
            .select_related("call", "nominator", "country")
            .get(pk=nomination.pk)
        )
        if nomination.nominator_id != by.pk:
            raise PermissionDenied
        if nomination.stage != Nomination.Stage.DRAFT:
            raise NominationError(_("This nomination has already been submitted."))
        selection_not_final(nomination.call)
        if not nomination.call.is_open():
            raise NominationError(_("This call is closed; nominations can no longer be submitted."))
        missing = nomination_missing_fields(nomination)
        if missing:
            raise NominationError(
                _("Please complete before submitting: %(fields)s.") % {"fields": ", ".join(missing)}
            )
        nomination_transition(
            nomination=nomination,
            move="submit",
            actor=by,
            role=Role.NOMINATOR,
            key="submitted",
            submitted_at=timezone.now(),
        )
        NominationFlow.submit.run(nomination=nomination)
    return nomination


def nomination_resubmit(*, task_id, by):
    """The nominator has made the requested changes; screening starts again."""
    with human_task(task_id=task_id, node=NominationFlow.revise, user=by) as activation:
        nomination = activation.process.nomination
        missing = nomination_missing_fields(nomination)
        if missing:
            raise NominationError(
                _("Please complete before submitting: %(fields)s.") % {"fields": ", ".join(missing)}
            )
        nomination_transition(
            nomination=nomination,
            move="resubmit",
            actor=by,
            role=Role.NOMINATOR,
            key=f"resubmitted:{task_id}",
        )
    return nomination


class ScreeningDecision:
    """A coordinator's three answers, each the name of its move in ``TRANSITIONS``."""

    ACCEPT = "accept"
    REQUEST_CHANGES = "request_changes"
    REJECT = "reject"


def nomination_screen(*, task_id, by, decision, message=""):
    """A national coordinator accepts, sends back or rejects a nomination.

    Sending back and rejecting need a message: the nominator is told why.
    """
    if decision not in (
        ScreeningDecision.ACCEPT,
        ScreeningDecision.REQUEST_CHANGES,
        ScreeningDecision.REJECT,
    ):
        raise ValueError(f"not a screening decision: {decision!r}")
    if decision != ScreeningDecision.ACCEPT and not message.strip():
        raise NominationError(_("Please tell the nominator why."))
    with human_task(task_id=task_id, node=NominationFlow.screen, user=by) as activation:
        nomination = activation.process.nomination
        nomination_transition(
            nomination=nomination,
            move=decision,
            actor=by,
            role=Role.COORDINATOR,
            key=f"screened:{task_id}",
            message=message,
        )
    return nomination


def _review_for_task(activation, by):
    criteria = (
        RubricCriterion.objects.filter(call=OuterRef("nomination__call"))
        .order_by()
        .values("call")
        .annotate(count=Count("pk"))
        .values("count")
    )
    review = (
        Review.objects.select_for_update(of=("self",))
        .select_related("nomination__call")
        .annotate(criteria_count=Coalesce(Subquery(criteria), 0))
        .get(pk=activation.task.data["review_id"])
    )
    if review.reviewer_id != by.pk:
        raise PermissionDenied
    return review


def review_submit(*, task_id, by, scores, comment):
    """Submit a complete review; the last one in closes the review stage."""
    with review_task(task_id=task_id, user=by) as activation:
        review = _review_for_task(activation, by)
        criteria_count = review.criteria_count
        given = [cid for cid, (score, _comment) in scores.items() if score is not None]
        if len(given) < criteria_count:
            raise NominationError(_("Please score every criterion before submitting."))
        review_scores_save(review=review, scores=scores, comment=comment)
        review_mark_submitted(review=review)
        event_record(
            nomination=review.nomination,
            action=Action.REVIEW_SUBMITTED,
            actor=by,
            role=Role.REVIEWER,
        )
    return review


def review_decline(*, task_id, by, reason):
    """The reviewer cannot review; the flow chooses a replacement."""
    if not reason.strip():
        raise NominationError(_("Please give a reason for declining."))
    with review_task(task_id=task_id, user=by) as activation:
        review = _review_for_task(activation, by)
        review_mark_declined(review=review, reason=reason)
        activation.task.data = {**activation.task.data, "declined": True}
        event_record(
            nomination=review.nomination,
            action=Action.REVIEW_DECLINED,
            actor=by,
            role=Role.REVIEWER,
            message=reason,
        )
    return review


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


@transaction.atomic
def practice_public_save(*, nomination, by, fields, publish=None, version=None):
    """``practice_save``, and the nominator told once when their practice is first published."""
    # The public text's lock (``practice_save`` takes it too), so "was it published" is
    # read as it stands when this write goes ahead.
    Nomination.objects.select_for_update().get(pk=nomination.pk)
    was_published = PublishedPractice.objects.filter(
        nomination=nomination, is_published=True
    ).exists()
    practice = practice_save(
        nomination=nomination, by=by, fields=fields, publish=publish, version=version
    )
    if practice.is_published and not was_published:
        notify(
            recipient=nomination.nominator,
            kind=Message.Kind.PRACTICE_PUBLISHED,
            key=f"practice-published:{practice.pk}",
            context={"nomination_title": nomination.title, "nomination_id": nomination.pk},
            path=reverse("hub:detail", args=[practice.pk]),
        )
    return practice


# --- coordinators finding reviewers -----------------------------------------------------

FINDING_NODES = (NominationFlow.find_reviewers, NominationFlow.find_replacement)


class SoftRulesBroken(NominationError):
    """A reviewer chosen by hand breaks soft rules; the coordinator must confirm."""

    def __init__(self, warnings):
        super().__init__(
            _("Please confirm: this reviewer %(warnings)s.")
            % {"warnings": "; ".join(str(w) for w in warnings)}
        )
        self.warnings = warnings


def _declined_review(task):
    return Review.objects.select_related("reviewer").get(pk=task.data["declined_review_id"])


def _has_all_reviewers(nomination):
    held = Review.objects.filter(nomination=nomination, status__in=HELD_STATUSES).count()
    return held >= nomination.call.reviewers_per_nomination


def reviewers_find_again(*, task_id, by):
    """Run the matcher again (the pool may have changed); True if the task is now done.

    A nomination short of reviewers goes on to peer review once it has them
    all; a missing replacement, once one is found.
    """
    with open_task_locked(task_id=task_id, nodes=FINDING_NODES, user=by) as task:
        nomination = task.process.nominationprocess.nomination
        if task.flow_task == NominationFlow.find_replacement:
            replacement = reviews_replace_declined(declined=_declined_review(task))
            if replacement is None:
                return False
            _task_complete(task, by, review_id=replacement.pk)
            return True
        reviews_assign(nomination=nomination)
        if not _has_all_reviewers(nomination):
            return False
        _task_complete(task, by)
        return True


def reviewer_add_by_hand(*, task_id, by, reviewer_id, confirmed=False):
    """A coordinator assigns a reviewer of their choice; True if the task is now done.

    A hard rule broken refuses the choice; soft rules broken need ``confirmed``.
    """
    with open_task_locked(task_id=task_id, nodes=FINDING_NODES, user=by) as task:
        nomination = task.process.nominationprocess.nomination
        # Loads read after the call's lock: a slot taken meanwhile is refused as full.
        call_assignments_lock(call_id=nomination.call_id)
        choice = next(
            (c for c in reviewer_choices(nomination=nomination) if c.user.pk == reviewer_id),
            None,
        )
        if choice is None:
            raise NominationError(_("This person is not an active reviewer."))
        if choice.refusal:
            raise NominationError(
                _("%(name)s cannot review this nomination: %(reason)s.")
                % {
                    "name": choice.user.get_full_name() or choice.user.email,
                    "reason": choice.refusal,
                }
            )
        if choice.warnings and not confirmed:
            raise SoftRulesBroken(choice.warnings)
        replacing = task.flow_task == NominationFlow.find_replacement
        review = Review.objects.create(
            nomination=nomination,
            reviewer=choice.user,
            replaces=_declined_review(task) if replacing else None,
        )
        event_record(
            nomination=nomination,
            action=Action.REVIEWER_ADDED_BY_HAND,
            actor=by,
            role=Role.COORDINATOR,
            outcome=f"{choice.user.email} ({choice.country.code})",
            message="; ".join(str(w) for w in choice.warnings),
        )
        if replacing:
            _task_complete(task, by, review_id=review.pk)
            return True
        if _has_all_reviewers(nomination):
            _task_complete(task, by)
            return True
        return False


def reviewers_go_on(*, task_id, by, note):
    """Go on with the reviewers the nomination has (maybe none: straight to selection)."""
    if not note.strip():
        raise NominationError(_("Please say why the nomination goes on without all its reviewers."))
    with open_task_locked(task_id=task_id, nodes=FINDING_NODES, user=by) as task:
        nomination = task.process.nominationprocess.nomination
        event_record(
            nomination=nomination,
            action=Action.REVIEWERS_SETTLED,
            actor=by,
            role=Role.COORDINATOR,
            message=note,
        )
        if task.flow_task == NominationFlow.find_replacement:
            _task_complete(task, by, given_up=True)
        else:
            _task_complete(task, by)


def _bulk_refusal(choice, *, manual, confirmed):
    """Why a pair of the bulk form is not assigned, or ""."""
    if choice is None:
        return _("is no longer active")
    if choice.refusal:
        return choice.refusal
    if manual and choice.warnings and not confirmed:
        return _("needs your confirmation: it %(warnings)s") % {
            "warnings": "; ".join(str(w) for w in choice.warnings)
        }
    return ""


def _bulk_permitted_or_refuse(*, by, task_ids):
    """Refuse the whole confirmation, before anything is written, if a task is not ``by``'s."""
    from .selectors import can_act_on_task

    tasks = Task.objects.filter(pk__in=task_ids)
    for task in tasks:
        if task.flow_task != NominationFlow.find_reviewers or not can_act_on_task(
            user=by, task=task
        ):
            raise PermissionDenied


def reviewers_assign_in_bulk(*, by, pairs, additions=(), confirmed=False):
    """Confirm a bulk proposal, with the coordinator's own additions.

    ``pairs`` are the proposed (task id, reviewer id) the coordinator kept;
    ``additions`` the ones they chose by hand, which need ``confirmed`` when they
    break a soft rule. Every pair is checked again against the hard rules (the pool
    may have changed since the preview); a broken one is refused and reported, and
    so is any reviewer beyond what the nomination still wants (open and submitted
    reviews count; kept pairs are taken before those added by hand). A nomination
    that then has all its reviewers goes on to peer review. A task that is not the
    coordinator's refuses the whole confirmation (``PermissionDenied``) and nothing
    is saved. Returns ``(assigned, refused messages, nominations gone on)``.
    """
    by_task = {}
    for task_id, reviewer_id in pairs:
        by_task.setdefault(task_id, []).append((reviewer_id, False))
    for task_id, reviewer_id in additions:
        by_task.setdefault(task_id, []).append((reviewer_id, True))
    assigned, refused, gone_on = 0, [], 0
    # Every task must be the coordinator's before anything is written; then each nomination
    # is one transaction of its own, so no more than one process lock (and the call's
    # assignment lock after it) is ever held at once, the same order every assigning path
    # takes them in: holding several would deadlock against a by-hand assignment.
    _bulk_permitted_or_refuse(by=by, task_ids=list(by_task))
    for task_id, wanted in by_task.items():
        try:
            with open_task_locked(
                task_id=task_id, nodes=(NominationFlow.find_reviewers,), user=by
            ) as task:
                nomination = task.process.nominationprocess.nomination
                call_assignments_lock(call_id=nomination.call_id)
                choices = {c.user.pk: c for c in reviewer_choices(nomination=nomination)}
                room = nomination.call.reviewers_per_nomination - (
                    Review.objects.filter(nomination=nomination, status__in=HELD_STATUSES).count()
                )
                valid, by_hand = [], []
                for reviewer_id, manual in dict(wanted).items():
                    choice = choices.get(reviewer_id)
                    reason = _bulk_refusal(choice, manual=manual, confirmed=confirmed)
                    if not reason and len(valid) + len(by_hand) >= room:
                        reason = ngettext(
                            "goes beyond the %(count)d reviewer the nomination wants",
                            "goes beyond the %(count)d reviewers the nomination wants",
                            nomination.call.reviewers_per_nomination,
                        ) % {"count": nomination.call.reviewers_per_nomination}
                    if reason:
                        refused.append(
                            _("“%(title)s”: a chosen reviewer %(reason)s.")
                            % {"title": nomination.title, "reason": reason}
                        )
                        continue
                    (by_hand if manual else valid).append(choice)
                reviews_create(nomination=nomination, user_ids=[c.user.pk for c in valid])
                for choice in by_hand:
                    Review.objects.create(nomination=nomination, reviewer=choice.user)
                    event_record(
                        nomination=nomination,
                        action=Action.REVIEWER_ADDED_BY_HAND,
                        actor=by,
                        role=Role.COORDINATOR,
                        outcome=f"{choice.user.email} ({choice.country.code})",
                        message="; ".join(str(w) for w in choice.warnings),
                    )
                assigned += len(valid) + len(by_hand)
                if _has_all_reviewers(nomination):
                    _task_complete(task, by)
                    gone_on += 1
        except TaskUnavailable:
            refused.append(_("A nomination was dealt with by someone else meanwhile."))
        except NominationError as error:
            refused.append(str(error))
    return assigned, refused, gone_on


def _coordinates_nomination_of(*, user, task):
    return may_coordinate_nomination(
        user=user, nomination=task.process.nominationprocess.nomination
    )


def review_remove(*, task_id, by, reason):
    """A coordinator takes a review away (a conflict came to light); a replacement is sought.

    The review ends as declined, with the coordinator's reason, and the flow
    chooses the best valid replacement exactly as when a reviewer declines.
    """
    if not reason.strip():
        raise NominationError(_("Please say why the reviewer is removed."))
    # The review row before the process row, as the reviewer's own paths take them.
    with review_task(task_id=task_id, user=by, permitted=_coordinates_nomination_of) as activation:
        review = Review.objects.select_for_update().get(pk=activation.task.data["review_id"])
        review_mark_declined(review=review, reason=reason)
        event_record(
            nomination=review.nomination,
            action=Action.REVIEWER_REMOVED,
            actor=by,
            role=Role.COORDINATOR,
            outcome=review.reviewer.email,
            message=reason,
        )
        activation.task.data = {**activation.task.data, "removed_by": by.pk, "declined": True}
    return review


# --- closing a call's selection ------------------------------------------------------------


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
    from .selectors import undecided_nominations

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
