"""A nomination's stages and the one way to move between them.

Every change of ``Nomination.stage`` goes through ``nomination_transition``: it refuses a
move the table below does not allow from the stage the nomination is in, sets the stage,
appends the history event and tells the nominator, so those three never drift apart.

```
draft ─submit─▶ screening ─accept─▶ review ─reviews_complete─▶ selection ─decide─▶ decided
                  │   ▲  └─reject─▶ rejected
    request_changes   resubmit
                  ▼   │
            changes_requested
```
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from nominations.models import Nomination, NominationEvent
from nominations.services import NominationError, event_record
from notifications.models import Message
from notifications.services import nominator_notify

Stage = Nomination.Stage
Action = NominationEvent.Action


@dataclass(frozen=True)
class Transition:
    sources: frozenset  # the stages it may start from
    target: str
    action: str  # the history event it writes
    tells: str | None  # the message the nominator receives, if any


TRANSITIONS = {
    "submit": Transition(
        frozenset({Stage.DRAFT}),
        Stage.SCREENING,
        Action.SUBMITTED,
        Message.Kind.SUBMISSION_RECEIVED,
    ),
    "resubmit": Transition(
        frozenset({Stage.CHANGES_REQUESTED}),
        Stage.SCREENING,
        Action.RESUBMITTED,
        Message.Kind.SUBMISSION_RECEIVED,
    ),
    "accept": Transition(
        frozenset({Stage.SCREENING}),
        Stage.REVIEW,
        Action.SCREENING_ACCEPTED,
        Message.Kind.ACCEPTED_FOR_REVIEW,
    ),
    "request_changes": Transition(
        frozenset({Stage.SCREENING}),
        Stage.CHANGES_REQUESTED,
        Action.CHANGES_REQUESTED,
        Message.Kind.CHANGES_REQUESTED,
    ),
    "reject": Transition(
        frozenset({Stage.SCREENING}), Stage.REJECTED, Action.REJECTED, Message.Kind.REJECTED
    ),
    "reviews_complete": Transition(
        frozenset({Stage.REVIEW}), Stage.SELECTION, Action.REVIEWS_COMPLETE, None
    ),
    "decide": Transition(
        frozenset({Stage.SELECTION}), Stage.DECIDED, Action.DECIDED, Message.Kind.DECIDED
    ),
}


class IllegalTransition(NominationError):
    """The nomination is not in a stage the move may start from."""


def nomination_transition(
    *, nomination, move, role, key, actor=None, message="", outcome="", **fields
):
    """Move ``nomination`` by ``move`` (a key of ``TRANSITIONS``); returns the history event.

    ``key`` makes the nominator's message once only; ``fields`` are saved with the stage
    (``submitted_at`` on a first submission). Call it inside the transaction and under the
    lock of the step that causes it.
    """
    transition = TRANSITIONS[move]
    if nomination.stage not in transition.sources:
        raise IllegalTransition(
            _("This nomination is no longer at the stage where this could be done.")
        )
    nomination.stage = transition.target
    for name, value in fields.items():
        setattr(nomination, name, value)
    nomination.save(update_fields=["stage", "updated_at", *fields])
    event = event_record(
        nomination=nomination,
        action=transition.action,
        actor=actor,
        role=role,
        outcome=outcome,
        message=message,
    )
    if transition.tells:
        nominator_notify(
            nomination=nomination,
            kind=transition.tells,
            key=key,
            message=message,
            outcome=outcome,
            resubmitted=move == "resubmit",
        )
    return event
