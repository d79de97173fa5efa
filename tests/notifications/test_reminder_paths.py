"""The reminder sweep's two ways of deciding give one result, in a bounded number of statements.

On PostgreSQL the database decides which points are due and builds each message's list
of tasks (``_reminders_send_in_database``); elsewhere Python does, over the candidate
rows (``_reminders_send_in_python``). Both run here over the same tasks — pool tasks
nobody holds, held ones, several tasks per person, every point — and must write the same
messages, notifications and log.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from viewflow.workflow.models import Task

from nominations.models import Call
from notifications.models import Message, Notification, ReminderLog
from notifications.services import preference_for
from workflow import reminders
from workflow.flows import NominationFlow
from workflow.services import ScreeningDecision, nomination_screen, nomination_submit

from ..factories import NominationFactory, UserFactory
from ..workflow.helpers import open_task, open_tasks

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
GRACE = 3 * DAY

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the database's sweep is PostgreSQL's"
)


def written():
    """What sweeps write, comparable across runs: by key, never by row id."""
    kinds = [Message.Kind.REMINDER, Message.Kind.ESCALATION]
    messages = sorted(
        (m.idempotency_key, m.kind, m.recipient_id, m.subject, m.status, m.language, m.context)
        for m in Message.objects.filter(kind__in=kinds)
    )
    notifications = sorted(
        Notification.objects.filter(message__kind__in=kinds).values_list(
            "recipient_id", "title", "path", "message__idempotency_key"
        )
    )
    log = sorted(ReminderLog.objects.values_list("task_id", "point", "message__idempotency_key"))
    return messages, notifications, log


def sweep(path, now):
    calls = {call.pk: call for call in Call.objects.all()}
    max_days = max(max(call.reminder_days or [0]) for call in calls.values())
    return path(now=now, calls=calls, max_days=max_days)


def each_path(now):
    """Run both ways from the same state; returns {name: (result, what it wrote)}."""
    results = {}
    for name in ("_reminders_send_in_python", "_reminders_send_in_database"):
        with transaction.atomic():
            result = sweep(getattr(reminders, name), now)
            results[name] = (result, written())
            transaction.set_rollback(True)
    return results


@pytest.fixture
def due():
    return (timezone.now() + timedelta(days=90)).replace(microsecond=0)


@pytest.fixture
def busy_call(call, countries, theme, nominator, coordinator, reviewers, lead, due):
    """Screenings nobody holds, one held, reviews (three per nomination) due at every point."""
    countries["SE"].coordinators.add(UserFactory(username="coordinator-se-2"))
    call.leads.add(UserFactory(username="lead-2"))
    nominations = [
        NominationFactory(call=call, nominator=nominator, country=countries["SE"], themes=[theme])
        for _ in range(6)
    ]
    for nomination in nominations:
        nomination_submit(nomination=nomination, by=nomination.nominator)
    for nomination in nominations[:3]:
        nomination_screen(
            task_id=open_task(nomination, NominationFlow.screen).pk,
            by=coordinator,
            decision=ScreeningDecision.ACCEPT,
        )
    held = open_task(nominations[3], NominationFlow.screen)
    Task.objects.filter(pk=held.pk).update(owner=coordinator)
    # Deadlines spread over every point: 6 days ahead, within a day, overdue, escalated.
    offsets = [6 * DAY, HOUR, -DAY, -(GRACE + DAY)]
    tasks = [task for n in nominations[:3] for task in open_tasks(n, NominationFlow.review)]
    tasks += [open_task(n, NominationFlow.screen) for n in nominations[3:]]
    for i, task in enumerate(tasks):
        Task.objects.filter(pk=task.pk).update(scheduled=due + offsets[i % len(offsets)])
    return tasks


@postgresql_only
def test_the_database_and_python_write_the_same_reminders(busy_call, due):
    results = each_path(due)

    python, database = results.values()
    assert database == python
    (scanned, messages), (message_rows, notifications, log) = python
    assert scanned == len(busy_call)
    assert messages == len(message_rows) == len(notifications)
    assert {row[1] for row in message_rows} == {Message.Kind.REMINDER, Message.Kind.ESCALATION}
    assert {point for _task, point, _key in log} == {
        "before:7",
        "before:1",
        "overdue",
        "escalation",
    }


@postgresql_only
def test_the_database_and_python_agree_once_some_points_are_logged(busy_call, due):
    sweep(reminders._reminders_send_in_database, due - 2 * DAY)

    python, database = each_path(due + GRACE).values()

    assert database == python


@postgresql_only
def test_the_database_sweep_takes_as_many_statements_for_one_task_as_for_many(
    busy_call, due, django_assert_num_queries
):
    """Tasks, people and points never add a statement: the sweep over a big call stays a
    handful of them."""
    for user in get_user_model().objects.all():
        preference_for(user)  # a first message also creates its recipient's preference
    now = due + GRACE + HOUR
    Task.objects.filter(pk__in=[task.pk for task in busy_call]).update(scheduled=now + 60 * DAY)
    Task.objects.filter(pk=busy_call[0].pk).update(scheduled=due)
    # Reads, the working table, the messages, their notifications, the log.
    statements = 20
    with django_assert_num_queries(statements):
        # The reviewer's overdue notice; the escalation to the country's two coordinators.
        assert reminders.reminders_send(now=now) == (1, 3)

    Task.objects.filter(pk__in=[task.pk for task in busy_call]).update(scheduled=due)
    ReminderLog.objects.all().delete()
    with django_assert_num_queries(statements):
        assert reminders.reminders_send(now=now) == (len(busy_call), 9)


def test_a_second_sweep_over_the_same_moment_writes_nothing(busy_call, due):
    assert reminders.reminders_send(now=due)[1] > 0
    before = written()

    assert reminders.reminders_send(now=due)[1] == 0
    assert written() == before


def test_the_key_is_the_same_however_the_pairs_are_spelled():
    pairs = [(12, "overdue"), (3, "before:7"), (12, "before:1"), (3, "before:10")]

    assert reminders._key("reminder", 5, pairs) == reminders._key_of(
        "reminder", 5, "[(3, 'before:10'), (3, 'before:7'), (12, 'before:1'), (12, 'overdue')]"
    )
