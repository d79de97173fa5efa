"""Emails reach a real SMTP server exactly once, through a real broker and a real worker.

A submission writes its messages in the submission's transaction; after commit each is
queued on Redis, and a ``celery worker`` subprocess sends it to an SMTP sink running in
this process. The tests break that path the ways production breaks it — Redis stops, a
worker dies in the middle of a send, the provider refuses — and check that every email
still arrives once, and only once, or ends up failed in front of staff.

Needs PostgreSQL (the worker is another process sharing the test database), redis-server
and aiosmtpd; the fixtures are in ``conftest.py``.
"""

import base64
import json
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django.utils.html import escape
from kombu.transport.redis import Channel as RedisChannel

from nominations.models import Nomination
from notifications.models import Message
from notifications.services import MAX_ATTEMPTS, message_send, messages_sweep
from notifications.tasks import sweep_messages
from workflow.services import nomination_submit

from ..factories import NominationFactory, UserFactory
from .conftest import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=(
            "These tests share the test database with a Celery worker in another process, "
            "which must read what they commit: they need PostgreSQL "
            f"(this run uses {connection.vendor})."
        ),
    ),
]

#: Upper bound for anything that should take a second or two.
WAIT = 30
#: How long "still exactly these emails" is watched for, after the last one arrived.
QUIET = 1.0
#: A worker's log line for a sweep that sent ``count`` messages.
SWEEP_SENT = r"Task notifications\.tasks\.sweep_messages\[[0-9a-f-]+\] succeeded in \S+: {count}$"


@pytest.fixture
def two_coordinators(countries):
    """Sweden's national coordinators: each is told of every Swedish submission."""
    people = [UserFactory(username="astrid"), UserFactory(username="erik")]
    countries["SE"].coordinators.add(*people)
    return people


def submission_emails(nomination, nominator, coordinators):
    """What the sink should accept for one submission: (recipients, subject), sorted."""
    title = nomination.title
    expected = [((nominator.email,), f"We received your nomination “{title}”")]
    expected += [((c.email,), f"National screening: “{title}”") for c in coordinators]
    return sorted(expected)


def as_sent(received):
    return sorted((email.to, email.subject) for email in received)


def assert_each_message_emailed_once(received):
    """Every Message row was accepted by the sink exactly once, and nothing else was."""
    keys = Counter(email.key for email in received)
    assert keys == Counter(Message.objects.values_list("idempotency_key", flat=True))
    assert set(keys.values()) == {1}


def outbox_rows():
    return sorted(Message.objects.values_list("to_email", "kind", "status", "attempts"))


def test_a_submission_emails_the_nominator_and_each_coordinator_once(
    draft, nominator, two_coordinators, smtp_sink, smtp_settings, real_broker, start_worker
):
    worker = start_worker()

    nomination_submit(nomination=draft, by=nominator)

    received = smtp_sink.wait_for_count(3, timeout=WAIT)
    assert as_sent(received) == submission_emails(draft, nominator, two_coordinators)
    # Neither the sweep in this process nor the one beat queues sends anything again.
    assert messages_sweep() == 0
    sweep_messages.delay()
    worker.wait_for_task("notifications.tasks.sweep_messages", timeout=WAIT)
    received = smtp_sink.still(3, for_seconds=QUIET)
    assert_each_message_emailed_once(received)
    assert smtp_sink.refused == []
    assert outbox_rows() == sorted(
        [
            (nominator.email, Message.Kind.SUBMISSION_RECEIVED, Message.Status.SENT, 1),
            *[
                (c.email, Message.Kind.TASK_ASSIGNED, Message.Status.SENT, 1)
                for c in two_coordinators
            ],
        ]
    )


def test_a_broker_outage_delays_emails_until_the_sweep_which_sends_each_once(
    call,
    countries,
    theme,
    nominator,
    two_coordinators,
    smtp_sink,
    smtp_settings,
    private_redis,
    real_broker,
    start_worker,
):
    worker = start_worker()
    drafts = [
        NominationFactory(call=call, nominator=nominator, country=countries["SE"], themes=[theme])
        for _ in range(3)
    ]

    private_redis.stop()
    for draft in drafts:
        # No exception: the outage is not the nominator's problem. (Each message's
        # dispatch waits for kombu's retries, about 0.6 s, then gives up to the sweep.)
        nomination_submit(nomination=draft, by=nominator)

    assert (
        sorted(Nomination.objects.values_list("stage", flat=True))
        == [Nomination.Stage.SCREENING] * 3
    )
    assert outbox_rows() == sorted(
        [(nominator.email, Message.Kind.SUBMISSION_RECEIVED, Message.Status.PENDING, 0)] * 3
        + [
            (c.email, Message.Kind.TASK_ASSIGNED, Message.Status.PENDING, 0)
            for c in two_coordinators
        ]
        * 3
    )
    assert smtp_sink.accepted() == []

    private_redis.start()  # empty: it keeps nothing on disk
    worker.wait_for_log("Connected to redis://", count=2, timeout=WAIT)  # reconnected
    sweep_messages.delay()  # what beat queues every minute

    received = smtp_sink.wait_for_count(9, timeout=WAIT)
    expected = []
    for draft in drafts:
        expected += submission_emails(draft, nominator, two_coordinators)
    assert as_sent(received) == sorted(expected)
    worker.wait_for_log(SWEEP_SENT.format(count=9), timeout=WAIT)  # the sweep sent them
    assert messages_sweep() == 0
    received = smtp_sink.still(9, for_seconds=QUIET)
    assert_each_message_emailed_once(received)
    assert set(Message.objects.values_list("status", "attempts")) == {(Message.Status.SENT, 1)}


def unacknowledged_tasks(redis_client):
    """The tasks a Redis consumer took but never acknowledged: (task name, args, id)."""
    tasks = []
    for payload in redis_client.hvals(RedisChannel.unacked_key):
        raw, _exchange, _routing_key = json.loads(payload)
        args, _kwargs, _embed = json.loads(base64.b64decode(raw["body"]))
        tasks.append((raw["headers"]["task"], args, raw["headers"]["id"]))
    return tasks


def let_the_visibility_timeout_pass(redis_client, app):
    """Age every unacknowledged delivery past the visibility timeout (an hour by default)."""
    timeout = app.conf.broker_transport_options.get(
        "visibility_timeout", RedisChannel.visibility_timeout
    )
    long_ago = time.time() - timeout - 60
    tags = redis_client.zrange(RedisChannel.unacked_index_key, 0, -1)
    redis_client.zadd(RedisChannel.unacked_index_key, dict.fromkeys(tags, long_ago))


def row_lock_released(message):
    with transaction.atomic():
        return Message.objects.select_for_update(skip_locked=True).filter(pk=message.pk).exists()


def test_a_worker_killed_in_the_middle_of_a_send_leaves_the_message_to_be_sent_once(
    draft,
    nominator,
    two_coordinators,
    smtp_sink,
    smtp_settings,
    private_redis,
    real_broker,
    start_worker,
):
    smtp_sink.hold_next_message()
    first = start_worker()

    nomination_submit(nomination=draft, by=nominator)
    assert smtp_sink.holding.wait(WAIT), "the worker never reached the sink"
    held = Message.objects.get(idempotency_key=smtp_sink.held.key)
    first.kill()  # inside email.send(), waiting for the reply to DATA

    # Its transaction died with it: still pending, the attempt not even counted.
    wait_until(
        lambda: row_lock_released(held),
        timeout=WAIT,
        what="PostgreSQL to end the killed worker's transaction",
    )
    held.refresh_from_db()
    assert (held.status, held.attempts, held.sent_at) == (Message.Status.PENDING, 0, None)
    assert smtp_sink.accepted() == []
    # acks_late: Redis keeps the task as delivered but unacknowledged. A solo worker runs
    # each task as it takes it, so it is the only one this worker had taken (a prefork
    # worker takes a few ahead: test_sending_integration.py kills one of those).
    redis_client = private_redis.client()
    [(task_name, args, lost_task_id)] = unacknowledged_tasks(redis_client)
    assert (task_name, args) == ("notifications.tasks.send_message", [held.pk])

    smtp_sink.release()
    second = start_worker()
    # The two other messages were still queued; the new worker sends them.
    received = smtp_sink.wait_for_count(2, timeout=WAIT)
    assert held.idempotency_key not in {email.key for email in received}
    held.refresh_from_db()
    assert held.status == Message.Status.PENDING  # its task waits for the visibility timeout
    sweep_messages.delay()
    received = smtp_sink.wait_for_count(3, timeout=WAIT)
    second.wait_for_log(SWEEP_SENT.format(count=1), timeout=WAIT)  # the sweep sent it
    assert as_sent(received) == submission_emails(draft, nominator, two_coordinators)
    second.stop()

    # An hour later Redis hands the lost task to a worker again: it finds the message sent.
    let_the_visibility_timeout_pass(redis_client, real_broker)
    third = start_worker()
    third.wait_for_task(f"notifications.tasks.send_message[{lost_task_id}]", timeout=WAIT)
    assert third.result_of(lost_task_id) == "None"  # the message was no longer pending
    assert unacknowledged_tasks(redis_client) == []
    assert messages_sweep() == 0
    received = smtp_sink.still(3, for_seconds=QUIET)
    assert_each_message_emailed_once(received)
    assert set(Message.objects.values_list("status", "attempts")) == {(Message.Status.SENT, 1)}


@pytest.mark.parametrize(
    "reply, error",
    [
        (
            "550 5.7.1 Message refused by the provider",
            "SMTPDataError: (550, b'5.7.1 Message refused by the provider')",
        ),
        (
            "451 4.3.0 Provider temporarily unavailable",
            "SMTPDataError: (451, b'4.3.0 Provider temporarily unavailable')",
        ),
    ],
    ids=["permanent-5xx", "temporary-4xx"],
)
def test_a_refused_message_is_retried_with_backoff_then_failed_and_shown_to_staff(
    reply, error, draft, nominator, two_coordinators, smtp_sink, smtp_settings, client
):
    """No worker: tasks run eagerly at commit here, and later attempts are driven by hand."""
    smtp_sink.refuse(nominator.email, reply)
    before = timezone.now()

    nomination_submit(nomination=draft, by=nominator)

    message = Message.objects.get(kind=Message.Kind.SUBMISSION_RECEIVED)
    after = timezone.now()
    assert (message.status, message.attempts, message.last_error) == (
        Message.Status.PENDING,
        1,
        error,
    )
    assert before + timedelta(minutes=1) <= message.next_attempt_at <= after + timedelta(minutes=1)
    # The coordinators' emails are not held up by the nominator's.
    assert as_sent(smtp_sink.accepted()) == [
        ((c.email,), f"National screening: “{draft.title}”") for c in two_coordinators
    ]
    # Not due yet: the sweep leaves it alone.
    assert messages_sweep(now=message.next_attempt_at - timedelta(seconds=1)) == 0
    message.refresh_from_db()
    assert message.attempts == 1

    for attempt in range(2, MAX_ATTEMPTS + 1):
        now = message.next_attempt_at
        status = message_send(message_id=message.pk, now=now)
        message.refresh_from_db()
        assert (message.attempts, message.last_error) == (attempt, error)
        if attempt < MAX_ATTEMPTS:
            assert status == Message.Status.PENDING
            assert message.next_attempt_at == now + timedelta(minutes=2 ** (attempt - 1))
        else:
            assert status == Message.Status.FAILED

    assert [email.key for email, _reply in smtp_sink.refused] == [
        message.idempotency_key
    ] * MAX_ATTEMPTS
    # Failed for good: no sweep tries it again.
    assert messages_sweep(now=now + timedelta(days=1)) == 0
    assert len(smtp_sink.refused) == MAX_ATTEMPTS

    client.force_login(UserFactory(username="staff", is_staff=True))
    response = client.get("/notifications/outbox/?status=failed")
    assert response.status_code == 200
    page = response.content.decode()
    assert escape(message.subject) in page
    assert escape(error) in page
    assert nominator.email in page
    assert all(c.email not in page for c in two_coordinators)  # sent, so not listed
