"""Finding reviewers: coordinators search again, add by hand, go on with fewer, assign a
whole call at once, or take a review away."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from viewflow.workflow.models import Task

from nominations.models import (
    NominationEvent,
)
from nominations.permissions import may_coordinate_nomination
from nominations.services import (
    NominationError,
    event_record,
)
from reviewers.models import Review
from reviewers.selectors import HELD_STATUSES
from reviewers.services import (
    call_assignments_lock,
    review_mark_declined,
    reviewer_choices,
    reviews_assign,
    reviews_create,
    reviews_replace_declined,
)

from ..flows import NominationFlow
from .tasks import TaskUnavailable, _task_complete, open_task_locked, review_task

Role = NominationEvent.Role
Action = NominationEvent.Action


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
    from ..selectors import can_act_on_task

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
