"""Every action that moves a nomination through its process, one module per stage.

Callers import from here; ``tasks`` holds the lock and checks every action shares.
"""

from .assignment import (
    FINDING_NODES,
    SoftRulesBroken,
    review_remove,
    reviewer_add_by_hand,
    reviewers_assign_in_bulk,
    reviewers_find_again,
    reviewers_go_on,
)
from .hub import (
    practice_public_save,
)
from .reviewing import (
    review_decline,
    review_submit,
)
from .screening import (
    ScreeningDecision,
    nomination_screen,
)
from .selection import (
    SelectionNotReady,
    selection_confirm,
    selection_decide,
    selection_decide_many,
    selection_finalise,
    selection_propose,
    selection_return,
)
from .submission import (
    nomination_resubmit,
    nomination_submit,
)
from .tasks import (
    TASK_CONTEXT,
    TaskUnavailable,
    human_task,
    open_task_locked,
    review_task,
    selection_not_final,
    task_unavailable_message,
)

__all__ = [
    "FINDING_NODES",
    "TASK_CONTEXT",
    "ScreeningDecision",
    "SelectionNotReady",
    "SoftRulesBroken",
    "TaskUnavailable",
    "human_task",
    "nomination_resubmit",
    "nomination_screen",
    "nomination_submit",
    "open_task_locked",
    "practice_public_save",
    "review_decline",
    "review_remove",
    "review_submit",
    "review_task",
    "reviewer_add_by_hand",
    "reviewers_assign_in_bulk",
    "reviewers_find_again",
    "reviewers_go_on",
    "selection_confirm",
    "selection_decide",
    "selection_decide_many",
    "selection_finalise",
    "selection_not_final",
    "selection_propose",
    "selection_return",
    "task_unavailable_message",
]
