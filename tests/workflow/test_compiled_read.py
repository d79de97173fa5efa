"""A step's task read, compiled once, gives what the queryset itself gives, in one statement."""

import pytest
from django.db import transaction
from viewflow.workflow.models import Task

from workflow.flows import NominationFlow
from workflow.services import TASK_CONTEXT, nomination_submit
from workflow.services.tasks import _process_lock_of_task, _task_with_context

from .helpers import open_task

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def _context(task):
    nomination = task.process.nominationprocess.nomination
    return [
        (instance.__class__, instance.__dict__.copy())
        for instance in (
            task,
            task.process,
            task.process.nominationprocess,
            nomination,
            nomination.call,
            nomination.country,
            nomination.nominator,
        )
    ]


def _fields(pairs):
    return [(cls, {k: v for k, v in d.items() if k != "_state"}) for cls, d in pairs]


def test_the_compiled_task_read_gives_the_querysets_instances_in_one_statement(
    django_assert_num_queries, draft, nominator
):
    nomination_submit(nomination=draft, by=nominator)
    screen = open_task(draft, NominationFlow.screen)
    screen.data = {"note": ["json", 1]}
    screen.save()
    expected = Task.objects.select_related(*TASK_CONTEXT).get(pk=screen.pk)

    for _ in range(2):  # compiled on the first read, reused on the second
        with django_assert_num_queries(1):
            task = _task_with_context(screen.pk)
            context = _context(task)
        assert _fields(context) == _fields(_context(expected))
        assert task.data == {"note": ["json", 1]}
        assert task.owner is None
        assert not task._state.adding and task._state.db == "default"
    assert _task_with_context(-1) is None


def test_the_process_lock_reads_its_tasks_status_from_the_task_and_process_given(draft, nominator):
    nomination_submit(nomination=draft, by=nominator)
    screen = open_task(draft, NominationFlow.screen)
    with transaction.atomic():
        assert _process_lock_of_task(task_id=screen.pk) == (screen.status, None)
        assert _process_lock_of_task(task_id=screen.pk, process_id=screen.process_id + 1) is None
