"""Peer review: a reviewer submits or declines."""

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from nominations.models import (
    NominationEvent,
)
from nominations.services import (
    NominationError,
    event_record,
)
from reviewers.models import Review, RubricCriterion
from reviewers.services import (
    review_mark_declined,
    review_mark_submitted,
    review_scores_save,
)

from .tasks import review_task

Role = NominationEvent.Role
Action = NominationEvent.Action


def _review_for_task(activation, by):
    """The task's review, locked, with the nomination and call the step already holds.

    The task was read with its nomination and call (``TASK_CONTEXT``): the review takes
    them from there rather than joining them again, and counts the call's criteria by id.
    """
    nomination = activation.task.process.nominationprocess.nomination
    criteria = (
        RubricCriterion.objects.filter(call_id=nomination.call_id)
        .order_by()
        .values("call")
        .annotate(count=Count("pk"))
        .values("count")
    )
    review = (
        Review.objects.select_for_update(of=("self",))
        .annotate(criteria_count=Coalesce(Subquery(criteria), 0))
        .get(pk=activation.task.data["review_id"])
    )
    if review.reviewer_id != by.pk:
        raise PermissionDenied
    if review.nomination_id == nomination.pk:
        review.nomination = nomination
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
