"""A worker whose database connection was dropped recovers on its next task.

PostgreSQL drops connections: a restart, a failover, an idle timeout, an operator's
``pg_terminate_backend``. A worker keeps its connection across tasks (CELERY_DB_REUSE_MAX),
so without a check before each task every task would fail on the dead connection until
the next recycle. Needs PostgreSQL, redis-server and a real worker (``conftest.py``).
"""

import re

import pytest
from django.db import connection

from notifications.tasks import sweep_messages

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=f"needs PostgreSQL's pg_terminate_backend (this run uses {connection.vendor})",
    ),
]

SWEEP = r"Task notifications\.tasks\.sweep_messages\[[0-9a-f-]+\]"
TASKS_AFTER_THE_DROP = 10


def terminate_other_connections():
    """End every other session on the test database: the worker's, as the server would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity "
            "where datname = current_database() and pid <> pg_backend_pid()"
        )
        return len(cursor.fetchall())


def test_a_dropped_database_connection_fails_no_task(real_broker, start_worker):
    worker = start_worker()
    sweep_messages.delay()
    worker.wait_for_task("notifications.tasks.sweep_messages")

    assert terminate_other_connections() >= 1
    for _ in range(TASKS_AFTER_THE_DROP):
        sweep_messages.delay()
    worker.wait_for_log(rf"{SWEEP} (succeeded|raised)", count=1 + TASKS_AFTER_THE_DROP)

    log = worker.log()
    failed = len(re.findall(rf"{SWEEP} raised", log))
    succeeded = len(re.findall(rf"{SWEEP} succeeded", log))
    assert failed == 0, log[-3000:]
    assert succeeded >= TASKS_AFTER_THE_DROP
