"""Benchmark 1: one reminder sweep (`reminders_send`) over 100,000 open review tasks.

The data is built with bulk inserts, not through the flow: a call with
reminder_days [7, 1], four countries with two coordinators each, reviewers,
nominators, the nominations, their NominationProcess rows and one open HUMAN
task of the review node per nomination, owned by a reviewer. About 30 % of
the tasks have a reminder point due at the benchmark's ``now``.

The sweep is then timed twice at the same ``now``: cold (every due point is
new, so messages are written) and again (every point is logged: nothing is
written). The Celery broker is Redis with no worker running, so the
messages the sweep writes stay pending; publishing their send tasks (one
LPUSH each, after commit) is inside the timing.
"""

import cProfile
import io
import pstats
import random
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS, STATUS

from nominations.models import Call, Country, Nomination
from notifications.models import Message, ReminderLog
from reviewers.models import ReviewerProfile
from workflow import reminders
from workflow.deadlines import day_end
from workflow.flows import NominationFlow
from workflow.models import NominationProcess

BATCH = 5000
#: Nobody signs in as a benchmark user.
UNUSABLE = make_password(None)
COUNTRIES = [("ES", "Spain"), ("FR", "France"), ("LV", "Latvia"), ("SE", "Sweden")]

# Where each task's deadline (Task.scheduled) falls relative to ``now``, as
# (share, earliest offset, latest offset); review tasks get 21 days.
DEADLINE_MIX = [
    (0.70, timedelta(days=7, minutes=1), timedelta(days=21)),  # nothing due yet
    (0.22, timedelta(minutes=1), timedelta(days=7)),  # "before:7" (and "before:1") due
    (0.05, -timedelta(days=3), timedelta(0)),  # overdue
    (0.03, -timedelta(days=10), -timedelta(days=3, minutes=1)),  # overdue and escalated
]


def _deadline_band(draw):
    """The (earliest, latest) offset of DEADLINE_MIX that a draw in [0, 1) falls in."""
    for share, earliest, latest in DEADLINE_MIX:
        if draw < share:
            return earliest, latest
        draw -= share
    return DEADLINE_MIX[-1][1:]


def _users(prefix, count):
    User = get_user_model()
    users = User.objects.bulk_create(
        [
            User(
                username=f"{prefix}{i}",
                email=f"{prefix}{i}@example.org",
                password=UNUSABLE,
                is_active=True,
            )
            for i in range(count)
        ],
        batch_size=BATCH,
    )
    return [user.pk for user in users]


def build(*, tasks, reviewers, nominators, now, seed=42):
    """Insert the data; returns a dict of what was made and how long it took."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not cryptography
    started = time.perf_counter()
    call = Call.objects.create(
        title="Benchmark call",
        languages=["en"],
        opens_at=now - timedelta(days=60),
        closes_at=now + timedelta(days=60),
        review_days=21,
        reminder_days=[7, 1],
        escalation_grace_days=3,
    )
    countries = Country.objects.bulk_create(
        [Country(code=code, name=name) for code, name in COUNTRIES]
    )
    coordinator_ids = _users("coordinator", 2 * len(countries))
    Country.coordinators.through.objects.bulk_create(
        [
            Country.coordinators.through(country_id=country.pk, user_id=user_id)
            for i, country in enumerate(countries)
            for user_id in coordinator_ids[2 * i : 2 * i + 2]
        ]
    )
    lead_ids = _users("lead", 2)
    Call.leads.through.objects.bulk_create(
        [Call.leads.through(call_id=call.pk, user_id=user_id) for user_id in lead_ids]
    )
    reviewer_ids = _users("reviewer", reviewers)
    ReviewerProfile.objects.bulk_create(
        [
            ReviewerProfile(
                user_id=user_id,
                country=countries[i % len(countries)],
                organisation=f"Organisation {i}",
                languages=["en"],
            )
            for i, user_id in enumerate(reviewer_ids)
        ],
        batch_size=BATCH,
    )
    nominator_ids = _users("nominator", nominators)
    people_seconds = time.perf_counter() - started

    mark = time.perf_counter()
    nomination_ids = []
    for start in range(0, tasks, BATCH):
        batch = Nomination.objects.bulk_create(
            [
                Nomination(
                    call=call,
                    nominator_id=nominator_ids[i % len(nominator_ids)],
                    stage=Nomination.Stage.REVIEW,
                    title=f"Practice {i}",
                    country=countries[i % len(countries)],
                    language="en",
                    submitted_at=now - timedelta(days=30),
                )
                for i in range(start, min(start + BATCH, tasks))
            ]
        )
        nomination_ids.extend(n.pk for n in batch)
    nominations_seconds = time.perf_counter() - mark

    # Django's bulk_create refuses multi-table inheritance, so the parent rows
    # (viewflow's Process) go through bulk_create and the child rows
    # (NominationProcess: process_ptr_id, nomination_id) through one
    # INSERT ... SELECT unnest(...) per batch, with names read from _meta.
    mark = time.perf_counter()
    meta = NominationProcess._meta
    # The names come from _meta and the values are parameters, hence the noqa.
    quote = connection.ops.quote_name
    table, parent, nomination = (
        quote(meta.db_table),
        quote(meta.pk.column),
        quote(meta.get_field("nomination").column),
    )
    child_sql = (
        f"INSERT INTO {table} ({parent}, {nomination})"  # noqa: S608
        " SELECT * FROM unnest(%s::bigint[], %s::bigint[])"
    )
    process_ids = []
    for start in range(0, tasks, BATCH):
        chunk = nomination_ids[start : start + BATCH]
        processes = Process.objects.bulk_create(
            [Process(flow_class=NominationFlow, status=PROCESS.NEW, created=now) for _ in chunk]
        )
        ids = [p.pk for p in processes]
        with connection.cursor() as cursor:
            cursor.execute(child_sql, [ids, chunk])
        process_ids.extend(ids)
    processes_seconds = time.perf_counter() - mark

    mark = time.perf_counter()
    task_rows = []
    zone = ZoneInfo(call.time_zone)
    for i, process_id in enumerate(process_ids):
        earliest, latest = _deadline_band(rng.random())
        # As the flow sets them: the end of a day in the call's time zone (workflow.deadlines).
        due = day_end(
            (now + earliest + (latest - earliest) * rng.random()).astimezone(zone).date(), zone
        )
        task_rows.append(
            Task(
                process_id=process_id,
                flow_task=NominationFlow.review,
                flow_task_type="HUMAN",
                status=STATUS.ASSIGNED,
                owner_id=reviewer_ids[(i * 7) % len(reviewer_ids)],
                created=due - timedelta(days=21),
                assigned=due - timedelta(days=21),
                scheduled=due,
                data={"review_id": None},
            )
        )
    for start in range(0, len(task_rows), BATCH):
        Task.objects.bulk_create(task_rows[start : start + BATCH])
    tasks_seconds = time.perf_counter() - mark

    # A live database has statistics from autovacuum; give the planner the same.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "call": call,
        "seconds": time.perf_counter() - started,
        "breakdown": {
            "users, countries, call": people_seconds,
            "nominations (bulk_create)": nominations_seconds,
            "processes (bulk_create + raw child insert)": processes_seconds,
            "tasks (bulk_create)": tasks_seconds,
        },
    }


def expected_due(*, now, call):
    """How many tasks have at least one reminder point due at ``now`` (from the data)."""
    horizon = now + timedelta(days=max(call.reminder_days))
    return Task.objects.filter(
        flow_task_type="HUMAN", status=STATUS.ASSIGNED, scheduled__lte=horizon
    ).count()


def timed_sweep(*, now):
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        scanned, written = reminders.reminders_send(now=now)
        seconds = time.perf_counter() - started
    sql_seconds = sum(float(q["time"]) for q in queries.captured_queries)
    slowest = sorted(queries.captured_queries, key=lambda q: float(q["time"]), reverse=True)[:3]
    return {
        "scanned": scanned,
        "written": written,
        "seconds": seconds,
        "queries": len(queries.captured_queries),
        "sql_seconds": sql_seconds,
        "slowest": [(float(q["time"]), q["sql"][:160]) for q in slowest],
    }


def candidate_fetch(*, now, call):
    """The sweep's first read alone: the open candidates with their nominations."""
    queryset = reminders._open_candidates(now, max(call.reminder_days))
    started = time.perf_counter()
    rows = list(queryset)
    seconds = time.perf_counter() - started
    plan = queryset.explain(analyze=True)
    return {"rows": len(rows), "seconds": seconds, "plan": plan}


def profile_sweep(*, now, top=8):
    """cProfile of a sweep that writes nothing; returns the top functions by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    reminders.reminders_send(now=now)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def run(*, tasks=100_000, reviewers=300, nominators=2_000, verbose=False):
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        built = build(tasks=tasks, reviewers=reviewers, nominators=nominators, now=now)
    call = built["call"]
    due = expected_due(now=now, call=call)
    cold = timed_sweep(now=now)
    logged = ReminderLog.objects.count()
    pending = Message.objects.filter(status=Message.Status.PENDING).count()
    warm = timed_sweep(now=now)
    next_beat = timed_sweep(now=now + timedelta(minutes=15))
    fetch = candidate_fetch(now=now, call=call)
    profile = profile_sweep(now=now + timedelta(minutes=15)) if verbose else ""
    return {
        "tasks": tasks,
        "reviewers": reviewers,
        "nominators": nominators,
        "now": now,
        "build": built,
        "due": due,
        "cold": cold,
        "warm": warm,
        "next_beat": next_beat,
        "reminder_logs": logged,
        "pending_messages": pending,
        "fetch": fetch,
        "profile": profile,
    }


def _clear_writes():
    """Undo what a sweep wrote (and the preferences its first messages created)."""
    from notifications.models import Notification, Preference

    ReminderLog.objects.all().delete()
    Notification.objects.all().delete()
    Message.objects.all().delete()
    Preference.objects.all().delete()
    with connection.cursor() as cursor:
        for model in (ReminderLog, Notification, Message, Preference):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _written():
    # The log's points, not which message each names: a point told to several people is
    # now logged with the message of the lowest user id, before with whichever came first.
    return (
        sorted(ReminderLog.objects.values_list("task_id", "point")),
        sorted(
            (m.idempotency_key, m.recipient_id, m.subject, m.status, m.language, m.context)
            for m in Message.objects.all()
        ),
    )


def _old_reminders(commit, folder):
    """``workflow.reminders`` and the outbox writer it calls, as they were at ``commit``."""
    import importlib.util
    import subprocess
    import sys
    from pathlib import Path

    base = Path(__file__).resolve().parent.parent
    archive = subprocess.run(  # noqa: S603 - git with fixed arguments, no shell
        ["git", "archive", commit, "workflow/reminders.py", "notifications/services.py"],  # noqa: S607
        cwd=base,
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)  # noqa: S603, S607

    def load(name, path, replace=None):
        source = Path(path).read_text()
        if replace:
            source = source.replace(*replace)
        spec = importlib.util.spec_from_loader(name, loader=None, origin=str(path))
        module = importlib.util.module_from_spec(spec)
        module.__file__, module.__package__ = str(path), name.rpartition(".")[0]
        sys.modules[name] = module
        exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102 - our own code
        return module

    load("notifications._bench_before", f"{folder}/notifications/services.py")
    return load(
        "workflow._bench_before",
        f"{folder}/workflow/reminders.py",
        ("from notifications.services import", "from notifications._bench_before import"),
    )


def compare(*, before, rounds=5):
    """Cold sweeps of ``before``'s code and the working tree's, alternating over the data
    ``run`` left (``bench/run.py --only reminders`` first), the writes undone each time."""
    import os
    import statistics
    import tempfile

    call = Call.objects.get(title="Benchmark call")
    now = call.opens_at + timedelta(days=60)  # as ``run`` built it
    with tempfile.TemporaryDirectory() as folder:
        versions = {"before": _old_reminders(before, folder), "after": reminders}
        outputs, seconds, queries = {}, {"before": [], "after": []}, {}
        for label, module in versions.items():  # untimed: templates, catalogues, caches
            _clear_writes()
            module.reminders_send(now=now)
            outputs[label] = _written()
        for round_ in range(rounds):
            order = list(versions) if round_ % 2 == 0 else list(reversed(versions))
            for label in order:
                _clear_writes()
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    versions[label].reminders_send(now=now)
                    seconds[label].append(time.perf_counter() - started)
                queries[label] = len(captured.captured_queries)
    medians = {label: statistics.median(values) for label, values in seconds.items()}
    return {
        "before": before,
        "rounds": rounds,
        "seconds": seconds,
        "queries": queries,
        "medians": medians,
        "ratio": medians["after"] / medians["before"],
        "same_output": outputs["before"] == outputs["after"],
        "load": os.getloadavg(),
    }
