"""Reminders before deadlines, overdue notices, escalations and daily digests.

Run from Celery beat. Each (task, point) — "before:7", "before:1", "overdue",
"escalation" — is logged once in ``ReminderLog`` (a unique row), so a second
run, a second beat or a retry never reminds twice. One person holding several
tasks gets one message listing them all.
"""

import hashlib
import itertools
import json
from collections import defaultdict
from datetime import timedelta
from functools import lru_cache

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from viewflow.workflow.models import Task

from nominations.accounts import user_display
from nominations.models import Call, Country, Nomination
from notifications.models import Message, ReminderLog
from notifications.services import messages_write, notify

from . import actors
from .actors import ACTORS
from .deadlines import OPEN_TASK_STATUSES, calendar_shift
from .flows import NominationFlow
from .models import NominationProcess

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
    return [
        point
        for point, moment in _come_points(
            due=due,
            now=now,
            reminder_days=tuple(reminder_days),
            grace_days=grace_days,
            time_zone=time_zone,
        )
        if moment is None or created is None or moment >= created
    ]


def _come_points(*, due, now, reminder_days, grace_days, time_zone):
    """``due_points`` of a task created at any time: (point, its moment) for "before"
    points, whose moment the task's creation must not come after; (point, None) else."""
    points = [
        (f"before:{days}", moment)
        for days in sorted(reminder_days, reverse=True)
        if (moment := _shifted(due, -days, time_zone)) <= now < due
    ]
    if now >= due:
        points.append(("overdue", None))
    if now >= _shifted(due, grace_days, time_zone):
        points.append(("escalation", None))
    return points


@lru_cache(maxsize=4096)
def _shifted(moment, days, time_zone):
    # Deadlines fall at the end of a day, so a sweep over a big call meets few distinct
    # moments: each shift through the time zone is worked out once.
    return calendar_shift(moment, days=days, time_zone=time_zone)


def _key(prefix, user_id, pairs):
    return _key_of(prefix, user_id, repr(sorted(pairs)))


def _key_of(prefix, user_id, pairs_repr):
    # The database's sweep spells ``repr(sorted(pairs))`` itself (``_SUMMARY``): two sweeps
    # that overlap reach the same key whichever way each ran.
    digest = hashlib.sha1(pairs_repr.encode(), usedforsecurity=False).hexdigest()
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

    def pools(self, call_ids):
        """Every (party, scope, user id) of the pools: a coordinator by country, the others
        by call (``_SCOPE`` says which is which)."""
        for country_id, user_ids in self.coordinators.items():
            yield from ((actors.COORDINATORS, country_id, user_id) for user_id in user_ids)
        for party in (actors.LEADS, actors.SELECTION_ESCALATION):
            for call_id in call_ids:
                members = self.members(party, owner_id=None, country_id=None, call_id=call_id)
                yield from ((party, call_id, user_id) for user_id in members)

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

    Who is reminded and who is escalated to comes from ``workflow.actors``. On
    PostgreSQL the database decides which points are due and builds each message's list
    of tasks (``_reminders_send_in_database``); elsewhere (SQLite, the demo's default)
    Python does, over the candidate rows, to the same result.
    """
    now = now or timezone.now()
    calls = {
        call.pk: call
        for call in Call.objects.only("pk", "reminder_days", "escalation_grace_days", "time_zone")
    }
    if not calls:
        return 0, 0
    max_days = max((max(call.reminder_days or [0]) for call in calls.values()), default=0)
    if connection.vendor == "postgresql":
        return _reminders_send_in_database(now=now, calls=calls, max_days=max_days)
    return _reminders_send_in_python(now=now, calls=calls, max_days=max_days)


def _reminders_send_in_python(*, now, calls, max_days):
    """``reminders_send`` with the decisions made in Python over the candidate rows."""
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
            "task_id": task_id,
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
        # By recipient: a point several people are told of is logged with the message of
        # the first, as the database's sweep logs it (``_reminders_send_in_database``).
        for user_id, entries in sorted(per_user.items()):
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


def _names():
    """Quoted table and column names for the database's sweep, from the models' options."""
    quote = connection.ops.quote_name

    def column(model, name):
        return quote(model._meta.get_field(name).column)

    return {
        "task": quote(Task._meta.db_table),
        "task_id": column(Task, "id"),
        "task_process": column(Task, "process"),
        "task_flow_task": column(Task, "flow_task"),
        "task_type": column(Task, "flow_task_type"),
        "task_status": column(Task, "status"),
        "task_owner": column(Task, "owner"),
        "task_scheduled": column(Task, "scheduled"),
        "task_created": column(Task, "created"),
        "link": quote(NominationProcess._meta.db_table),
        "link_process": quote(NominationProcess._meta.pk.column),
        "link_nomination": column(NominationProcess, "nomination"),
        "nomination": quote(Nomination._meta.db_table),
        "nomination_id": column(Nomination, "id"),
        "nomination_title": column(Nomination, "title"),
        "nomination_country": column(Nomination, "country"),
        "nomination_call": column(Nomination, "call"),
        "log": quote(ReminderLog._meta.db_table),
        "log_task": column(ReminderLog, "task"),
        "log_point": column(ReminderLog, "point"),
        "log_message": column(ReminderLog, "message"),
        "log_created": column(ReminderLog, "created_at"),
        "message": quote(Message._meta.db_table),
        "message_id": column(Message, "id"),
        "message_key": column(Message, "idempotency_key"),
    }


#: The open human tasks whose earliest point may have come, with their nominations.
_CANDIDATES = """
    FROM {task} task
    JOIN {link} link ON link.{link_process} = task.{task_process}
    JOIN {nomination} nomination ON nomination.{nomination_id} = link.{link_nomination}
    WHERE task.{task_type} = 'HUMAN' AND task.{task_status} = ANY(%(open)s)
      AND task.{task_scheduled} <= %(horizon)s
"""

#: The distinct deadlines of the open human tasks the sweep looks at, and how many tasks
#: have each: few, as deadlines fall at the end of a day.
_DEADLINES = """
    SELECT task.{task_scheduled}, count(*) FROM {task} task
    WHERE task.{task_type} = 'HUMAN' AND task.{task_status} = ANY(%(open)s)
      AND task.{task_scheduled} <= %(horizon)s
    GROUP BY 1
"""

#: Which party a member is found by: a coordinator by the nomination's country, the other
#: pools by its call (``_Directory.pools``), the owner as the task's own.
_SCOPE = """CASE {party} WHEN %(owner)s THEN {row}.owner_id
    WHEN %(coordinators)s THEN {row}.country_id ELSE {row}.call_id END"""

#: The sweep's working table: the session's own, emptied as each sweep ends and at every
#: commit. One table for all the sweeps of a session, not one each: a transaction holding
#: many sweeps (a month of them in a test) would run out of locks.
_DUE_TABLE = """
    CREATE TEMPORARY TABLE IF NOT EXISTS reminder_due (
        kind text, recipient_id integer, task_id bigint, points text[], node text,
        links boolean, nomination_id bigint, title text, due_at text, time_zone text,
        overdue boolean, holder_ids integer[]
    ) ON COMMIT DELETE ROWS
"""

#: One row per (kind, recipient, task) of the sweep, with the task's points due and not
#: logged yet; the points that have come and the rules of ``workflow.actors`` come from
#: Python as arrays (``come``, ``rule``, ``pool``).
_DUE = """
    INSERT INTO reminder_due
    WITH candidate AS (
        SELECT task.{task_id} AS task_id, task.{task_created} AS created,
            task.{task_scheduled} AS scheduled, task.{task_flow_task} AS flow_task,
            task.{task_owner} AS owner_id, nomination.{nomination_id} AS nomination_id,
            nomination.{nomination_title} AS title, nomination.{nomination_country} AS country_id,
            nomination.{nomination_call} AS call_id
        {candidates}
    ), come AS (
        SELECT * FROM unnest(%(come_call)s::bigint[], %(come_due)s::timestamptz[],
            %(come_point)s::text[], %(come_moment)s::timestamptz[], %(come_due_at)s::text[],
            %(come_zone)s::text[], %(come_overdue)s::boolean[])
            AS come(call_id, due, point, moment, due_at, time_zone, overdue)
    ), rule AS (
        SELECT * FROM unnest(%(rule_flow_task)s::text[], %(rule_owned)s::boolean[],
            %(rule_node)s::text[], %(rule_reminded)s::text[], %(rule_escalated)s::text[],
            %(rule_holders)s::text[], %(rule_links)s::boolean[])
            AS rule(flow_task, owned, node, reminded, escalated_to, holders, links)
    ), pool AS (
        SELECT * FROM unnest(%(pool_party)s::text[], %(pool_scope)s::bigint[],
            %(pool_user)s::integer[]) AS pool(party, scope, user_id)
    ), due AS (
        SELECT candidate.task_id, candidate.flow_task, candidate.owner_id,
            candidate.nomination_id, candidate.title, candidate.country_id, candidate.call_id,
            min(come.due_at) AS due_at, min(come.time_zone) AS time_zone,
            bool_and(come.overdue) AS overdue,
            array_agg(come.point) FILTER (WHERE come.point <> 'escalation') AS reminded,
            bool_or(come.point = 'escalation') AS escalated
        FROM candidate
        JOIN come ON come.call_id = candidate.call_id AND come.due = candidate.scheduled
            AND (come.moment IS NULL OR come.moment >= candidate.created)
        WHERE NOT EXISTS (
            SELECT FROM {log} log
            WHERE log.{log_task} = candidate.task_id AND log.{log_point} = come.point
        )
        GROUP BY candidate.task_id, candidate.flow_task, candidate.owner_id,
            candidate.nomination_id, candidate.title, candidate.country_id, candidate.call_id
    ), told AS (
        SELECT %(reminder)s AS kind, rule.reminded AS party, NULL AS holders,
            due.reminded AS points, rule.node, rule.links, due.*
        FROM due JOIN rule ON rule.flow_task = due.flow_task
            AND rule.owned = (due.owner_id IS NOT NULL)
        WHERE due.reminded IS NOT NULL
        UNION ALL
        SELECT %(escalation)s, rule.escalated_to, rule.holders, ARRAY['escalation'],
            rule.node, rule.links, due.*
        FROM due JOIN rule ON rule.flow_task = due.flow_task
            AND rule.owned = (due.owner_id IS NOT NULL)
        WHERE due.escalated
    )
    SELECT told.kind, coalesce(pool.user_id, told.owner_id) AS recipient_id, told.task_id,
        told.points, told.node, told.links, told.nomination_id, told.title, told.due_at,
        told.time_zone, told.overdue,
        CASE WHEN told.holders = %(owner)s THEN array_remove(ARRAY[told.owner_id], NULL)
            WHEN told.holders IS NOT NULL THEN ARRAY(
                SELECT holder.user_id FROM pool holder
                WHERE holder.party = told.holders AND holder.scope = {holder_scope}
                ORDER BY 1)
        END AS holder_ids
    FROM told
    LEFT JOIN pool ON told.party <> %(owner)s AND pool.party = told.party
        AND pool.scope = {scope}
    WHERE coalesce(pool.user_id, CASE WHEN told.party = %(owner)s THEN told.owner_id END)
        IS NOT NULL
"""

#: One task of a message's list, as ``_reminders_send_in_python`` writes it; ``holder``
#: holds the escalations' holders by user id ("name <address>"). Built as json text and
#: stored as jsonb once per message: a third quicker than building jsonb item by item.
_ITEM = """
    CASE WHEN due.holder_ids IS NULL THEN json_build_object('node', due.node,
        'nomination_title', due.title, 'nomination_id', due.nomination_id,
        'due_at', due.due_at, 'time_zone', due.time_zone, 'overdue', due.overdue,
        'path', '/tasks/' || due.task_id || '/', 'task_id', due.task_id)
    ELSE json_build_object('node', due.node,
        'nomination_title', due.title, 'nomination_id', due.nomination_id,
        'due_at', due.due_at, 'time_zone', due.time_zone, 'overdue', due.overdue,
        'path', '/tasks/' || due.task_id || '/', 'task_id', due.task_id,
        'nomination_path',
            CASE WHEN due.links THEN '/nominations/' || due.nomination_id || '/' ELSE '' END,
        'holders', (
            SELECT coalesce(json_agg(holder.names -> id::text ORDER BY position),
                json_build_array())
            FROM unnest(due.holder_ids) WITH ORDINALITY AS holder_id(id, position)
            WHERE holder.names ? id::text)) END
"""

#: Each message's recipient, the number of its tasks, its first task, and its (task, point)
#: pairs as ``repr(sorted(pairs))`` spells them, for its key.
_SUMMARY = """
    WITH summary AS (
        SELECT due.kind, due.recipient_id, count(DISTINCT due.task_id) AS tasks,
            min(due.task_id) AS first_task,
            '[' || string_agg('(' || due.task_id || ', ' || quote_literal(point) || ')', ', '
                ORDER BY due.task_id, point COLLATE "C") || ']' AS pairs
        FROM reminder_due due CROSS JOIN unnest(due.points) AS point
        GROUP BY due.kind, due.recipient_id
    )
    SELECT summary.kind, summary.recipient_id, summary.tasks, summary.pairs, ({item})::text
    FROM summary
    JOIN reminder_due due ON due.kind = summary.kind
        AND due.recipient_id = summary.recipient_id AND due.task_id = summary.first_task
    CROSS JOIN (SELECT %(holders)s::jsonb AS names) AS holder
    ORDER BY summary.kind = %(escalation)s, summary.recipient_id
"""

#: The stored context of each message of a batch (``messages_write``'s ``stored_contexts``).
_CONTEXTS = """
    SELECT wanted.key, json_build_object('tasks', json_agg({item} ORDER BY due.task_id),
        'path', %s)::jsonb
    FROM reminder_due due
    JOIN unnest(%s::text[], %s::text[], %s::integer[]) AS wanted(key, kind, recipient_id)
        ON wanted.kind = due.kind AND wanted.recipient_id = due.recipient_id
    CROSS JOIN (SELECT %s::jsonb AS names) AS holder
    GROUP BY wanted.key
"""

#: Each (task, point) logged once, with the message of its first recipient; a message
#: written by a sweep that committed at the same moment is found by its key.
_LOG = """
    INSERT INTO {log} ({log_task}, {log_point}, {log_message}, {log_created})
    SELECT DISTINCT ON (due.task_id, point) due.task_id, point, message.{message_id}, %(now)s
    FROM reminder_due due
    CROSS JOIN unnest(due.points) AS point
    JOIN unnest(%(keys)s::text[], %(kinds)s::text[], %(recipients)s::integer[])
        AS wanted(key, kind, recipient_id)
        ON wanted.kind = due.kind AND wanted.recipient_id = due.recipient_id
    JOIN {message} message ON message.{message_key} = wanted.key
    ORDER BY due.task_id, point, due.recipient_id
    ON CONFLICT DO NOTHING
"""


def _sql(template, **parts):
    # Only quoted names from the models' options and the fragments above go into the text;
    # every value is a parameter.
    return template.format_map({**_names(), **parts})


def _reminders_send_in_database(*, now, calls, max_days):
    """``reminders_send`` on PostgreSQL, in a handful of statements whatever the backlog.

    Python works out the points that have come for each distinct deadline (in the call's
    time zone) and reads who is who; the database matches them to the open tasks, leaves
    out the points logged, finds each recipient through ``workflow.actors``' rules, and
    builds each message's list of tasks where it is stored. Tens of thousands of tasks
    never travel to Python and back.
    """
    candidates = _sql(_CANDIDATES)
    selected = {"open": [str(status) for status in OPEN_TASK_STATUSES]}
    selected["horizon"] = _horizon(now, max_days)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_sql(_DEADLINES), selected)
        deadlines = cursor.fetchall()
        scanned = sum(count for _due, count in deadlines)
        come = []
        # Each deadline as each call counts its days: a handful of calls, a few dozen days.
        for (due, _count), (call_id, call) in itertools.product(deadlines, calls.items()):
            come.extend(
                (call_id, due, point, moment, due.isoformat(), call.time_zone, now >= due)
                for point, moment in _come_points(
                    due=due,
                    now=now,
                    reminder_days=tuple(call.reminder_days or ()),
                    grace_days=call.escalation_grace_days,
                    time_zone=call.time_zone,
                )
            )
        if not come:
            return scanned, 0
        flow_task = Task._meta.get_field("flow_task")
        rules = [
            (
                flow_task.get_prep_value(getattr(NominationFlow, node)),
                owned,
                node,
                rule.reminded(owned=owned),
                rule.escalated_to,
                rule.holders(owned=owned),
                rule.escalation_links_nomination,
            )
            for node, rule in ACTORS.items()
            for owned in (True, False)
        ]
        pools = list(_Directory().pools(calls))
        parties = {
            "owner": actors.OWNER,
            "coordinators": actors.COORDINATORS,
            "reminder": Message.Kind.REMINDER.value,
            "escalation": Message.Kind.ESCALATION.value,
        }
        cursor.execute(_DUE_TABLE)
        # The sweep sorts and groups tens of thousands of rows: in memory, not on disk.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(
            _sql(
                _DUE,
                candidates=candidates,
                scope=_SCOPE.format(party="told.party", row="told"),
                holder_scope=_SCOPE.format(party="told.holders", row="told"),
            ),
            {
                **selected,
                **parties,
                **_columns(
                    "come", ("call", "due", "point", "moment", "due_at", "zone", "overdue"), come
                ),
                **_columns(
                    "rule",
                    ("flow_task", "owned", "node", "reminded", "escalated", "holders", "links"),
                    rules,
                ),
                **_columns("pool", ("party", "scope", "user"), pools),
            },
        )
        cursor.execute(
            "SELECT DISTINCT unnest(holder_ids) FROM reminder_due WHERE holder_ids IS NOT NULL"
        )
        holders = get_user_model().objects.in_bulk([user_id for (user_id,) in cursor.fetchall()])
        names = json.dumps(
            {str(pk): f"{user_display(user)} <{user.email}>" for pk, user in holders.items()}
        )
        cursor.execute(
            _sql(_SUMMARY, item=_ITEM), {"holders": names, "escalation": parties["escalation"]}
        )
        summaries = cursor.fetchall()
        users = get_user_model().objects.in_bulk({row[1] for row in summaries})
        wanted = [
            {
                "recipient": users[user_id],
                "kind": kind,
                "key": _key_of(kind, user_id, pairs),
                # The subject reads the number of tasks and the first; the list stored is
                # built by the database (``_CONTEXTS``).
                "context": {"tasks": [json.loads(first)] * tasks},
                "path": "/tasks/",
                "in_site": True,
            }
            for kind, user_id, tasks, pairs, first in summaries
        ]
        for start in range(0, len(wanted), _WRITE_BATCH):
            batch = wanted[start : start + _WRITE_BATCH]
            messages_write(
                batch,
                stored_contexts=(
                    _sql(_CONTEXTS, item=_ITEM),
                    ["/tasks/", *_keys(batch), names],
                ),
            )
        cursor.execute(
            _sql(_LOG),
            {"now": now, **dict(zip(("keys", "kinds", "recipients"), _keys(wanted), strict=True))},
        )
        cursor.execute("DELETE FROM reminder_due")
    return scanned, len(wanted)


def _keys(wanted):
    """The keys, kinds and recipient ids of ``wanted`` messages, as three arrays."""
    return (
        [item["key"] for item in wanted],
        [str(item["kind"]) for item in wanted],
        [item["recipient"].pk for item in wanted],
    )


def _columns(prefix, names, rows):
    """``rows`` as one array parameter per column: {"<prefix>_<name>": [...]}."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    return {f"{prefix}_{name}": list(values) for name, values in zip(names, columns, strict=True)}


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


def _reminders_outdated(reminders):
    """The held ``reminders`` none of whose tasks is still open: a digest leaves them out.

    A reminder's tasks are read from its own list: a point told to several people (every
    coordinator of a pool task) is logged with the first one's message only. A reminder
    written before its list named the task ids falls back to that log.
    """
    tasks_of = {}
    for message in reminders:
        items = message.context.get("tasks", [])
        if items and all("task_id" in item for item in items):
            tasks_of[message.pk] = {item["task_id"] for item in items}
    logged = ReminderLog.objects.filter(
        message_id__in=[m.pk for m in reminders if m.pk not in tasks_of]
    ).values_list("message_id", "task_id")
    for message_id, task_id in logged:
        tasks_of.setdefault(message_id, set()).add(task_id)
    open_ids = set(
        Task.objects.filter(
            pk__in={task_id for ids in tasks_of.values() for task_id in ids},
            status__in=OPEN_TASK_STATUSES,
        ).values_list("pk", flat=True)
    )
    return {message_id for message_id, ids in tasks_of.items() if not ids & open_ids}


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
    outdated = _reminders_outdated([m for m in held if m.kind == Message.Kind.REMINDER])
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
