"""Celery: the broker is Redis in production; the embedded default needs no server."""

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from kombu import Exchange, Queue

from config.env import VAR_DIR, env

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: producer and worker share one folder, so
    # `make run` has a real worker and beat without a broker server. CELERY_BROKER_FOLDER
    # moves the folders (a test's worker keeps to its own, away from `make run`'s).
    _broker_dir = Path(env("CELERY_BROKER_FOLDER", default=str(VAR_DIR / "broker")))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "data_folder_processed": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    # kombu does not create its folders, and a worker started outside `make`
    # would otherwise crash on its first poll.
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Europe/Brussels"
# A task whose worker died mid-run goes back on the queue; tasks are written
# to be safe to run twice (they re-read the database first).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A worker takes this many tasks per pool process (the running ones included), so a process
# starts its next task as soon as one ends instead of idling through the broker's round trips:
# with 1, a process sending one email a task sat idle about a quarter of the time
# (docs/benchmarks.md). With acks_late a task taken but not yet run is acknowledged only once
# run: a warm shutdown hands it back at once; a worker killed outright (SIGKILL, a lost
# machine) leaves it to Redis's visibility timeout, and its email to the every-minute sweep.
# Tasks still go only to an idle pool process (-O fair, Celery's default), never queue behind
# a long one (a reminder sweep).
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=4)
# If the worker loses the broker mid-task, the task runs to its end and is redelivered
# later; the redelivery finds the message sent and does nothing. Cancelling it instead
# could stop a send after the provider took the email but before the row said so.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Celery's Django fix-up closes the database connection after every task unless this is
# set; keeping it for 100 tasks raised the worker's send rate by about 40 % (see
# docs/benchmarks.md). A connection the server dropped meanwhile is found by the health
# check before the next task's first query and replaced (config/celery_app.py), so it fails
# no task (tests/notifications/test_worker_connections.py).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=100)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Queues, so that a long task of one kind never delays the short ones of another: an Excel
# export of a big call (tens of seconds) or a spreadsheet import must not hold up an email
# or a reminder. Each task is routed by name below; docs/scaling.md ("Worker nodes") explains
# the grouping and docs/operations.md ("Workers and queues") the workers that consume them.
#   email   one send per message or batch, and the every-minute outbox sweep: many short tasks
#   sweeps  beat's other jobs: reminders, digests, invitation expiry, retention, expiry of exports
#   exports the heavy work a person starts: Excel exports and spreadsheet imports of invitations
#   celery  Celery's default, for a task given no route (none of ours: a test checks each is)
# Each queue has its own exchange and routing key (Celery's own default for a queue it creates):
# queues sharing one routing key would each receive every task sent to it.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name, type="direct"), routing_key=name)
    for name in ("email", "sweeps", "exports", CELERY_TASK_DEFAULT_QUEUE)
]
# A worker started without -Q (`make run`, a one-worker deployment) consumes every queue above.
CELERY_TASK_ROUTES = {
    "notifications.tasks.send_message": {"queue": "email"},
    "notifications.tasks.send_messages": {"queue": "email"},
    "notifications.tasks.sweep_messages": {"queue": "email"},
    "workflow.tasks.send_reminders": {"queue": "sweeps"},
    "workflow.tasks.send_daily_digests": {"queue": "sweeps"},
    "workflow.tasks.invitations_remind_and_expire": {"queue": "sweeps"},
    "workflow.tasks.personal_data_retention": {"queue": "sweeps"},
    "workflow.tasks.export_files_expire": {"queue": "sweeps"},
    "workflow.tasks.export_build": {"queue": "exports"},
    "workflow.tasks.invitation_import_run": {"queue": "exports"},
}

# Periodic work. Long waits live in the database (task due dates, the outbox), never in
# broker ETAs, which Redis redelivers after its visibility timeout. The flow has no
# viewflow timer, so no timer dispatcher runs.
CELERY_BEAT_SCHEDULE = {
    # Sends what an outage kept from going out, and retries failures with backoff.
    "sweep-pending-messages": {
        "task": "notifications.tasks.sweep_messages",
        "schedule": timedelta(minutes=1),
    },
    "send-reminders": {
        "task": "workflow.tasks.send_reminders",
        "schedule": timedelta(minutes=15),
    },
    "send-daily-digests": {
        "task": "workflow.tasks.send_daily_digests",
        "schedule": crontab(hour=7, minute=0),
    },
    # Contact details of practices not selected, once their call's retention period is over
    # (Call.retention_days). Idempotent: a nomination done once is marked and skipped.
    # Invitations: one reminder before expiry, the overdue marked expired (safe to run twice).
    "invitations-remind-and-expire": {
        "task": "workflow.tasks.invitations_remind_and_expire",
        "schedule": timedelta(hours=1),
    },
    "personal-data-retention": {
        "task": "workflow.tasks.personal_data_retention",
        "schedule": crontab(hour=3, minute=30),
    },
    # Excel exports built in the background are deleted with their files once expired.
    "export-files-expire": {
        "task": "workflow.tasks.export_files_expire",
        "schedule": timedelta(hours=1),
    },
}

# How many days an Excel export built in the background (workflow/exports.py) is kept for
# the person who asked, and offered again on the export page, before it is deleted.
EXPORT_FILE_DAYS = env.int("EXPORT_FILE_DAYS", default=7)
