"""Benchmark 2: messages sent per second through a real Celery worker to a local SMTP sink.

An SMTP sink (bench/smtp_sink.py, aiosmtpd) listens on a free 127.0.0.1 port;
a real worker, run as docs/operations.md runs the mail worker (`celery -A config
worker -Q email,sweeps --pool=prefork --concurrency=4 --loglevel=INFO`), reads Redis and
sends with Django's SMTP backend to the sink. N messages are then
written with ``notify``, each in its own transaction as a workflow step would,
so each send is dispatched after its commit. The clock runs from the first
``notify`` to the sink's receipt of the last message; every message carries its
idempotency key in X-Nomflow-Message, which the sink counts to find duplicates.

``drain`` measures the worker alone: the N messages are written first, in one
transaction, with no worker running, and their sends queued in Redis either one task
per message (``send_message``, as every commit queued them before batches) or as one
commit's batch (``messages_dispatch``: tasks of up to EMAIL_SEND_BATCH messages); then
the worker starts, and the clock runs from the sink's first receipt to its last.
``compare`` interleaves drains of a worker running an earlier commit's code
(``git archive``) with drains of the working tree's, and reports each side's median.
"""

import contextlib
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count

from config.celery_app import app as celery_app
from notifications.models import Message
from notifications.services import notify

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
#: Seconds without a receipt, with messages still missing, before one sweep is asked for.
STALL_SECONDS = 5
#: Nobody signs in as a benchmark user.
UNUSABLE = make_password(None)


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _read_lines(stream, lines):
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


class Sink:
    """The SMTP sink process and what it has received."""

    def __init__(self, *, log_dir):
        self.port = _free_port()
        self.received = []  # (key, unix time, connection number)
        self._lines = queue.Queue()
        self.process = subprocess.Popen(  # noqa: S603 - our own script, no shell
            [sys.executable, str(BENCH_DIR / "smtp_sink.py"), "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=(log_dir / "smtp_sink.log").open("w"),
            text=True,
            start_new_session=True,
        )
        threading.Thread(
            target=_read_lines, args=(self.process.stdout, self._lines), daemon=True
        ).start()

    def wait_ready(self, timeout):
        line = self._lines.get(timeout=timeout)
        if not line or not line.startswith("READY"):
            raise RuntimeError(f"SMTP sink did not start: {line!r}")

    def collect(self):
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                return
            if line and line.startswith("MSG "):
                _tag, key, at, port = line.split(" ")
                self.received.append((key, float(at), port))

    def stop(self, timeout=10):
        _stop(self.process, timeout)


def _stop(process, timeout):
    """SIGTERM, then SIGKILL to the process group we started, each wait bounded."""
    if process.poll() is not None:
        return process.returncode
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.wait(timeout=5)


def start_worker(*, smtp_port, log_dir, concurrency, code_dir=BASE_DIR, log_name="worker.log"):
    """A worker on ``code_dir``'s code (the working tree, or an exported commit)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        # Ahead of the editable install, which would otherwise import the working tree.
        "PYTHONPATH": str(code_dir),
    }
    log = (log_dir / log_name).open("w")
    return subprocess.Popen(  # noqa: S603 - the venv's celery, fixed arguments, no shell
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "worker",
            # The mail worker as docs/operations.md runs it: its queues, its pool, its log
            # level (a line for each task received and each task done).
            "-Q",
            "email,sweeps",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--loglevel=INFO",
            "--hostname=bench@%h",
            # No other workers to sync with: start faster and keep the broker quiet.
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=code_dir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_worker_ready(worker, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"worker exited with {worker.returncode}; see its log")
        if celery_app.control.ping(timeout=1.0):
            return time.monotonic() - deadline + timeout
    raise RuntimeError(f"worker not ready after {timeout} s")


def run(*, messages=2_000, recipients=200, concurrency=4, log_dir, timeout=180):
    log_dir.mkdir(parents=True, exist_ok=True)
    run_id = f"{time.time():.0f}"
    celery_app.control.purge()  # nothing left over from an earlier run or benchmark 1
    User = get_user_model()
    users = User.objects.bulk_create(
        [
            User(username=f"send{run_id}-{i}", email=f"send{i}@example.org", password=UNUSABLE)
            for i in range(recipients)
        ]
    )
    sink = Sink(log_dir=log_dir)
    worker = None
    try:
        sink.wait_ready(timeout=15)
        worker = start_worker(smtp_port=sink.port, log_dir=log_dir, concurrency=concurrency)
        ready_seconds = wait_worker_ready(worker, timeout=60)

        prefix = f"bench-send:{run_id}:"
        started_wall = time.time()
        started = time.perf_counter()
        for i in range(messages):
            with transaction.atomic():
                notify(
                    recipient=users[i % recipients],
                    kind=Message.Kind.TASK_ASSIGNED,
                    key=f"{prefix}{i}",
                    context={
                        "node": "review",
                        "nomination_title": f"Practice {i}",
                        "nomination_id": i,
                        "country": "Sweden",
                        "due": "2030-01-31",
                    },
                    path=f"/tasks/{i}/",
                )
        enqueue_seconds = time.perf_counter() - started

        # Wait for all N. When receipts stop with some still missing, ask the worker for
        # one sweep, as beat does every minute in production, and count what only it sent.
        deadline = started + timeout
        received, last_change = 0, time.perf_counter()
        by_task = sweep_asked_wall = None  # messages received before the sweep was asked for
        while time.perf_counter() < deadline:
            sink.collect()
            count = len({key for key, _at, _port in sink.received if key.startswith(prefix)})
            if count >= messages:
                break
            if count != received:
                received, last_change = count, time.perf_counter()
            elif by_task is None and time.perf_counter() - last_change > STALL_SECONDS:
                by_task = received
                sweep_asked_wall = time.time()
                celery_app.send_task("notifications.tasks.sweep_messages")
                last_change = time.perf_counter()
            time.sleep(0.05)
        # A duplicate would come moments after the original: listen a little longer.
        time.sleep(2)
        sink.collect()
        mine = [(key, at) for key, at, _port in sink.received if key.startswith(prefix)]
        counts = Counter(key for key, _at in mine)
        # The worker saves SENT just after the sink answers; give the last ones a moment.
        statuses = {}
        for _ in range(50):
            statuses = dict(
                Message.objects.filter(idempotency_key__startswith=prefix)
                .values_list("status")
                .annotate(n=Count("pk"))
            )
            if statuses.get(Message.Status.SENT, 0) >= len(counts):
                break
            time.sleep(0.1)
        if by_task is None:
            by_task = len(counts)
            before_sweep = sorted(at for _key, at in mine)
        else:
            before_sweep = sorted(at for _key, at in mine if at < sweep_asked_wall)
        return {
            "messages": messages,
            "recipients": recipients,
            "concurrency": concurrency,
            "db_reuse_max": os.environ.get("CELERY_DB_REUSE_MAX", "100"),
            "worker_ready_seconds": ready_seconds,
            "enqueue_seconds": enqueue_seconds,
            "all_received": len(counts) == messages,
            "received_distinct": len(counts),
            "received_total": len(mine),
            "duplicates": sum(n - 1 for n in counts.values() if n > 1),
            # Sent by their own task; the rest stayed pending until the sweep.
            "sent_by_task": by_task,
            "sent_by_sweep": len(counts) - by_task,
            # From the first notify to the receipt of the last message its own task sent.
            "seconds": (before_sweep[-1] - started_wall) if before_sweep else None,
            "first_receipt_seconds": (before_sweep[0] - started_wall) if before_sweep else None,
            "drain_seconds": (before_sweep[-1] - before_sweep[0])
            if len(before_sweep) > 1
            else None,
            "statuses": statuses,
            "connections": len(
                {port for key, _at, port in sink.received if key.startswith(prefix)}
            ),
            "log_dir": log_dir,
        }
    finally:
        if worker is not None:
            _stop(worker, timeout=30)
        sink.stop()
        celery_app.control.purge()


def _backlog_write(*, prefix, users, messages):
    """N ``task_assigned`` messages in one transaction: N send tasks queued at its commit."""
    with transaction.atomic():
        for i in range(messages):
            notify(
                recipient=users[i % len(users)],
                kind=Message.Kind.TASK_ASSIGNED,
                key=f"{prefix}{i}",
                context={
                    "node": "review",
                    "nomination_title": f"Practice {i}",
                    "nomination_id": i,
                    "country": "Sweden",
                    "due": "2030-01-31",
                },
                path=f"/tasks/{i}/",
            )


def drain(
    *,
    messages=2_000,
    recipients=200,
    concurrency=4,
    log_dir,
    code_dir=BASE_DIR,
    label="working tree",
    batched=False,
    timeout=180,
):
    """Write N messages with no worker running, then time one worker sending them all."""
    log_dir.mkdir(parents=True, exist_ok=True)
    run_id = f"{time.time_ns()}"
    celery_app.control.purge()
    User = get_user_model()
    users = User.objects.bulk_create(
        [
            User(username=f"drain{run_id}-{i}", email=f"drain{i}@example.org", password=UNUSABLE)
            for i in range(recipients)
        ]
    )
    prefix = f"bench-drain:{run_id}:"
    _backlog_write(prefix=prefix, users=users, messages=messages)
    # Queue the sends as the side under test would have: drop what the writes queued.
    celery_app.control.purge()
    ids = list(
        Message.objects.filter(idempotency_key__startswith=prefix)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if batched:
        from notifications.services import messages_dispatch

        messages_dispatch(message_ids=ids)
    else:
        for message_id in ids:
            celery_app.send_task("notifications.tasks.send_message", (message_id,))
    sink = Sink(log_dir=log_dir)
    worker = None
    try:
        sink.wait_ready(timeout=15)
        worker = start_worker(
            smtp_port=sink.port,
            log_dir=log_dir,
            concurrency=concurrency,
            code_dir=code_dir,
            log_name=f"worker-{label.split()[0]}{'-batched' if batched else ''}.log",
        )
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            sink.collect()
            if len({key for key, _at, _port in sink.received}) >= messages:
                break
            if worker.poll() is not None:
                raise RuntimeError(f"worker exited with {worker.returncode}; see its log")
            time.sleep(0.05)
        time.sleep(2)  # a duplicate would come moments after the original
        sink.collect()
        mine = [(key, at, port) for key, at, port in sink.received if key.startswith(prefix)]
        counts = Counter(key for key, _at, _port in mine)
        times = sorted(at for _key, at, _port in mine)
        seconds = times[-1] - times[0] if len(times) > 1 else None
        return {
            "label": label,
            "messages": messages,
            "received_distinct": len(counts),
            "duplicates": sum(n - 1 for n in counts.values() if n > 1),
            "seconds": seconds,
            "per_second": (len(times) - 1) / seconds if seconds else None,
            "connections": len({port for _key, _at, port in mine}),
            "load": os.getloadavg()[0],
        }
    finally:
        if worker is not None:
            _stop(worker, timeout=30)
        sink.stop()
        celery_app.control.purge()


def export_commit(rev, folder):
    """``git archive`` of ``rev`` unpacked into ``folder``; the repository is not touched."""
    archive = subprocess.run(  # noqa: S603 - git with fixed arguments, no shell
        ["git", "archive", "--format=tar", rev],  # noqa: S607 - git from PATH
        cwd=BASE_DIR,
        check=True,
        capture_output=True,
    ).stdout
    with tempfile.TemporaryFile() as tar_file:
        tar_file.write(archive)
        tar_file.seek(0)
        with tarfile.open(fileobj=tar_file) as tar:
            tar.extractall(folder, filter="data")
    return subprocess.run(  # noqa: S603
        ["git", "rev-parse", "--short", rev],  # noqa: S607
        cwd=BASE_DIR,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def compare(*, before, after=None, rounds=3, messages=2_000, concurrency=4, log_dir):
    """Interleaved drains, ``rounds`` times: commit ``before``'s worker (a task per message),
    then ``after``'s (a commit, or the working tree if None) with a task per message and
    with batches; each side's median."""
    with contextlib.ExitStack() as stack:
        codes = []
        for rev in (before, after):
            if rev is None:
                codes.append((BASE_DIR, "working tree"))
                continue
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="nomflow-worker-"))
            codes.append((Path(folder), export_commit(rev, folder)))
        (before_dir, before_label), (after_dir, after_label) = codes
        sides = [
            (before_dir, before_label, False),
            (after_dir, f"{after_label}, a task per message", False),
            (after_dir, f"{after_label}, batches", True),
        ]
        runs = []
        for _ in range(rounds):
            for code_dir, label, batched in sides:
                runs.append(
                    drain(
                        messages=messages,
                        concurrency=concurrency,
                        log_dir=log_dir,
                        code_dir=code_dir,
                        label=label,
                        batched=batched,
                    )
                )
    by_label = {}
    for run in runs:
        by_label.setdefault(run["label"], []).append(run)
    return {
        "messages": messages,
        "concurrency": concurrency,
        "runs": runs,
        "labels": [label for _dir, label, _batched in sides],
        "medians": {
            label: statistics.median(run["per_second"] or 0 for run in side)
            for label, side in by_label.items()
        },
        "ok": all(run["received_distinct"] == messages and run["duplicates"] == 0 for run in runs),
    }
