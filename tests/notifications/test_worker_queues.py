"""Each kind of task has its queue, so that a long export never delays an email or a reminder.

``config/settings/celery.py`` routes every task by name to ``email``, ``sweeps`` or
``exports``; production runs a worker for ``email`` and ``sweeps`` and another for
``exports`` and Celery's default ``celery`` (docs/operations.md, "Workers and queues").
These tests check the routing as written, then where tasks land on a real Redis, then two
real workers: with the exports worker held inside an export, the other still sends an email
and runs the reminder sweep, and neither takes the other's tasks. The last test runs one
worker with no ``-Q`` on the embedded default's filesystem broker: it consumes every queue,
as ``make run``'s does.

The worker tests need PostgreSQL (the workers are other processes sharing the test
database), redis-server and aiosmtpd; the fixtures are in ``conftest.py``.
"""

import json
import os

import psycopg
import pytest
from celery.beat import Scheduler
from django.db import connection

from config.celery_app import app
from notifications.models import Message
from notifications.services import notify
from notifications.tasks import sweep_messages
from workflow.exports import export_request
from workflow.models import ExportFile
from workflow.tasks import export_files_expire, send_reminders

from .conftest import CeleryWorker, _drop_broker_connections, database_url, wait_until

#: What each queue is for, written out here rather than read from the settings.
QUEUE_OF = {
    # Short and many: one send per message or batch, and the sweep that retries them.
    "notifications.tasks.send_message": "email",
    "notifications.tasks.send_messages": "email",
    "notifications.tasks.sweep_messages": "email",
    # Beat's other jobs: a few a day or an hour, each a pass over the database.
    "workflow.tasks.send_reminders": "sweeps",
    "workflow.tasks.send_daily_digests": "sweeps",
    "workflow.tasks.invitations_remind_and_expire": "sweeps",
    "workflow.tasks.personal_data_retention": "sweeps",
    "workflow.tasks.export_files_expire": "sweeps",
    # What a person starts and waits for, as long as the call is big.
    "workflow.tasks.export_build": "exports",
    "workflow.tasks.invitation_import_run": "exports",
}
#: The production workers' queues (docs/operations.md).
MAIL_WORKER = ["email", "sweeps"]
BULK_WORKER = ["exports", "celery"]
WAIT = 30


def with_real_workers(test):
    """Workers in other processes read what the test commits: PostgreSQL, seconds a test."""
    marks = [
        pytest.mark.integration,
        pytest.mark.postgres,
        pytest.mark.slow,  # `make test-fast` skips them
        pytest.mark.django_db(transaction=True),
        pytest.mark.skipif(
            connection.vendor != "postgresql",
            reason=f"a worker in another process shares the database (not {connection.vendor})",
        ),
    ]
    for mark in marks:
        test = mark(test)
    return test


def queue_of(task_name):
    return app.amqp.router.route({}, task_name)["queue"].name


def nomflow_tasks():
    app.loader.import_default_modules()  # every app's tasks.py, as a worker loads them
    return {name for name in app.tasks if not name.startswith("celery.")}


# --- the routing as configured ------------------------------------------------------------


@pytest.mark.unit
def test_every_task_of_nomflow_has_its_own_queue_none_the_default():
    assert nomflow_tasks() == set(QUEUE_OF), "a new task needs a route (and a line above)"
    assert {name: queue_of(name) for name in QUEUE_OF} == QUEUE_OF


@pytest.mark.unit
def test_beat_sends_nothing_to_the_exports_queue():
    queues = {entry.task: queue_of(entry.task) for entry in Scheduler(app).schedule.values()}

    assert set(queues.values()) == {"email", "sweeps"}, queues


@pytest.mark.unit
def test_the_two_production_workers_consume_every_queue_and_no_queue_twice():
    declared = [queue.name for queue in app.conf.task_queues]

    assert sorted(MAIL_WORKER + BULK_WORKER) == sorted(declared)
    # Each queue has an exchange and a routing key of its own: queues bound with one key
    # would each receive every task published with it.
    bindings = {(queue.exchange.name, queue.routing_key) for queue in app.conf.task_queues}
    assert bindings == {(name, name) for name in declared}


# --- where tasks land on Redis ------------------------------------------------------------


def waiting_tasks(redis_server):
    """The tasks waiting in each queue, by name, read from Redis (a list per queue)."""
    with redis_server.client() as client:
        return {
            queue.name: sorted(
                json.loads(raw)["headers"]["task"] for raw in client.lrange(queue.name, 0, -1)
            )
            for queue in app.conf.task_queues
            if client.llen(queue.name)
        }


@pytest.mark.integration
def test_what_a_person_and_beat_start_waits_on_its_own_redis_list(
    call, lead, nominator, private_redis, real_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        export_request(call=call, user=lead)
        notify(
            recipient=nominator,
            kind=Message.Kind.DECIDED,
            key="test:queues:decided",
            context={"nomination_title": "Practice", "outcome": "selected"},
            path="/nominations/1/",
        )
    beat = Scheduler(app)
    for entry in beat.schedule.values():
        beat.apply_async(entry)

    assert waiting_tasks(private_redis) == {
        "email": ["notifications.tasks.send_message", "notifications.tasks.sweep_messages"],
        "exports": ["workflow.tasks.export_build"],
        "sweeps": [
            "workflow.tasks.export_files_expire",
            "workflow.tasks.invitations_remind_and_expire",
            "workflow.tasks.personal_data_retention",
            "workflow.tasks.send_daily_digests",
            "workflow.tasks.send_reminders",
        ],
    }


# --- real workers -------------------------------------------------------------------------


def export_status(export):
    return ExportFile.objects.values_list("status", flat=True).get(pk=export.pk)


def waiting_on_a_row_lock():
    """Sessions of the test database waiting for a row lock (the export's worker)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "select count(*) from pg_stat_activity"
            " where datname = current_database() and wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@with_real_workers
def test_a_worker_held_in_a_long_export_delays_no_email_nor_reminder(
    call, lead, nominator, smtp_sink, smtp_settings, private_redis, real_broker, start_worker
):
    mail = start_worker(queues=MAIL_WORKER)
    export, _created = export_request(call=call, user=lead)
    sweep_messages.delay()  # queued after the export

    # Idle, with an export waiting, the mail worker runs the later sweep and leaves the
    # export on its queue.
    mail.wait_for_task("notifications.tasks.sweep_messages", timeout=WAIT)
    assert waiting_tasks(private_redis) == {"exports": ["workflow.tasks.export_build"]}
    assert export_status(export) == ExportFile.Status.QUEUED

    # The export's row stays locked by another session, so the exports worker's export
    # (which starts by locking its row) cannot end: it is the long export, however long.
    with psycopg.connect(database_url()) as holder:
        holder.execute(
            f"select id from {ExportFile._meta.db_table} where id = %s for update",  # noqa: S608
            [export.pk],
        )
        bulk = start_worker(queues=BULK_WORKER)
        wait_until(waiting_on_a_row_lock, timeout=WAIT, what="the export's worker at the lock")

        send_reminders.delay()
        notify(
            recipient=nominator,
            kind=Message.Kind.DECIDED,
            key="test:queues:decided",
            context={"nomination_title": "Practice", "outcome": "selected"},
            path="/nominations/1/",
        )

        (decided,) = smtp_sink.wait_for_count(1, timeout=WAIT)
        mail.wait_for_task("workflow.tasks.send_reminders", timeout=WAIT)
        # Sent and run while the export could not have ended.
        assert decided.to == (nominator.email,)
        assert export_status(export) == ExportFile.Status.QUEUED
        assert waiting_on_a_row_lock() == 1
        holder.rollback()

    bulk.wait_for_task("workflow.tasks.export_build", timeout=WAIT)
    assert export_status(export) == ExportFile.Status.READY
    # The person is told, by the mail worker.
    decided, ready = smtp_sink.wait_for_count(2, timeout=WAIT)
    assert ready.to == (lead.email,)
    mail.wait_for_task("notifications.tasks.send_message", count=2, timeout=WAIT)
    # Neither worker received a task of the other's queues (the log names a task it
    # receives with its id in brackets; the start-up banner lists every task by name).
    assert "workflow.tasks.export_build[" not in mail.log()
    for task in ("send_message", "sweep_messages", "send_reminders"):
        assert f".{task}[" not in bulk.log()


@with_real_workers
def test_one_worker_without_queues_named_consumes_every_queue_on_the_embedded_broker(
    call, lead, smtp_sink, tmp_path, monkeypatch
):
    """``make run``: the filesystem broker and one worker, started with no ``-Q``."""
    folder = tmp_path / "broker"
    options = {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "data_folder_processed": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }
    for name in ("queue", "processed", "control"):
        (folder / name).mkdir(parents=True)
    monkeypatch.setenv("CELERY_BROKER_URL", "filesystem://")
    saved = {name: app.conf[name] for name in ("task_always_eager", "broker_url")}
    saved["broker_transport_options"] = app.conf.broker_transport_options
    _drop_broker_connections(app)
    app.conf.update(
        task_always_eager=False, broker_url="filesystem://", broker_transport_options=options
    )
    worker = CeleryWorker(
        name="embedded",
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": "filesystem://",
            "CELERY_BROKER_FOLDER": str(folder),
            "TEST_CELERY_TASK_ALWAYS_EAGER": "false",
            "TEST_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_sink.port),
            "PYTHONUNBUFFERED": "1",
        },
        log_path=tmp_path / "embedded.log",
    )
    try:
        worker.start(timeout=45)
        export, _created = export_request(call=call, user=lead)  # exports
        export_files_expire.delay()  # sweeps

        worker.wait_for_task("workflow.tasks.export_build", timeout=WAIT)
        worker.wait_for_task("workflow.tasks.export_files_expire", timeout=WAIT)
        (ready,) = smtp_sink.wait_for_count(1, timeout=WAIT)  # email, "your export is ready"
        worker.wait_for_task("notifications.tasks.send_message", timeout=WAIT)
        assert export_status(export) == ExportFile.Status.READY
        assert ready.to == (lead.email,)
    finally:
        if worker.process is not None:
            worker.stop()
        _drop_broker_connections(app)
        app.conf.update(saved)
