"""Benchmark 2: messages sent per second through a real Celery worker to a local SMTP sink.

An SMTP sink (bench/smtp_sink.py, aiosmtpd) listens on a free 127.0.0.1 port;
a real worker (`celery -A config worker --pool=prefork --concurrency=2`) reads
Redis and sends with Django's SMTP backend to the sink. N messages are then
written with ``notify``, each in its own transaction as a workflow step would,
so each send is dispatched after its commit. The clock runs from the first
``notify`` to the sink's receipt of the last message; every message carries its
idempotency key in X-Nomflow-Message, which the sink counts to find duplicates.
"""

import os
import queue
import signal
import socket
import subprocess
import sys
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
        self.received = []  # (key, unix time)
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
                _tag, key, at = line.split(" ")
                self.received.append((key, float(at)))

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


def start_worker(*, smtp_port, log_dir, concurrency):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
    }
    log = (log_dir / "worker.log").open("w")
    return subprocess.Popen(  # noqa: S603 - the venv's celery, fixed arguments, no shell
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--loglevel=WARNING",
            "--hostname=bench@%h",
            # No other workers to sync with: start faster and keep the broker quiet.
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=BASE_DIR,
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


def run(*, messages=2_000, recipients=200, concurrency=2, log_dir, timeout=180):
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
            count = len({key for key, _at in sink.received if key.startswith(prefix)})
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
        mine = [(key, at) for key, at in sink.received if key.startswith(prefix)]
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
            "log_dir": log_dir,
        }
    finally:
        if worker is not None:
            _stop(worker, timeout=30)
        sink.stop()
        celery_app.control.purge()
