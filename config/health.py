"""Health checks: one for load balancers, a deeper one for operators.

``/health/`` answers 200 when this node can serve: its database and its cache answer.
It answers 503, naming the part that failed, otherwise, so a load balancer takes the node
out of rotation.

``/health/deep/`` (staff, or ``Authorization: Bearer $HEALTH_CHECK_TOKEN`` for a
monitoring system) adds what is shared by every node and no node can fix by itself: the
Celery broker answers, a worker answers, beat's every-minute sweep ran lately, and the
outbox is not backing up.
"""

import dataclasses
import datetime
import hmac
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.checks import Database as LibraryDatabase
from health_check.contrib.celery import Ping
from health_check.exceptions import ServiceUnavailable, ServiceWarning
from health_check.views import HealthCheckView

#: Beat sends the outbox sweep every minute; three missed runs mean beat (or every worker) is down.
SWEEP_TASK = "notifications.tasks.sweep_messages"
SWEEP_STALE_AFTER = datetime.timedelta(minutes=3)
#: A message still waiting after this long was not sent after commit nor by a sweep.
OUTBOX_STALE_AFTER = datetime.timedelta(minutes=10)


def task_ran_key(task_name):
    return f"nomflow:task-ran:{task_name}"


def task_ran_record(task_name, *, now=None):
    """Write down that ``task_name`` ran (at ``now``) where the deep check reads it."""
    cache.set(task_ran_key(task_name), (now or timezone.now()).isoformat(), timeout=None)


#: A worker process writes a task's run down at most this often. The deep check allows
#: SWEEP_STALE_AFTER (minutes): writing after every one of hundreds of sends a second cost a
#: cache round trip each and told it nothing more.
TASK_RAN_RECORD_SECONDS = 10

_task_ran_recorded = {}


def task_ran_note(task_name):
    """Called after each task a worker runs (config/celery_app.py): records the run unless
    this process recorded one of the same task within TASK_RAN_RECORD_SECONDS."""
    now = time.monotonic()
    last = _task_ran_recorded.get(task_name)
    if last is not None and now - last < TASK_RAN_RECORD_SECONDS:
        return False
    task_ran_record(task_name)
    _task_ran_recorded[task_name] = now
    return True


@dataclasses.dataclass
class Database(LibraryDatabase):
    """The library's check, closing its connection after: checks run in a thread pool,
    where a persistent connection (CONN_MAX_AGE) would otherwise stay open per thread."""

    def run(self):
        try:
            super().run()
        finally:
            connections[self.alias].close()


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection (Redis, or the filesystem transport)."""

    def run(self):
        from config.celery_app import app

        try:
            with app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
        except Exception as error:
            raise ServiceUnavailable("The Celery broker does not answer") from error


@dataclasses.dataclass
class BeatSweep(HealthCheck):
    """Beat's every-minute outbox sweep has run lately (so beat and a worker are alive)."""

    def run(self):
        last = cache.get(task_ran_key(SWEEP_TASK))
        if last is None:
            raise ServiceUnavailable("The outbox sweep has not run since the cache was emptied")
        age = timezone.now() - datetime.datetime.fromisoformat(last)
        if age > SWEEP_STALE_AFTER:
            raise ServiceUnavailable(
                f"The outbox sweep last ran {int(age.total_seconds())} s ago: is beat running?"
            )


@dataclasses.dataclass
class OutboxBacklog(HealthCheck):
    """No message has waited to be sent for longer than a sweep or two should take."""

    def run(self):
        from notifications.models import Message

        try:
            waiting = Message.objects.filter(
                status=Message.Status.PENDING,
                created_at__lt=timezone.now() - OUTBOX_STALE_AFTER,
            ).count()
        finally:
            connections["default"].close()
        if waiting:
            raise ServiceWarning(f"{waiting} messages have waited over 10 minutes to be sent")


class NodeHealthView(HealthCheckView):
    """503 rather than the library's 500: the node is unavailable, not broken by the request."""

    # The broker is shared by every node: its outage is no reason to take this node out of
    # rotation (pages keep working and the outbox holds the emails), so it is in the deep
    # check. A cache on Redis falls back to local memory (config/cache.py) and passes.
    checks = (
        Database,
        "health_check.checks.Cache",
    )

    async def dispatch(self, request, *args, **kwargs):
        response = await super().dispatch(request, *args, **kwargs)
        if response.status_code == 500:
            response.status_code = 503
        return response


class DeepHealthView(NodeHealthView):
    checks = (
        *NodeHealthView.checks,
        Broker,
        (Ping, {"timeout": datetime.timedelta(seconds=2)}),
        BeatSweep,
        OutboxBacklog,
    )

    async def get(self, request, *args, **kwargs):
        user = await request.auser()
        if not (user.is_staff or _bearer_token_matches(request)):
            raise PermissionDenied
        return await super().get(request, *args, **kwargs)


def _bearer_token_matches(request):
    token = settings.HEALTH_CHECK_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())
