"""Every action that moves a nomination through its process.

Human actions go through ``human_task``: it takes the process lock, re-reads
the task and checks that it is still open and that the person may act on it.
Of two people acting on one task at once exactly one succeeds; the other gets
a ``TaskUnavailable`` that says who was first.
"""

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from nominations.models import Nomination, NominationEvent, SelectionDecision
from nominations.services import (
    NominationError,
    event_record,
    nomination_missing_fields,
    nomination_set_stage,
)
from notifications.models import Message
from notifications.services import nominator_notify
from reviewers.models import Review
from reviewers.services import review_mark_submitted, review_scores_save

from .deadlines import OPEN_TASK_STATUSES
from .flows import NominationFlow

Role = NominationEvent.Role
Action = NominationEvent.Action


class TaskUnavailable(Exception):
    """The task was completed or cancelled before this action reached it."""


@contextmanager
def human_task(*, task_id, node, user):
    """Run one person's action on an open task, then move the flow on.

    Yields the task's activation; the caller changes the domain inside the
    block. On leaving it the task is completed and the next steps created,
    all in one transaction under the process lock.
    """
    from .selectors import can_act_on_task

    process_id = Task.objects.filter(pk=task_id).values_list("process_id", flat=True).first()
    if process_id is None:
        raise TaskUnavailable(_("This task does not exist any more."))
    with transaction.atomic(), NominationFlow.lock(process_id):
        task = Task.objects.select_related("owner").get(pk=task_id)
        if task.flow_task != node or not can_act_on_task(user=user, task=task):
            raise PermissionDenied
        if task.status not in OPEN_TASK_STATUSES:
            raise TaskUnavailable(task_unavailable_message(task))
        activation = node.activation_class(task)
        if task.owner_id is None:
            activation.assign(user)
        activation.start(None)
        yield activation
        activation.execute()


def task_unavailable_message(task):
    if task.status == STATUS.DONE and task.owner:
        return _("This task was already completed by %(name)s on %(date)s.") % {
            "name": task.owner.get_full_name() or task.owner.email,
            "date": timezone.localtime(task.finished).strftime("%Y-%m-%d %H:%M"),
        }
    return _("This task is no longer open.")


def nomination_submit(*, nomination, by):
    """Freeze a complete draft and start its process while the call is open."""
    with transaction.atomic():
        nomination = Nomination.objects.select_for_update().get(pk=nomination.pk)
        if nomination.nominator_id != by.pk:
            raise PermissionDenied
        if nomination.stage != Nomination.Stage.DRAFT:
            raise NominationError(_("This nomination has already been submitted."))
        if not nomination.call.is_open():
            raise NominationError(_("This call is closed; nominations can no longer be submitted."))
        missing = nomination_missing_fields(nomination)
        if missing:
            raise NominationError(
                _("Please complete before submitting: %(fields)s.") % {"fields": ", ".join(missing)}
            )
        nomination_set_stage(
            nomination=nomination, stage=Nomination.Stage.SCREENING, submitted_at=timezone.now()
        )
        event_record(nomination=nomination, action=Action.SUBMITTED, actor=by, role=Role.NOMINATOR)
        NominationFlow.submit.run(nomination=nomination)
        nominator_notify(
            nomination=nomination, kind=Message.Kind.SUBMISSION_RECEIVED, key="submitted"
        )
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
        nomination_set_stage(nomination=nomination, stage=Nomination.Stage.SCREENING)
        event_record(
            nomination=nomination, action=Action.RESUBMITTED, actor=by, role=Role.NOMINATOR
        )
        nominator_notify(
            nomination=nomination,
            kind=Message.Kind.SUBMISSION_RECEIVED,
            key=f"resubmitted:{task_id}",
        )
    return nomination


class ScreeningDecision:
    ACCEPT = "accept"
    REQUEST_CHANGES = "request_changes"
    REJECT = "reject"

    OUTCOMES = {
        ACCEPT: (Nomination.Stage.REVIEW, Action.SCREENING_ACCEPTED),
        REQUEST_CHANGES: (Nomination.Stage.CHANGES_REQUESTED, Action.CHANGES_REQUESTED),
        REJECT: (Nomination.Stage.REJECTED, Action.REJECTED),
    }
    #: What the nominator is told of each decision.
    MESSAGES = {
        ACCEPT: Message.Kind.ACCEPTED_FOR_REVIEW,
        REQUEST_CHANGES: Message.Kind.CHANGES_REQUESTED,
        REJECT: Message.Kind.REJECTED,
    }


def nomination_screen(*, task_id, by, decision, message=""):
    """A national coordinator accepts, sends back or rejects a nomination.

    Sending back and rejecting need a message: the nominator is told why.
    """
    stage, action = ScreeningDecision.OUTCOMES[decision]
    if decision != ScreeningDecision.ACCEPT and not message.strip():
        raise NominationError(_("Please tell the nominator why."))
    with human_task(task_id=task_id, node=NominationFlow.screen, user=by) as activation:
        nomination = activation.process.nomination
        nomination_set_stage(nomination=nomination, stage=stage)
        event_record(
            nomination=nomination, action=action, actor=by, role=Role.COORDINATOR, message=message
        )
        nominator_notify(
            nomination=nomination,
            kind=ScreeningDecision.MESSAGES[decision],
            key=f"screened:{task_id}",
            message=message,
        )
    return nomination


def _review_for_task(activation, by):
    review = Review.objects.select_for_update().get(pk=activation.task.data["review_id"])
    if review.reviewer_id != by.pk:
        raise PermissionDenied
    return review


def review_submit(*, task_id, by, scores, comment):
    """Submit a complete review; the last one in closes the review stage."""
    with human_task(task_id=task_id, node=NominationFlow.review, user=by) as activation:
        review = _review_for_task(activation, by)
        criteria_count = review.nomination.call.criteria.count()
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
    with human_task(task_id=task_id, node=NominationFlow.review, user=by) as activation:
        review = _review_for_task(activation, by)
        review.status = Review.Status.DECLINED
        review.decline_reason = reason
        review.save(update_fields=["status", "decline_reason"])
        event_record(
            nomination=review.nomination,
            action=Action.REVIEW_DECLINED,
            actor=by,
            role=Role.REVIEWER,
            message=reason,
        )
    return review


def selection_decide(*, task_id, by, outcome, rationale):
    """A lead decides the nomination's outcome; the nominator sees it with the rationale."""
    if not rationale.strip():
        raise NominationError(_("Please give the rationale the nominator will read."))
    with human_task(task_id=task_id, node=NominationFlow.select, user=by) as activation:
        nomination = activation.process.nomination
        decision = SelectionDecision.objects.create(
            nomination=nomination, outcome=outcome, rationale=rationale, decided_by=by
        )
        nomination_set_stage(nomination=nomination, stage=Nomination.Stage.DECIDED)
        event_record(
            nomination=nomination,
            action=Action.DECIDED,
            actor=by,
            role=Role.LEAD,
            outcome=decision.get_outcome_display(),
            message=rationale,
        )
        nominator_notify(
            nomination=nomination,
            kind=Message.Kind.DECIDED,
            key="decided",
            message=rationale,
            outcome=decision.outcome,
        )
    return decision
