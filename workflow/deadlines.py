"""Deadlines of human tasks.

A human task keeps its due moment in viewflow's own ``Task.scheduled`` column:
it is indexed, and viewflow's timer dispatcher reads it only for TIMER tasks.
"""

from datetime import timedelta

from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

OPEN_TASK_STATUSES = (STATUS.NEW, STATUS.ASSIGNED)


def task_deadline_set(*, task, days):
    task.scheduled = task.created + timedelta(days=days)
    Task.objects.filter(pk=task.pk).update(scheduled=task.scheduled)


def task_is_overdue(task, *, now=None):
    now = now or timezone.now()
    return task.status in OPEN_TASK_STATUSES and task.scheduled is not None and task.scheduled < now
