"""A worker sends many messages on one SMTP connection, and still each exactly once.

As in ``test_delivery_integration.py``: a real ``celery worker`` on the test database, a
private Redis, an SMTP sink in this process (fixtures in ``conftest.py``).
"""

import pytest
from django.db import connection, transaction

from notifications.models import Message
from notifications.services import messages_dispatch, messages_sweep, notify
from notifications.tasks import sweep_messages

from ..factories import UserFactory
from .conftest import wait_until
from .test_delivery_integration import (
    QUIET,
    SWEEP_SENT,
    WAIT,
    assert_each_message_emailed_once,
    let_the_visibility_timeout_pass,
    row_lock_released,
    unacknowledged_tasks,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=f"a worker in another process shares the test database (not {connection.vendor})",
    ),
]


def messages_written(count):
    """``count`` messages to as many people, written in one transaction."""
    people = [UserFactory(username=f"reader{i}") for i in range(count)]
    with transaction.atomic():
        for i, person in enumerate(people):
            notify(
                recipient=person,
                kind=Message.Kind.DECIDED,
                key=f"test:burst:{i}",
                context={"nomination_title": f"Practice {i}", "outcome": "selected"},
                path=f"/nominations/{i}/",
            )
    return list(Message.objects.order_by("pk"))


def test_a_worker_sends_a_burst_on_one_smtp_connection_each_message_once(
    smtp_sink, smtp_settings, real_broker, start_worker
):
    worker = start_worker()

    messages_written(12)

    received = smtp_sink.wait_for_count(12, timeout=WAIT)
    assert [email.connection for email in received] == [1] * 12
    assert messages_sweep() == 0
    sweep_messages.delay()
    worker.wait_for_task("notifications.tasks.sweep_messages", timeout=WAIT)
    received = smtp_sink.still(12, for_seconds=QUIET)
    assert_each_message_emailed_once(received)
    assert set(Message.objects.values_list("status", "attempts")) == {(Message.Status.SENT, 1)}


def test_a_batch_whose_worker_dies_mid_send_leaves_the_rest_pending_each_sent_once(
    smtp_sink, smtp_settings, settings, private_redis, real_broker, start_worker
):
    settings.EMAIL_SEND_BATCH_MIN = 2
    messages = messages_written(4)
    real_broker.control.purge()  # the sends queued at commit; queue them as one batch
    messages_dispatch(message_ids=[message.pk for message in messages])
    redis_client = private_redis.client()
    smtp_sink.hold_next_message()
    first = start_worker()

    assert smtp_sink.holding.wait(WAIT), "the worker never reached the sink"
    held = Message.objects.get(idempotency_key=smtp_sink.held.key)
    assert held == messages[0]
    first.kill()  # inside the first send of the batch, waiting for the reply to DATA

    wait_until(
        lambda: row_lock_released(held),
        timeout=WAIT,
        what="PostgreSQL to end the killed worker's transaction",
    )
    # Nothing was marked: the one in flight rolled back, the rest were never tried.
    assert set(Message.objects.values_list("status", "attempts")) == {(Message.Status.PENDING, 0)}
    assert smtp_sink.accepted() == []
    [(task_name, args, lost_task_id)] = unacknowledged_tasks(redis_client)
    assert (task_name, args) == (
        "notifications.tasks.send_messages",
        [[message.pk for message in messages]],
    )

    smtp_sink.release()
    second = start_worker()
    sweep_messages.delay()  # what beat queues every minute
    smtp_sink.wait_for_count(4, timeout=WAIT)
    second.wait_for_log(SWEEP_SENT.format(count=4), timeout=WAIT)
    second.stop()

    # An hour later Redis hands the lost batch to a worker again: every message is sent.
    let_the_visibility_timeout_pass(redis_client, real_broker)
    third = start_worker()
    third.wait_for_task(f"notifications.tasks.send_messages[{lost_task_id}]", timeout=WAIT)
    assert third.result_of(lost_task_id) == "0"
    assert unacknowledged_tasks(redis_client) == []
    received = smtp_sink.still(4, for_seconds=QUIET)
    assert_each_message_emailed_once(received)
    assert set(Message.objects.values_list("status", "attempts")) == {(Message.Status.SENT, 1)}


def test_sends_a_killed_worker_had_taken_ahead_wait_for_the_sweep_and_go_out_once(
    smtp_sink, smtp_settings, private_redis, real_broker, start_worker
):
    """A prefork worker takes tasks ahead of the ones it runs (its prefetch), so that a pool
    process never waits for the broker between two sends. Killed outright, it leaves them
    unacknowledged until Redis's visibility timeout; the every-minute sweep sends them."""
    redis_client = private_redis.client()
    smtp_sink.hold_next_message()
    first = start_worker(pool="prefork")
    messages = messages_written(4)  # a task each (fewer than EMAIL_SEND_BATCH_MIN)

    assert smtp_sink.holding.wait(WAIT), "the worker never reached the sink"
    held = Message.objects.get(idempotency_key=smtp_sink.held.key)
    # Its one pool process is inside the first send; the worker has taken the other three.
    taken = wait_until(
        lambda: len(tasks := unacknowledged_tasks(redis_client)) == 4 and tasks,
        timeout=WAIT,
        what="the worker to take the four tasks",
    )
    first.kill()

    wait_until(
        lambda: row_lock_released(held),
        timeout=WAIT,
        what="PostgreSQL to end the killed worker's transaction",
    )
    assert set(Message.objects.values_list("status", "attempts")) == {(Message.Status.PENDING, 0)}
    assert sorted((name, args) for name, args, _id in taken) == [
        ("notifications.tasks.send_message", [message.pk]) for message in messages
    ]

    smtp_sink.release()
    second = start_worker()
    assert smtp_sink.still(0, for_seconds=QUIET) == []  # nothing was left on the queue
    sweep_messages.delay()  # what beat queues every minute
    smtp_sink.wait_for_count(4, timeout=WAIT)
    second.wait_for_log(SWEEP_SENT.format(count=4), timeout=WAIT)
    second.stop()

    # An hour later Redis hands the four tasks to a worker again: each finds its message sent.
    let_the_visibility_timeout_pass(redis_client, real_broker)
    third = start_worker()
    for _name, _args, task_id in taken:
        third.wait_for_task(f"notifications.tasks.send_message[{task_id}]", timeout=WAIT)
        assert third.result_of(task_id) == "None"
    assert unacknowledged_tasks(redis_client) == []
    received = smtp_sink.still(4, for_seconds=QUIET)
    assert_each_message_emailed_once(received)
    assert set(Message.objects.values_list("status", "attempts")) == {(Message.Status.SENT, 1)}
