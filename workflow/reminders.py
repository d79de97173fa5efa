"""Reminders before deadlines, overdue notices, escalations and daily digests.

Run from Celery beat. Each (task, point) — "before:7", "before:1", "overdue",
"escalation" — is logged once in ``ReminderLog`` (a unique row), so a second
run, a second beat or a retry never reminds twice. One person holding several
tasks gets one message listing them all.
"""

import hashlib
from collections import defaultdict
from datetime import timedelta
from functools import lru_cache

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from viewflow.workflow.models import Task

from nominations.accounts import user_display
from nominations.models import Call, Country
from notifications.models import Message, ReminderLog
from notifications.services import messages_write, notify

from . import actors
from .actors import ACTORS
from .deadlines import OPEN_TASK_STATUSES, calendar_shift
from .flows import NominationFlow

#: Messages per INSERT: well inside PostgreSQL's 65,535 parameters per statement.
_WRITE_BATCH = 1000
NODE_NAMES = {str(getattr(NominationFlow, name)): name for name in ACTORS}


def due_points(*, due, now, reminder_days, grace_days, created=None, time_zone="UTC"):
    """The reminder points of a task that have come by ``now``, most urgent last.

    "before:<k>" comes k calendar days before the due moment (in the call's time zone),
    and never if that is before the task was ``created``: a task shorter than k days
    is not reminded k days ahead. "overdue" comes at the due moment, "escalation" the
    call's grace days after it.
    """
    points = [
        f"before:{days}"
        for days in sorted(reminder_days, reverse=True)
        if (moment := _shifted(due, -days, time_zone)) <= now < due
        and (created is None or moment >= created)
    ]
    if now >= due:
        points.append("overdue")
    if now >= _shifted(due, grace_days, time_zone):
        points.append("escalation")
    return points


@lru_cache(maxsize=4096)
def _shifted(moment, days, time_zone):
    # Deadlines fall at the end of a day, so a sweep over a big call meets few distinct
    # moments: each shift through the time zone is worked out once.
    return calendar_shift(moment, days=days, time_zone=time_zone)


def _key(prefix, user_id, pairs):
    digest = hashlib.sha1(repr(sorted(pairs)).encode(), usedforsecurity=False).hexdigest()
    return f"{prefix}:{user_id}:{digest}"


def _horizon(now, max_days):
    # A day more than the longest offset: a calendar week may be an hour longer than 7 x 24 h.
    return now + timedelta(days=max_days + 1)


def _open_candidates(now, max_days):
    """Open human tasks whose earliest reminder point may have come, as plain rows."""
    return (
        Task.objects.filter(
            flow_task_type="HUMAN",
            status__in=OPEN_TASK_STATUSES,
            scheduled__isnull=False,
            scheduled__lte=_horizon(now, max_days),
        )
        .order_by("pk")
        .values_list(
            "pk",
            "scheduled",
            "created",
            "flow_task",
            "owner_id",
            "process__nominationprocess__nomination_id",
            "process__nominationprocess__nomination__title",
            "process__nominationprocess__nomination__country_id",
            "process__nominationprocess__nomination__call_id",
        )
    )


def _logged_points(now, max_days):
    """The (task, point) pairs already sent for the open tasks the sweep looks at."""
    return set(
        ReminderLog.objects.filter(
            task__flow_task_type="HUMAN",
            task__status__in=OPEN_TASK_STATUSES,
            task__scheduled__lte=_horizon(now, max_days),
        ).values_list("task_id", "point")
    )


def _name_holders(escalations):
    """Replace each escalated item's holder ids by names and addresses, in one query."""
    items = [item for entries in escalations.values() for _task, _points, item in entries]
    ids = {user_id for item in items for user_id in item.get("holder_ids", ())}
    users = get_user_model().objects.in_bulk(ids)
    for item in items:
        if "holder_ids" in item:
            item["holders"] = [
                f"{user_display(users[user_id])} <{users[user_id].email}>"
                for user_id in item.pop("holder_ids")
                if user_id in users
            ]


class _Directory:
    """Every party of ``workflow.actors`` as user ids, read once per sweep."""

    def __init__(self):
        self.coordinators = defaultdict(set)
        for country_id, user_id in Country.coordinators.through.objects.values_list(
            "country_id", "user_id"
        ):
            self.coordinators[country_id].add(user_id)
        self.leads = defaultdict(set)
        for call_id, user_id in Call.leads.through.objects.values_list("call_id", "user_id"):
            self.leads[call_id].add(user_id)
        self.selection_escalation = defaultdict(set)
        for call_id, user_id in Call.selection_escalation_people.through.objects.values_list(
            "call_id", "user_id"
        ):
            self.selection_escalation[call_id].add(user_id)
        self._admins = None

    def admins(self):
        if self._admins is None:
            self._admins = set(
                get_user_model().objects.filter(is_superuser=True).values_list("pk", flat=True)
            )
        return self._admins

    def members(self, party, *, owner_id, country_id, call_id):
        if party == actors.OWNER:
            return {owner_id} if owner_id else set()
        if party == actors.COORDINATORS:
            return self.coordinators[country_id]
        if party == actors.LEADS:
            return self.leads[call_id]
        if party == actors.SELECTION_ESCALATION:
            return self.selection_escalation[call_id] or self.admins()
        raise ValueError(f"Unknown party {party!r}")


def reminders_send(*, now=None):
    """Remind, notify overdue and escalate; returns (tasks scanned, messages written).

    Who is reminded and who is escalated to comes from ``workflow.actors``.
    """
    now = now or timezone.now()
    calls = {
        call.pk: call
        for call in Call.objects.only("pk", "reminder_days", "escalation_grace_days", "time_zone")
    }
    if not calls:
        return 0, 0
    max_days = max((max(call.reminder_days or [0]) for call in calls.values()), default=0)
    directory = _Directory()

    reminders = defaultdict(list)  # user id -> [(task id, point, item)]
    escalations = defaultdict(list)
    scanned = 0
    rows = list(_open_candidates(now, max_days))
    logged = _logged_points(now, max_days)
    for row in rows:
        task_id, due, created, flow_task, owner_id, nomination_id, title, country_id, call_id = row
        scanned += 1
        call = calls[call_id]
        points = [
            point
            for point in due_points(
                due=due,
                now=now,
                reminder_days=call.reminder_days,
                grace_days=call.escalation_grace_days,
                created=created,
                time_zone=call.time_zone,
            )
            if (task_id, point) not in logged
        ]
        if not points:
            continue
        node = NODE_NAMES.get(str(flow_task), "")
        rules = ACTORS.get(node)
        if rules is None:
            continue
        owned = owner_id is not None
        where = {"owner_id": owner_id, "country_id": country_id, "call_id": call_id}
        item = {
            "node": node,
            "nomination_title": title,
            "nomination_id": nomination_id,
            "due_at": due.isoformat(),
            # Emails show the due date as the call's time zone counts days.
            "time_zone": call.time_zone,
            "overdue": now >= due,
            "path": f"/tasks/{task_id}/",
        }
        reminder_points = [p for p in points if p != "escalation"]
        if reminder_points:
            for user_id in directory.members(rules.reminded(owned=owned), **where):
                reminders[user_id].append((task_id, tuple(reminder_points), item))
        if "escalation" in points:
            # Whoever follows up needs to know who holds the task and, where they may
            # open it, the nomination itself.
            escalation_item = {
                **item,
                "nomination_path": f"/nominations/{nomination_id}/"
                if rules.escalation_links_nomination
                else "",
                "holder_ids": sorted(directory.members(rules.holders(owned=owned), **where)),
            }
            for user_id in directory.members(rules.escalated_to, **where):
                escalations[user_id].append((task_id, ("escalation",), escalation_item))
    _name_holders(escalations)

    users = get_user_model().objects.in_bulk(set(reminders) | set(escalations))
    wanted, pairs_by_key = [], {}
    for kind, per_user in (
        (Message.Kind.REMINDER, reminders),
        (Message.Kind.ESCALATION, escalations),
    ):
        for user_id, entries in per_user.items():
            pairs = [(task_id, point) for task_id, points, _item in entries for point in points]
            key = _key(kind, user_id, pairs)
            pairs_by_key[key] = pairs
            wanted.append(
                {
                    "recipient": users[user_id],
                    "kind": kind,
                    "key": key,
                    "context": {"tasks": [item for _task_id, _points, item in entries]},
                    "path": "/tasks/",
                    "in_site": True,
                }
            )
    # Every message of the sweep in one INSERT, every logged point in a few: a sweep over a
    # big call costs a handful of statements, not several per person.
    with transaction.atomic():
        messages = {}
        for start in range(0, len(wanted), _WRITE_BATCH):
            for message in messages_write(wanted[start : start + _WRITE_BATCH]):
                messages[message.idempotency_key] = message
        already = set(pairs_by_key) - set(messages)
        if already:  # written by a sweep that committed at the same moment
            messages.update(Message.objects.in_bulk(already, field_name="idempotency_key"))
        _points_log(
            [
                (task_id, point, messages[key].pk)
                for key, pairs in pairs_by_key.items()
                for task_id, point in pairs
            ],
            now=now,
        )
    return scanned, len(wanted)


def _points_log(rows, *, now):
    """Log (task id, point, message id) rows once each; a point logged already is skipped.

    On PostgreSQL the rows go as three arrays in one statement: a cold sweep over a big
    call logs tens of thousands of points, and building a model instance for each cost
    more than the sweep's reading and deciding together.
    """
    if connection.vendor != "postgresql":
        ReminderLog.objects.bulk_create(
            [ReminderLog(task_id=t, point=p, message_id=m, created_at=now) for t, p, m in rows],
            ignore_conflicts=True,
            batch_size=5000,
        )
        return
    meta, quote = ReminderLog._meta, connection.ops.quote_name
    columns = ", ".join(
        quote(meta.get_field(name).column) for name in ("task", "point", "message", "created_at")
    )
    with connection.cursor() as cursor:
        # Only quoted names from the model's options go into the text; values are parameters.
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608
            "SELECT task, point, message, %s "
            "FROM unnest(%s::bigint[], %s::text[], %s::bigint[]) AS row(task, point, message) "
            "ON CONFLICT DO NOTHING",
            [now, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]],
        )


def _reminders_outdated(message_ids):
    """The held reminders none of whose tasks is still open: a digest leaves them out."""
    open_ = defaultdict(bool)
    for message_id, status in ReminderLog.objects.filter(message_id__in=message_ids).values_list(
        "message_id", "task__status"
    ):
        open_[message_id] |= status in OPEN_TASK_STATUSES
    return {message_id for message_id, is_open in open_.items() if not is_open}


def digests_send(*, now=None):
    """Bundle each person's held updates into one daily digest; returns digests written.

    A held reminder whose tasks were all done (or cancelled) since is left out and
    marked outdated: the digest lists only what still waits.
    """
    now = now or timezone.now()
    held = (
        Message.objects.filter(status=Message.Status.HELD_FOR_DIGEST)
        .select_related("recipient")
        .order_by("recipient_id", "created_at")
    )
    held = list(held)
    outdated = _reminders_outdated([m.pk for m in held if m.kind == Message.Kind.REMINDER])
    per_user = defaultdict(list)
    for message in held:
        if message.pk not in outdated:
            per_user[message.recipient].append(message)
    written = 0
    with transaction.atomic():
        if outdated:
            Message.objects.filter(pk__in=outdated).update(status=Message.Status.OUTDATED)
        for user, messages in per_user.items():
            digest = notify(
                recipient=user,
                kind=Message.Kind.DIGEST,
                key=_key("digest", user.pk, [m.pk for m in messages]),
                context={
                    "items": [
                        {"subject": m.subject, "path": m.context["path"]}
                        if "path" in m.context
                        else {"subject": m.subject, "url": m.context.get("url", "")}
                        for m in messages
                    ]
                },
                path="/notifications/",
                in_site=False,
            )
            # The held updates travel with the digest; if the digest itself is not sent
            # (emails turned off or the address bounced since), neither are they.
            if digest.status == Message.Status.SKIPPED:
                bundled = {"status": Message.Status.SKIPPED, "sent_at": None}
            else:
                bundled = {"status": Message.Status.IN_DIGEST, "sent_at": now}
            Message.objects.filter(pk__in=[m.pk for m in messages]).update(**bundled)
            written += 1
    return written
