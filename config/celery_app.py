"""The Celery application; its settings are the CELERY_* names in Django settings."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("nomflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_unusable_database_connections(task=None, **kwargs):
    """Treat each task as Django treats a request: start and end it on a healthy connection.

    The worker keeps its connection across tasks (CELERY_DB_REUSE_MAX), and Celery's
    own fix-up only recycles it every so many tasks. A connection the server dropped in
    between (a restart, a failover, ``pg_terminate_backend``) would then fail every task
    until the recycle. ``close_old_connections`` closes a connection that had errors or
    outlived CONN_MAX_AGE, and re-arms CONN_HEALTH_CHECKS, so the task's first query
    pings the server and reconnects if it is gone.
    """
    from django.db import close_old_connections

    # An eager task (tests, `make run` without a worker) runs inside its caller's
    # transaction, whose connection is not the task's to close.
    if task is None or not task.request.is_eager:
        close_old_connections()


@task_postrun.connect
def record_task_ran(task=None, state=None, **kwargs):
    """What /health/deep/ reads to tell that beat and the workers are alive (written at
    most every few seconds per task and process, not after each of many sends)."""
    if state == "SUCCESS" and task is not None and not task.request.is_eager:
        from config.health import task_ran_note

        task_ran_note(task.name)
