from viewflow.workflow.models import Task

from workflow.deadlines import OPEN_TASK_STATUSES


def open_task(nomination, node):
    """The one open task of ``node`` for ``nomination``."""
    return Task.objects.get(
        process__nominationprocess__nomination=nomination,
        flow_task=node,
        status__in=OPEN_TASK_STATUSES,
    )


def open_tasks(nomination, node):
    return list(
        Task.objects.filter(
            process__nominationprocess__nomination=nomination,
            flow_task=node,
            status__in=OPEN_TASK_STATUSES,
        ).order_by("pk")
    )


def full_scores(call, score=4):
    return {c.pk: (score, f"Comment on {c.title}") for c in call.criteria.all()}
