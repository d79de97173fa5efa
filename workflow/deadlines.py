"""Deadlines of human tasks: whole calendar days in the call's time zone.

A task created on day D of a call allowing N days is due at the end of day D + N, as
the call's time zone (``Call.time_zone``) counts days: 23:59:59.999999 local time,
whatever daylight-saving change lies between. It is overdue from the next midnight.

A human task keeps its due moment in viewflow's own ``Task.scheduled`` column:
it is indexed, and viewflow's timer dispatcher reads it only for TIMER tasks.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

OPEN_TASK_STATUSES = (STATUS.NEW, STATUS.ASSIGNED)
_LAST_MOMENT = timedelta(microseconds=1)


def day_end(day, zone):
    """The last moment of ``day`` (a date) in ``zone``, as an aware datetime in ``zone``."""
    next_midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    # Through UTC: the microsecond before midnight is then exact even where the clocks
    # change at midnight.
    return (next_midnight.astimezone(UTC) - _LAST_MOMENT).astimezone(zone)


def deadline_for(*, created, days, time_zone):
    """When a task created at ``created`` with ``days`` to do it is due, in ``time_zone``."""
    zone = ZoneInfo(time_zone)
    return day_end(created.astimezone(zone).date() + timedelta(days=days), zone)


def calendar_shift(moment, *, days, time_zone):
    """``moment`` moved by ``days`` calendar days, keeping its wall-clock time in the zone.

    Seven days before the end of a day is the end of the day a week earlier, even when
    that week is 167 or 169 hours long.
    """
    zone = ZoneInfo(time_zone)
    local = moment.astimezone(zone)
    return datetime.combine(local.date() + timedelta(days=days), local.time(), tzinfo=zone)


def task_deadline_set(*, task, call, days):
    task.scheduled = deadline_for(created=task.created, days=days, time_zone=call.time_zone)
    Task.objects.filter(pk=task.pk).update(scheduled=task.scheduled)
