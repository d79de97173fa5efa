"""Finding a nomination's open steps: shared by the demo data and the test suite."""

from viewflow.workflow.models import Task

from .deadlines import OPEN_TASK_STATUSES


def open_tasks(nomination, node):
    """The open tasks of ``node`` for ``nomination``, oldest first."""
    return list(
        Task.objects.filter(
            process__nominationprocess__nomination=nomination,
            flow_task=node,
            status__in=OPEN_TASK_STATUSES,
        ).order_by("pk")
    )


def open_task(nomination, node):
    """The one open task of ``node`` for ``nomination``."""
    return Task.objects.get(
        process__nominationprocess__nomination=nomination,
        flow_task=node,
        status__in=OPEN_TASK_STATUSES,
    )
