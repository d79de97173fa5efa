"""National screening: a coordinator accepts, sends back or rejects a nomination."""

from django.utils.translation import gettext as _

from nominations.models import (
    NominationEvent,
)
from nominations.services import (
    NominationError,
)

from ..flows import NominationFlow
from ..transitions import nomination_transition
from .tasks import human_task

Role = NominationEvent.Role


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
