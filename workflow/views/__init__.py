"""The pages of the flow, one module per stage; ``workflow/urls.py`` names them here."""

from .assignment import bulk_assign
from .dashboards import dashboard
from .pool import pool
from .reviewing import review_remove_view
from .selection import led_calls, selection_board, selection_finalise_view
from .tasks import home, inbox, task_detail

__all__ = [
    "bulk_assign",
    "dashboard",
    "home",
    "inbox",
    "led_calls",
    "pool",
    "review_remove_view",
    "selection_board",
    "selection_finalise_view",
    "task_detail",
]
