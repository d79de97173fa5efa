"""Real infrastructure for the delivery tests: Redis, an SMTP server and Celery workers.

Each piece belongs to one test and is stopped when the test ends, whatever its outcome:

- ``private_redis``: a ``redis-server`` of its own on a free port, keeping nothing on disk,
  which the test may stop and start again. Other test runs and developers' Redis are never
  touched.
- ``smtp_sink``: an aiosmtpd server in a thread of the test process, on a free port of
  127.0.0.1. It counts what it accepts, and can refuse a recipient's mail or keep one
  message waiting for its reply to DATA (the sender is then inside ``email.send()``).
- ``start_worker``: starts ``celery -A config worker`` subprocesses on the test database,
  the private Redis and the sink, and waits until each is ready.
- ``real_broker``: in the test process, turns eager mode off and publishes to the private
  Redis; ``smtp_settings`` sends the test process's own email (a sweep) to the sink.

Every wait is bounded.
"""

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import quote

import pytest

REPO_DIR = Path(__file__).resolve().parents[2]
#: How long the sink keeps a held message at most, should a test forget to release it.
HOLD_LIMIT_SECONDS = 60


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, *, timeout, what, interval=0.05):
    """Poll ``predicate`` until it returns something truthy, for ``timeout`` seconds at most."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"Waited {timeout} s for {what}")
        time.sleep(interval)


def _stop_process(process, *, grace=10):
    """SIGTERM, then SIGKILL if it has not gone after ``grace`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


# --- Redis ----------------------------------------------------------------------------


class PrivateRedis:
    def __init__(self, *, folder):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.folder = folder
        self.process = None

    def start(self):
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own fixed command line
                [
                    shutil.which("redis-server"),
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.folder),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(self._answers, timeout=10, what=f"redis-server on port {self.port}")

    def stop(self):
        if self.process is not None:
            _stop_process(self.process)
            self.process = None

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=5)

    def _answers(self):
        if self.process.poll() is not None:
            raise AssertionError(f"redis-server exited with {self.process.returncode}")
        try:
            with self.client() as client:
                return client.ping()
        except Exception:  # not listening yet
            return False


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    folder = tmp_path / "redis"
    folder.mkdir()
    server = PrivateRedis(folder=folder)
    server.start()
    yield server
    server.stop()


# --- SMTP -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedEmail:
    key: str  # the X-Nomflow-Message header: the message's idempotency key
    to: tuple[str, ...]
    subject: str
    connection: int = 0  # which SMTP connection brought it: 1, 2… in the order they sent


class SmtpSink:
    """aiosmtpd handler: accepts and records mail, refuses or holds it on request."""

    def __init__(self):
        self._changed = threading.Condition()
        self.received = []  # ReceivedEmail, in the order the sink accepted them
        self.refused = []  # (ReceivedEmail, reply)
        self._refusals = {}  # recipient -> SMTP reply
        self._hold_next = False
        self.holding = threading.Event()
        self.released = threading.Event()
        self.held = None
        self.port = None
        self.connections = 0  # SMTP connections that sent at least one message

    # What tests call.

    def refuse(self, recipient, reply):
        """Answer DATA for ``recipient`` with ``reply``, e.g. "550 5.7.1 Rejected"."""
        self._refusals[recipient] = reply

    def hold_next_message(self):
        """Keep the next message's DATA unanswered until ``release()``."""
        self._hold_next = True

    def release(self):
        self.released.set()

    def wait_for_count(self, count, *, timeout):
        """Wait until ``count`` emails were accepted; return them, failing if there are more."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            received = list(self.received)
        assert len(received) == count, (
            f"expected {count} emails within {timeout} s, the sink accepted {len(received)}: "
            f"{received}"
        )
        return received

    def still(self, count, *, for_seconds):
        """After ``for_seconds`` more, the sink has still accepted exactly ``count`` emails."""
        time.sleep(for_seconds)
        return self.wait_for_count(count, timeout=0)

    def accepted(self):
        with self._changed:
            return list(self.received)

    # aiosmtpd's hook.

    async def handle_DATA(self, server, session, envelope):
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        # aiosmtpd keeps one session object per connection.
        if not hasattr(session, "test_connection"):
            self.connections += 1
            session.test_connection = self.connections
        email = ReceivedEmail(
            connection=session.test_connection,
            key=str(parsed["X-Nomflow-Message"] or ""),
            to=tuple(envelope.rcpt_tos),
            # Stripped as a mail client does: Django folds a long encoded subject onto a
            # continuation line ("Subject: \n =?utf-8?q?...?="), and Python's parser keeps the
            # fold's leading space.
            subject=str(parsed["Subject"] or "").strip(),
        )
        reply = next((self._refusals[r] for r in email.to if r in self._refusals), None)
        if reply is not None:
            with self._changed:
                self.refused.append((email, reply))
                self._changed.notify_all()
            return reply
        if self._hold_next:
            self._hold_next = False
            self.held = email
            self.holding.set()
            # Cancelled by aiosmtpd if the sender goes away meanwhile: the message is then
            # never accepted, as with a real server that had not answered yet.
            deadline = time.monotonic() + HOLD_LIMIT_SECONDS
            while not self.released.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            if server.transport is None or server.transport.is_closing():
                return "421 4.4.2 The sender has gone"
        with self._changed:
            self.received.append(email)
            self._changed.notify_all()
        return "250 2.0.0 Accepted by the test sink"


@pytest.fixture
def smtp_sink():
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    sink.release()
    controller.stop()


@pytest.fixture
def smtp_settings(settings, smtp_sink):
    """The test process's own sends (a sweep, an eager task) go to the sink too."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_sink.port
    return settings


# --- Celery ---------------------------------------------------------------------------


def _drop_broker_connections(app):
    """Close every broker connection of this process, so the next publish uses ``broker_url``.

    ``kombu.pools.reset()`` closes the pools and empties kombu's registry of them (a closed
    pool left there would be handed out again); the app then builds new ones on demand, as
    it does after a fork (``Celery._after_fork``).
    """
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def real_broker(private_redis, monkeypatch):
    """Publish tasks to the private Redis instead of running them in-process."""
    from config.celery_app import app

    # Celery reads CELERY_BROKER_URL from the environment before its own configuration,
    # so where it is set (as in CI) the variable must point at the private Redis too.
    monkeypatch.setenv("CELERY_BROKER_URL", private_redis.url)

    names = ["task_always_eager", "broker_url", "broker_transport_options"]
    saved = {name: app.conf[name] for name in names}
    _drop_broker_connections(app)
    # The same broker settings as the worker's: no filesystem-transport options.
    app.conf.update(
        task_always_eager=False, broker_url=private_redis.url, broker_transport_options={}
    )
    yield app
    _drop_broker_connections(app)
    app.conf.update(saved)


def database_url():
    """The test database (not the one named in DATABASE_URL) as a URL for a subprocess."""
    from django.db import connection

    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return (
        f"postgres://{credentials}@{db['HOST'] or 'localhost'}{port}/{quote(db['NAME'], safe='')}"
    )


class CeleryWorker:
    def __init__(self, *, name, env, log_path, pool="solo", queues=None):
        self.name = name
        self.env = env
        self.log_path = log_path
        self.pool = pool
        # None: no -Q, so every queue of CELERY_TASK_QUEUES, as `make run`'s worker.
        self.queues = queues
        self.process = None

    def start(self, *, timeout=45):
        celery = Path(sys.executable).with_name("celery")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own fixed command line
                [
                    str(celery),
                    "-A",
                    "config",
                    "worker",
                    f"--pool={self.pool}",
                    "--concurrency=1",
                    *(["-Q", ",".join(self.queues)] if self.queues else []),
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel=INFO",
                    "--hostname",
                    f"{self.name}@%h",
                ],
                cwd=REPO_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_for_log(rf"{self.name}@\S+ ready\.", timeout=timeout)
        return self

    def log(self):
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text, *, count=1, timeout=30):
        """Wait until the worker's log holds ``text`` (a regular expression) ``count`` times."""
        pattern = re.compile(text, re.MULTILINE)

        def seen():
            log = self.log()
            if len(pattern.findall(log)) >= count:
                return True
            if self.process.poll() is not None:
                raise AssertionError(
                    f"worker {self.name} exited with {self.process.returncode}:\n{log[-4000:]}"
                )
            return False

        try:
            wait_until(seen, timeout=timeout, what=f"{text!r} ×{count} in {self.name}'s log")
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- worker log ---\n{self.log()[-4000:]}") from None

    def wait_for_task(self, task, *, count=1, timeout=30):
        """Wait until ``task`` (a name, or ``name[id]``) has succeeded ``count`` times."""
        task_id = "" if task.endswith("]") else r"\[[0-9a-f-]+\]"
        self.wait_for_log(
            rf"Task {re.escape(task)}{task_id} succeeded in", count=count, timeout=timeout
        )

    def result_of(self, task_id):
        """What a task that succeeded returned, as the log shows it (its repr)."""
        found = re.search(rf"\[{re.escape(task_id)}\] succeeded in \S+: (.*)$", self.log(), re.M)
        return found and found.group(1)

    def kill(self):
        """SIGKILL: no warm shutdown, no acknowledgement, no rollback from the worker (nor
        from its pool processes, which share its process group)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        _stop_process(self.process)


@pytest.fixture
def start_worker(private_redis, smtp_sink, tmp_path):
    """Start a real Celery worker on the test database, the private Redis and the sink:
    ``start_worker()`` runs tasks in the worker's own process (``--pool=solo``),
    ``start_worker(pool="prefork")`` in one pool process, as production does. It consumes
    every queue, unless ``queues=["email", "sweeps"]`` names some (``-Q``)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": private_redis.url,
        "TEST_CELERY_TASK_ALWAYS_EAGER": "false",
        "TEST_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_sink.port),
        "PYTHONUNBUFFERED": "1",
    }
    workers = []

    def start(*, pool="solo", queues=None):
        worker = CeleryWorker(
            name=f"worker{len(workers) + 1}",
            env=env,
            log_path=tmp_path / f"worker{len(workers) + 1}.log",
            pool=pool,
            queues=queues,
        )
        workers.append(worker)
        return worker.start()

    yield start
    smtp_sink.release()  # a worker waiting on the sink could not shut down warmly
    for worker in workers:
        if worker.process is not None:
            worker.stop()
