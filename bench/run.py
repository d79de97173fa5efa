"""Nomflow's benchmarks against PostgreSQL and Redis: `make bench`.

1. One reminder sweep (``reminders_send``) over 100,000 open review tasks.
2. Messages sent per second through a real Celery worker to a local SMTP sink.
3. Reviewer matching for a call of 1,000 nominations x 3 reviewers over 150
   reviewers, beside the greedy one-at-a-time baseline (no database needed).
4. A nomination's whole lifecycle through Nomflow's services, statements per
   step and lifecycles per second, interleaved with plain viewflow running a
   flow of the same shape (bench/plainflow).
5. Every page for each role at 10,000 nominations (``--only pages``, bench/pages.py):
   p50/p95 and statements per page, ending with a ``pages:`` line.

DATABASE_URL (default postgres://postgres@127.0.0.1:5432/nomflow_bench) names
the benchmark's own database: it is created if missing and every table in it
is dropped and migrated afresh, so the name must contain "bench". No other
database is touched. The broker is BENCH_REDIS_URL (default Redis database 14),
whose Celery queue is purged before and after. The figures are printed with a
description of the machine; docs/benchmarks.md keeps the last ones measured.
"""

import argparse
import importlib.util
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/nomflow_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"


def configure(*, database_url, redis_url):
    """Environment for this process and the worker it starts, before Django loads."""
    sys.path.insert(0, str(BASE_DIR))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["CELERY_BROKER_URL"] = redis_url
    os.environ["DEBUG"] = "false"


def prepare_database(database_url):
    """Create the benchmark database if missing and drop its tables; returns what was done."""
    import environ
    import psycopg
    from psycopg import sql

    config = environ.Env.db_url_config(database_url)
    if "postgresql" not in config["ENGINE"]:
        raise SystemExit(f"The benchmarks need PostgreSQL; DATABASE_URL is {database_url!r}.")
    name = config["NAME"]
    if "bench" not in name:
        raise SystemExit(
            f"Refusing to empty database {name!r}: the benchmark drops every table in its "
            "database, so its name must contain 'bench' (e.g. nomflow_bench)."
        )
    params = {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(dbname=name, autocommit=True, **params) as bench:
        tables = [
            row[0]
            for row in bench.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]
        if tables:
            bench.execute(
                sql.SQL("DROP TABLE {} CASCADE").format(
                    sql.SQL(", ").join(sql.Identifier("public", table) for table in tables)
                )
            )
    return f"{name}: {'emptied' if exists else 'created'} ({len(tables)} tables dropped)"


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory():
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _load():
    """1-minute load average: well above 0 means something else shares the CPUs."""
    one, five, _fifteen = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def machine(*, redis_url):
    """The machine's description; without ``redis_url`` (matching alone), no servers."""
    versions = ", ".join(
        f"{package} {metadata.version(package)}"
        for package in (
            "django",
            "django-viewflow",
            "celery",
            "kombu",
            "psycopg",
            "aiosmtpd",
            "ortools",
        )
    )
    pairs = [
        ("CPU", _cpu_model()),
        ("cores", f"{os.cpu_count()} logical, {len(os.sched_getaffinity(0))} usable"),
        ("RAM", _memory()),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
    ]
    if redis_url:
        import redis
        from django.db import connection

        with connection.cursor() as cursor:
            settings = {}
            for setting in ("server_version", "shared_buffers", "synchronous_commit", "fsync"):
                cursor.execute(f"SHOW {setting}")
                settings[setting] = cursor.fetchone()[0]
        redis_info = redis.Redis.from_url(redis_url).info("server")
        pairs += [
            (
                "PostgreSQL",
                f"{settings['server_version']} (shared_buffers {settings['shared_buffers']}, "
                f"synchronous_commit {settings['synchronous_commit']}, fsync "
                f"{settings['fsync']}), same machine, TCP 127.0.0.1",
            ),
            ("Redis", f"{redis_info['redis_version']}, same machine"),
        ]
    return [*pairs, ("load average", _load()), ("packages", versions)]


def _print_pairs(title, pairs):
    print(f"\n== {title}")
    width = max(len(key) for key, _value in pairs)
    for key, value in pairs:
        print(f"  {key:<{width}}  {value}")


def report_reminders(result, *, verbose):
    build = result["build"]
    _print_pairs(
        f"Reminder sweep over {result['tasks']:,} open review tasks",
        [
            (
                "data",
                f"{result['tasks']:,} nominations, processes and ASSIGNED review tasks; "
                f"{result['reviewers']} reviewers, {result['nominators']:,} nominators, "
                "4 countries x 2 coordinators, reminder_days [7, 1], grace 3 days",
            ),
            (
                "built in",
                f"{build['seconds']:.1f} s ("
                + "; ".join(f"{k} {v:.1f} s" for k, v in build["breakdown"].items())
                + ")",
            ),
            (
                "tasks with a point due",
                f"{result['due']:,} ({result['due'] / result['tasks']:.0%})",
            ),
        ],
    )
    rows = [
        ("cold: every due point new", result["cold"]),
        ("again, same now: all logged", result["warm"]),
        ("next beat, now + 15 min", result["next_beat"]),
    ]
    print(
        f"\n  {'run':<30} {'scanned':>8} {'written':>8} {'seconds':>8} {'queries':>8} {'SQL s':>7}"
    )
    for label, run in rows:
        print(
            f"  {label:<30} {run['scanned']:>8,} {run['written']:>8,} {run['seconds']:>8.2f} "
            f"{run['queries']:>8,} {run['sql_seconds']:>7.2f}"
        )
    print(
        f"\n  after the cold run: {result['reminder_logs']:,} ReminderLog rows, "
        f"{result['pending_messages']:,} messages pending (no worker ran)"
    )
    fetch = result["fetch"]
    print(
        f"  candidate query alone (_open_candidates, list()): {fetch['rows']:,} rows "
        f"in {fetch['seconds']:.2f} s"
    )
    for label, run in rows[:2]:
        print(f"  slowest queries, {label}:")
        for seconds, sql in run["slowest"]:
            print(f"    {seconds:.3f} s  {sql}")
    if verbose:
        print("\n  EXPLAIN ANALYZE of the candidate query:")
        print("    " + fetch["plan"].replace("\n", "\n    "))
        print("\n  cProfile of a sweep that writes nothing (top by own time):")
        print("    " + result["profile"].strip().replace("\n", "\n    "))


def reminders_compare(*, before, rounds):
    """Cold sweeps of commit ``before`` and the working tree alternating over the data the
    last ``--only reminders`` run left in the database (not rebuilt, not emptied)."""
    configure(
        database_url=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        redis_url=os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL,
    )
    import django

    django.setup()
    from bench import reminder_sweep

    result = reminder_sweep.compare(before=before, rounds=rounds)
    _print_pairs(
        f"Cold reminder sweeps, {before} and the working tree alternating",
        [
            (
                label,
                f"median {result['medians'][label]:.2f} s "
                f"({', '.join(f'{s:.2f}' for s in result['seconds'][label])}), "
                f"{result['queries'][label]} statements",
            )
            for label in ("before", "after")
        ]
        + [
            ("ratio after / before", f"{result['ratio']:.2f}"),
            ("same rows written", str(result["same_output"])),
            ("load average", ", ".join(f"{x:.2f}" for x in result["load"])),
        ],
    )
    return 0 if result["same_output"] else 1


def report_send(result):
    n = result["messages"]
    seconds = result["seconds"]
    _print_pairs(
        f"Sending {n:,} messages: notify -> Redis -> Celery worker -> SMTP sink",
        [
            (
                "worker",
                f"prefork, concurrency {result['concurrency']}, "
                f"CELERY_DB_REUSE_MAX {result['db_reuse_max']}, "
                f"ready in {result['worker_ready_seconds']:.1f} s (not timed)",
            ),
            (
                "recipients",
                f"{result['recipients']} (message i goes to recipient i mod "
                f"{result['recipients']}), one transaction per notify",
            ),
            (
                "notify x N (writes + dispatch)",
                f"{result['enqueue_seconds']:.2f} s "
                f"({n / result['enqueue_seconds']:.0f} messages/s)",
            ),
            (
                "first message received",
                f"{result['first_receipt_seconds']:.2f} s after the first notify"
                if result["first_receipt_seconds"] is not None
                else "never",
            ),
            (
                "sent by their own task",
                f"{result['sent_by_task']:,} of {n:,}, the last "
                f"{seconds:.2f} s after the first notify"
                if seconds
                else f"{result['sent_by_task']}",
            ),
            (
                "throughput",
                f"{result['sent_by_task'] / seconds:.0f} messages/s end to end"
                if seconds
                else "n/a",
            ),
            (
                "worker drain",
                f"{(result['sent_by_task'] - 1) / result['drain_seconds']:.0f} "
                "messages/s, first receipt to last"
                if result["drain_seconds"]
                else "n/a",
            ),
            (
                "left pending, sent by a sweep",
                f"{result['sent_by_sweep']:,}"
                + (
                    " (message_send skipped them: see docs/benchmarks.md)"
                    if result["sent_by_sweep"]
                    else ""
                ),
            ),
            (
                "received",
                f"{result['received_distinct']:,} distinct of {n:,}, "
                f"{result['received_total']:,} in all, {result['duplicates']} duplicates",
            ),
            (
                "outbox statuses",
                ", ".join(f"{k} {v}" for k, v in sorted(result["statuses"].items())),
            ),
            ("SMTP connections", f"{result['connections']:,}"),
            ("logs", f"{result['log_dir']}"),
        ],
    )


def report_send_compare(result):
    """Interleaved backlog drains of two workers' code, one line a run, then the medians."""
    n = result["messages"]
    print(
        f"\n== Worker drain, {n:,} queued messages, prefork x{result['concurrency']}, "
        "interleaved rounds (first receipt to last)"
    )
    width = max(len(label) for label in result["labels"])
    for run in result["runs"]:
        print(
            f"  {run['label']:<{width}} {run['per_second'] or 0:>6.0f} messages/s  "
            f"{run['received_distinct']:,} of {n:,}, {run['duplicates']} duplicates, "
            f"{run['connections']:,} SMTP connections, load {run['load']:.2f}"
        )
    medians = result["medians"]
    before = result["labels"][0]
    print("  medians: " + "; ".join(f"{label} {medians[label]:.0f}/s" for label in medians))
    for label in result["labels"][1:]:
        print(
            f"send drain: before ({before}) {medians[before]:.0f}/s, after ({label}) "
            f"{medians[label]:.0f}/s, ratio {medians[label] / medians[before]:.2f}"
            if medians[before]
            else "send drain: no figure"
        )


def report_matching(result):
    rows = [
        (
            "data",
            f"{result['nominations']:,} nominations x {result['wanted_each']} reviewers, "
            f"{result['reviewers']} reviewers in 4 countries",
        ),
    ]
    for label, key in (
        ("matcher", "ours"),
        ("matcher, load_slack=2", "slack"),
        ("greedy baseline", "greedy"),
    ):
        f = result[key]
        rows.append(
            (
                label,
                f"{f['seconds']:.2f} s (runs: {', '.join(f'{s:.2f}' for s in f['seconds_all'])}); "
                f"{f['assigned']:,} of {f['wanted']:,} reviews, {f['short_nominations']} short; "
                f"fit {f['total_fit']:,} (mean {f['mean_fit']:.1f}, {f['zero_fit']} with none); "
                f"load max {f['max_load']} / min {f['min_load']} (sd {f['load_spread']:.2f}); "
                f"{f['bids_met']} bids met",
            )
        )
    _print_pairs("Reviewer matching", rows)
    if result["profile"]:
        print(result["profile"])


def report_lifecycle(result):
    rates = ", ".join(f"{r:.1f}" for r in result["nomflow_rates"])
    plain_rates = ", ".join(f"{r:.1f}" for r in result["plain_rates"])
    _print_pairs(
        "A nomination's lifecycle, beside plain viewflow of the same shape",
        [
            (
                "data",
                f"one call, {result['reviewers']} reviewers in 4 countries, 3 reviewers per "
                f"nomination, {result['criteria']} criteria, 2 coordinators, 1 lead",
            ),
            ("built in", f"{result['built_seconds']:.1f} s"),
            (
                "rounds",
                f"{result['rounds']} x {result['lifecycles']} lifecycles of each, alternating",
            ),
            ("Nomflow", f"{result['nomflow']:.1f} lifecycles/s (median of {rates})"),
            ("plain viewflow", f"{result['plain']:.1f} lifecycles/s (median of {plain_rates})"),
        ],
    )
    for title, steps in (
        ("Nomflow", result["nomflow_steps"]),
        ("plain viewflow", result["plain_steps"]),
    ):
        print(f"\n  {title}: statements per step")
        for name, count, kinds in steps:
            detail = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))
            print(f"    {name:<10} {count:>4}  ({detail})")
        print(f"    {'total':<10} {sum(c for _n, c, _k in steps):>4}")


def lifecycle_line(result):
    """The benchmark's one-line verdict; ``--only lifecycle`` ends with it."""
    return (
        f"lifecycle: {result['nomflow_queries']} queries, {result['nomflow']:.1f}/s, "
        f"plain viewflow {result['plain']:.1f}/s, ratio {result['nomflow'] / result['plain']:.2f}"
    )


def summary(reminders, send, matching=None, lifecycle=None):
    print("\n== Summary (markdown)\n")
    print("| benchmark | figure |")
    print("| --- | --- |")
    if reminders:
        for label, key in (
            ("cold", "cold"),
            ("again, same now", "warm"),
            ("next beat (+15 min)", "next_beat"),
        ):
            run = reminders[key]
            print(
                f"| reminders_send, {reminders['tasks']:,} open tasks, {label} | "
                f"{run['scanned']:,} scanned, {run['written']:,} written, "
                f"{run['seconds']:.2f} s, {run['queries']:,} queries |"
            )
    if send and send["seconds"]:
        print(
            f"| {send['messages']:,} messages through a worker (prefork x{send['concurrency']}) | "
            f"{send['sent_by_task'] / send['seconds']:.0f} messages/s end to end "
            f"({send['sent_by_task']:,} in {send['seconds']:.1f} s); {send['sent_by_sweep']} "
            f"left pending until a sweep; {send['duplicates']} duplicates |"
        )
    if matching:
        for label, key in (("matcher", "ours"), ("greedy baseline", "greedy")):
            f = matching[key]
            print(
                f"| reviewer matching, {matching['nominations']:,} x {matching['wanted_each']} "
                f"over {matching['reviewers']}, {label} | {f['seconds']:.2f} s, fit "
                f"{f['total_fit']:,}, load max {f['max_load']} / min {f['min_load']}, "
                f"{f['assigned']:,} of {f['wanted']:,} reviews |"
            )
    if lifecycle:
        print(
            f"| lifecycle (draft to decision), Nomflow | {lifecycle['nomflow_queries']} "
            f"statements, {lifecycle['nomflow']:.1f}/s |"
        )
        print(
            f"| lifecycle, plain viewflow of the same shape | {lifecycle['plain_queries']} "
            f"statements, {lifecycle['plain']:.1f}/s |"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="open tasks (default 100000)")
    parser.add_argument("--messages", type=int, default=2_000, help="messages sent (default 2000)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=4,
        help="the worker's pool processes (default 4, as docs/operations.md runs the mail worker)",
    )
    parser.add_argument(
        "--db-reuse-max",
        type=int,
        help="CELERY_DB_REUSE_MAX for the worker (default 100, as in config/settings; "
        "0 reconnects to the database for every task)",
    )
    parser.add_argument(
        "--only",
        choices=["reminders", "send", "matching", "lifecycle", "pages"],
        help="run one benchmark",
    )
    parser.add_argument(
        "--lifecycles", type=int, default=30, help="lifecycles of each per round (default 30)"
    )
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    parser.add_argument(
        "--send-compare",
        metavar="BEFORE[..AFTER]",
        help="with --only send: time a worker draining a backlog, alternating between "
        "commit BEFORE's code and AFTER's (default: the working tree), --rounds times each",
    )
    parser.add_argument(
        "--nominations",
        type=int,
        default=10_000,
        help="with --only pages: nominations generated (default 10000)",
    )
    parser.add_argument(
        "--requests", type=int, default=40, help="with --only pages: requests a page (default 40)"
    )
    parser.add_argument(
        "--pages",
        help="with --only pages: time only the pages whose label holds one of these "
        "comma-separated words (e.g. 'board,CSV')",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="with --only pages: build the data only (no timing), for a load test",
    )
    parser.add_argument(
        "--reminders-compare",
        metavar="BEFORE",
        help="time cold reminder sweeps of commit BEFORE's code and the working tree's, "
        "alternating --rounds times each, over the data the last --only reminders run left "
        "(reused as it is: nothing is rebuilt)",
    )
    parser.add_argument(
        "--sessions",
        metavar="FILE",
        help="with --only pages --keep: write signed-in sessions for the load test to FILE",
    )
    parser.add_argument("--verbose", action="store_true", help="query plan and profile too")
    args = parser.parse_args(argv)

    if args.reminders_compare:
        return reminders_compare(before=args.reminders_compare, rounds=args.rounds)

    if args.only == "matching":
        # Pure Python: no database, broker or Django needed.
        sys.path.insert(0, str(BASE_DIR))
        from bench import matching

        _print_pairs("Machine", machine(redis_url=None))
        result = matching.run(verbose=args.verbose)
        report_matching(result)
        summary(None, None, result)
        return 0
    if args.only in (None, "send") and importlib.util.find_spec("aiosmtpd") is None:
        raise SystemExit(
            "The send benchmark's SMTP sink needs aiosmtpd: .venv/bin/pip install aiosmtpd "
            "(or --only reminders)."
        )
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL
    started = time.perf_counter()
    configure(database_url=database_url, redis_url=redis_url)
    if args.db_reuse_max is not None:
        os.environ["CELERY_DB_REUSE_MAX"] = str(args.db_reuse_max)
    prepared = prepare_database(database_url)

    import django

    django.setup()
    from django.core.management import call_command

    mark = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    _print_pairs(
        "Machine",
        [
            *machine(redis_url=redis_url),
            ("database", f"{prepared}, migrated in {time.perf_counter() - mark:.1f} s"),
            ("broker", redis_url),
        ],
    )

    if args.only == "pages":
        return run_pages(args)

    from bench import lifecycle, matching, reminder_sweep, send_throughput

    reminders = send = matched = lifecycled = None
    if args.only in (None, "reminders"):
        reminders = reminder_sweep.run(tasks=args.tasks, verbose=args.verbose)
        report_reminders(reminders, verbose=args.verbose)
    if args.only == "send" and args.send_compare:
        before, _dots, after = args.send_compare.partition("..")
        compared = send_throughput.compare(
            before=before,
            after=after or None,
            rounds=args.rounds,
            messages=args.messages,
            concurrency=args.concurrency,
            log_dir=BASE_DIR / "var" / "bench",
        )
        report_send_compare(compared)
        return 0 if compared["ok"] else 1
    if args.only in (None, "send"):
        send = send_throughput.run(
            messages=args.messages,
            concurrency=args.concurrency,
            log_dir=BASE_DIR / "var" / "bench",
        )
        report_send(send)
    if args.only is None:
        matched = matching.run(verbose=args.verbose)
        report_matching(matched)
    if args.only in (None, "lifecycle"):
        lifecycled = lifecycle.run(lifecycles=args.lifecycles, rounds=args.rounds)
        report_lifecycle(lifecycled)
    summary(reminders, send, matched, lifecycled)
    print(f"\nWhole run: {time.perf_counter() - started:.0f} s; load average now {_load()}")
    if lifecycled:
        print(lifecycle_line(lifecycled))
    return 0 if send is None or (send["all_received"] and send["duplicates"] == 0) else 1


def run_pages(args):
    """``--only pages``: build the data, time every page, end with the ``pages:`` line."""
    from bench import pages

    started = time.perf_counter()
    if args.keep:
        data = pages.build(nominations=args.nominations)
        print(f"built {data['counts']} in {data['seconds']:.1f} s; not timed (--keep)")
        wrong = pages.check_consistency()
        print(f"consistency: {len(wrong)} mismatches")
        if args.sessions:
            import json

            people = pages.load_test_sessions(data["world"])
            Path(args.sessions).parent.mkdir(parents=True, exist_ok=True)
            Path(args.sessions).write_text(json.dumps(people))
            print(f"sessions for the load test in {args.sessions}")
        return 0 if not wrong else 1
    only = [word.strip() for word in args.pages.split(",")] if args.pages else None
    result = pages.run(nominations=args.nominations, requests=args.requests, only=only)
    pages.report(result)
    print(f"\nWhole run: {time.perf_counter() - started:.0f} s; load average now {_load()}")
    print(pages.pages_line(result))
    return 0 if not result["wrong"] else 1


if __name__ == "__main__":
    sys.exit(main())
