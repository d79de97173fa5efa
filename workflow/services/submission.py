"""Submission: a nominator submits a complete draft, or resubmits after changes."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from nominations.models import (
    Nomination,
    NominationEvent,
)
from nominations.services import (
    NominationError,
    nomination_missing_fields,
)
from notifications.services import outbox_batch

from ..flows import NominationFlow
from ..transitions import nomination_transition
from .tasks import human_task, selection_not_final

Role = NominationEvent.Role


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
        # What is missing is read after the lock, in statements of its own: subqueries of
        # the locking read would see the themes as they were before the wait (PostgreSQL
        # re-reads only the locked row), so an edit that won the lock could go unchecked.
        _refuse_if_incomplete(nomination)
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
        _refuse_if_incomplete(nomination)
        nomination_transition(
            nomination=nomination,
            move="resubmit",
            actor=by,
            role=Role.NOMINATOR,
            key=f"resubmitted:{task_id}",
        )
    return nomination


def _refuse_if_incomplete(nomination):
    """Refuse a (re)submission that still misses a field, a theme or a required answer."""
    missing = nomination_missing_fields(nomination)
    if missing:
        raise NominationError(
            _("Please complete before submitting: %(fields)s.") % {"fields": ", ".join(missing)}
        )
