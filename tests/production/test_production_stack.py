"""What a partner deploys, run as docs/operations.md tells them, walked over HTTP.

The production settings (``config.settings.production``) on a fresh PostgreSQL database
and a Redis of the test's own: ``check --deploy``, ``collectstatic``, ``migrate``, the
demo data, gunicorn with two workers, the Celery workers of docs/operations.md (one for
the email and sweeps queues, one for exports and the default queue) and one beat. Then
every role's pages are walked from their home page, link by link, each page's
stylesheets, scripts and images fetched too; an Excel export is built by its worker while
the other sends its email; the Celery workers are killed and Redis stopped while people
keep working, and no request may fail. The figures are printed for the record.

Runs with ``make prodcheck`` (and in CI); needs PostgreSQL in DATABASE_URL and
redis-server.
"""

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.notifications.conftest import PrivateRedis, free_port, wait_until

from .walker import Walk, Walker

REPO_DIR = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# A fresh database beside DATABASE_URL's (and one for the restored backup), dropped first.
DATABASE_NAME = os.environ.get("PRODCHECK_DATABASE", "nomflow_prodcheck")
PAGES_PER_ROLE = 150
#: The workers of docs/operations.md ("Workers and queues"), by the queues each consumes:
#: emails and beat's sweeps never wait behind an export or an import.
WORKERS = {
    "worker-mail": ["-Q", "email,sweeps", "--concurrency=2"],
    "worker-bulk": ["-Q", "exports,celery", "--concurrency=1", "--prefetch-multiplier=1"],
}
HEALTH_CHECK_TOKEN = secrets.token_urlsafe(24)

pytestmark = [
    pytest.mark.production,
    pytest.mark.skipif(
        not DATABASE_URL.startswith("postgres"),
        reason="the production check runs on PostgreSQL: set DATABASE_URL",
    ),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


def fresh_database_url():
    """A new, empty database beside DATABASE_URL's, as a deployer starts with."""
    parts = urlsplit(DATABASE_URL)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE_NAME}")
    return urlunsplit(parts._replace(path=f"/{DATABASE_NAME}"))


class Stack:
    """The production processes, each logging to a file of its own."""

    def __init__(self, folder, redis, *, database_url=None):
        folder.mkdir(exist_ok=True)
        self.folder = folder
        self.redis = redis
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.processes = {}
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": database_url or fresh_database_url(),
            "CELERY_BROKER_URL": redis.url,
            "CACHE_URL": redis.url.rsplit("/", 1)[0] + "/1",
            "STATIC_ROOT": str(folder / "static"),
            "MEDIA_ROOT": str(folder / "media"),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(folder / "emails"),
            "ANYMAIL_WEBHOOK_SECRET": "provider:" + secrets.token_urlsafe(16),
            "SITE_URL": "https://127.0.0.1",
            "HEALTH_CHECK_TOKEN": HEALTH_CHECK_TOKEN,
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("DJANGO_ALLOW_ASYNC_UNSAFE", "TEST_CELERY_TASK_ALWAYS_EAGER"):
            self.env.pop(name, None)

    def manage(self, *args):
        result = subprocess.run(  # noqa: S603 - our own fixed command line
            [sys.executable, "manage.py", *args],
            cwd=REPO_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, (
            f"manage.py {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        )
        return result.stdout

    def start(self, name, command):
        log = (self.folder / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(  # noqa: S603 - our own fixed command line
            command,
            cwd=REPO_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self, name):
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def start_web(self):
        self.start(
            "gunicorn",
            [
                str(BIN / "gunicorn"),
                "config.wsgi",
                "--config",
                str(REPO_DIR / "config" / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--access-logfile",
                "-",
                "--timeout",
                "60",
            ],
        )
        wait_until(self._web_answers, timeout=120, what="gunicorn")

    def start_workers(self):
        """Start the workers of WORKERS that are not running, and wait until each is ready."""
        started = {}
        for name, options in WORKERS.items():
            if name in self.processes and self.processes[name].poll() is None:
                continue
            log = self.folder / f"{name}.log"
            started[name] = log.read_text().count(" ready.") if log.exists() else 0
            self.start(
                name,
                [
                    str(BIN / "celery"),
                    "-A",
                    "config",
                    "worker",
                    *options,
                    "--loglevel=INFO",
                    "--hostname",
                    f"{name}@%h",
                ],
            )
        for name, before in started.items():
            wait_until(
                lambda name=name, before=before: self.log(name).count(" ready.") > before,
                timeout=60,
                what=f"the Celery worker {name}",
            )

    def kill_workers(self):
        for name in WORKERS:
            if name in self.processes:
                self.kill(name)

    def start_beat(self):
        self.start(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel=INFO",
                "--schedule",
                str(self.folder / "celerybeat-schedule"),
            ],
        )

    def _web_answers(self):
        import requests

        if self.processes["gunicorn"].poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{self.log('gunicorn')[-3000:]}")
        try:
            response = requests.get(f"{self.url}/health/", timeout=10, allow_redirects=False)
            return response.status_code in (200, 503)
        except requests.RequestException:  # not listening yet, or still loading on a busy machine
            return False

    def kill(self, name):
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self):
        for name in list(self.processes):
            process = self.processes.pop(name)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)

    def emails(self):
        folder = self.folder / "emails"
        return (
            [path.read_text(errors="replace") for path in folder.glob("*.log")]
            if folder.exists()
            else []
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("production")
    (folder / "redis").mkdir()
    redis = PrivateRedis(folder=folder / "redis")
    redis.start()
    stack = Stack(folder, redis)
    try:
        stack.manage("check", "--deploy", "--fail-level", "WARNING")
        stack.manage("collectstatic", "--noinput")
        stack.manage("migrate", "--noinput")
        stack.demo_output = stack.manage("load_demo")
        stack.start_web()
        stack.start_workers()
        stack.start_beat()
        yield stack
    finally:
        stack.stop()
        redis.stop()


def demo_totp_secret():
    from workflow import demo

    return getattr(demo, "DEMO_TOTP_SECRET", None)


#: (account, where their work starts) for every role the demo has.
ROLES = [
    ("nominator@nomflow.test", ["/", "/nominations/", "/account/privacy/"]),
    ("nominator2@nomflow.test", ["/", "/nominations/calls/"]),
    ("coordinator.lv@nomflow.test", ["/", "/tasks/", "/nominations/overview/"]),
    ("coordinator.fr@nomflow.test", ["/", "/nominations/overview/"]),
    ("reviewer.es1@nomflow.test", ["/", "/tasks/", "/reviewers/interests/"]),
    ("lead@nomflow.test", ["/", "/nominations/overview/"]),
    ("admin@nomflow.test", ["/", "/dashboard/", "/notifications/outbox/", "/admin/"]),
]
#: A page under this prefix that each walker must have reached.
REACHES = {
    "anonymous": "/hub/",
    "nominator@nomflow.test": "/nominations/",
    "coordinator.lv@nomflow.test": "/tasks/",
    "reviewer.es1@nomflow.test": "/tasks/",
    "lead@nomflow.test": "/calls/",
    "admin@nomflow.test": "/admin/nominations/",
}
PUBLIC = [
    "/hub/",
    "/hub/feed/",
    "/hub/practices.json",
    "/privacy/",
    "/accounts/login/",
    "/accounts/signup/",
    "/health/",
]


def walk_everyone(stack, walk, *, limit):
    anonymous = Walker(stack.url, walk=walk)
    anonymous.crawl(PUBLIC, limit=limit)
    for email, start in ROLES:
        walker = Walker(stack.url, totp_secret=demo_totp_secret(), walk=walk)
        walker.sign_in(email, "demo-password-1")
        walker.crawl(start, limit=limit)


def report(title, walk):
    print(
        f"\n{title}: {walk.pages} pages, {walk.assets} assets, {walk.requests} requests, "
        f"{len(walk.failures)} failures"
    )


def test_a_load_balancer_probes_health_over_plain_http(stack):
    import requests

    response = requests.get(f"{stack.url}/health/", timeout=10, allow_redirects=False)

    assert response.status_code == 200, response.text


def test_every_page_answers_200_with_its_css_and_javascript(stack):
    walk = Walk()
    walk_everyone(stack, walk, limit=PAGES_PER_ROLE)

    report("Production walk", walk)
    assert walk.failures == []
    # Each role reached its own work, not only a page that turned it away.
    for who, must_reach in REACHES.items():
        reached = [path for person, path in walk.visited if person == who]
        assert any(path.startswith(must_reach) for path in reached), (who, sorted(reached))
    hashed_css = [
        line for line in stack.log("gunicorn").splitlines() if "/static/css/site." in line
    ]
    assert hashed_css, "the site's stylesheet was not served under its hashed name"
    assert "Traceback" not in stack.log("gunicorn")


def test_no_request_fails_while_the_worker_is_killed_or_redis_stops(stack):
    walk = Walk()
    stack.kill_workers()
    walk_everyone(stack, walk, limit=25)
    report("Worker killed", walk)

    stack.redis.stop()
    outage = Walk()
    walk_everyone(stack, outage, limit=25)
    coordinator = Walker(stack.url, totp_secret=demo_totp_secret(), walk=outage)
    coordinator.sign_in("coordinator.lv@nomflow.test", "demo-password-1")
    inbox = coordinator.get("/tasks/")
    task_paths = sorted(
        {link for link in _links(inbox.text) if link.startswith("/tasks/") and link != "/tasks/"}
    )
    assert task_paths, (
        "the Latvian coordinator has no task in the demo",
        inbox.url,
        _links(inbox.text),
    )
    screened = coordinator.post_form(task_paths[0], {"decision": "accept", "message": ""})
    report("Redis stopped", outage)
    assert screened.status_code == 200 and screened.url.endswith("/tasks/"), screened.url

    # Counted while no worker runs: the first sweep may send before both workers are ready.
    emails_before = len(stack.emails())
    stack.redis.start()
    stack.start_workers()
    # The sweep (beat, every minute) sends what the outage kept back, once.
    wait_until(
        lambda: len(stack.emails()) > emails_before, timeout=150, what="the held-back emails"
    )
    assert walk.failures == [] and outage.failures == []
    keys = [
        line
        for text in stack.emails()
        for line in text.splitlines()
        if line.startswith("X-Nomflow-Message:")
    ]
    assert len(keys) == len(set(keys)), "an email went out twice"


def test_an_excel_export_is_built_by_its_worker_while_the_other_sends_the_email(stack):
    """The lead asks for a call's Excel file: the exports worker builds it, the mail worker
    emails "ready"; neither receives a task of the other's queues."""
    stack.start_workers()  # whatever an earlier test left stopped
    lead = Walker(stack.url, totp_secret=demo_totp_secret())
    lead.sign_in("lead@nomflow.test", "demo-password-1")
    overview = lead.get("/nominations/overview/")
    excel = next(
        link
        for link in _links(overview.text)
        if re.fullmatch(r"/nominations/calls/\d+/export\.xlsx", link)
    )
    exports_page = urlsplit(lead.get(excel).url).path

    asked = lead.post_form(exports_page, {})

    assert asked.status_code == 200 and urlsplit(asked.url).path == exports_page, asked.url
    wait_until(
        lambda: succeeded("workflow.tasks.export_build", stack.log("worker-bulk")),
        timeout=120,
        what="the export built by worker-bulk",
    )
    wait_until(
        # The demo has no export before: this is the one just asked for.
        lambda: any("X-Nomflow-Message: export-ready:" in text for text in stack.emails()),
        timeout=120,
        what="the lead's email that the export is ready",
    )
    # The email was sent, and not by the exports worker: by the mail worker.
    mail, bulk = stack.log("worker-mail"), stack.log("worker-bulk")
    assert "workflow.tasks.export_build[" not in mail
    assert "notifications.tasks.send_message[" not in bulk
    assert "notifications.tasks.sweep_messages[" not in bulk
    page = lead.get(exports_page)
    assert "/download/" in page.text, "the export page offers no file"
    assert lead.walk.failures == []


def test_the_deep_check_names_a_queue_that_no_worker_consumes(stack):
    import requests

    def deep_check():
        response = requests.get(
            f"{stack.url}/health/deep/?format=json",
            headers={**HTTPS, "Authorization": f"Bearer {HEALTH_CHECK_TOKEN}"},
            timeout=30,
        )
        return {name: state for name, state in response.json().items() if name.startswith("Ping")}

    stack.start_workers()  # whatever an earlier test left stopped
    assert list(deep_check().values()) == ["OK"]

    stack.kill("worker-bulk")
    (missing,) = deep_check().values()
    stack.start_workers()  # worker-mail, still running, is left as it is

    assert re.fullmatch(r".*No worker for Celery task queue (exports|celery)", missing), missing
    assert list(deep_check().values()) == ["OK"]


def succeeded(task, log):
    """Whether a worker's log has a line for ``task`` having succeeded."""
    return re.search(rf"Task {re.escape(task)}\[[0-9a-f-]+\] succeeded in", log) is not None


def _links(html):
    from .walker import PageParser

    parser = PageParser()
    parser.feed(html)
    return [urlsplit(link).path for link in parser.links]


def test_a_backup_restores_into_a_new_database_that_serves_the_same_data(stack):
    """The backup commands of docs/operations.md, run and restored, as a drill would."""
    import requests

    dump = stack.folder / "nomflow.dump"
    source_url = stack.env["DATABASE_URL"]
    restored_url = source_url.rsplit("/", 1)[0] + f"/{DATABASE_NAME}_restored"
    admin_url = source_url.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(  # noqa: S603 - the documented command
        [shutil.which("pg_dump"), "--format=custom", f"--file={dump}", source_url],
        check=True,
        timeout=120,
    )
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME}_restored WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE_NAME}_restored")
    subprocess.run(  # noqa: S603 - the documented command
        [shutil.which("pg_restore"), "--no-owner", f"--dbname={restored_url}", str(dump)],
        check=True,
        timeout=120,
    )

    assert table_row_counts(restored_url) == table_row_counts(source_url)

    restored = Stack(stack.folder / "restored", stack.redis, database_url=restored_url)
    try:
        restored.manage("collectstatic", "--noinput")  # a new node builds its static files
        restored.start_web()
        original = requests.get(f"{stack.url}/hub/practices.json", headers=HTTPS, timeout=30)
        again = requests.get(f"{restored.url}/hub/practices.json", headers=HTTPS, timeout=30)
        assert (original.status_code, again.status_code) == (200, 200)
        assert again.json() == original.json() and again.json()
        lead = Walker(restored.url, totp_secret=demo_totp_secret())
        lead.sign_in("lead@nomflow.test", "demo-password-1")
        assert lead.crawl(["/", "/nominations/overview/"], limit=20) >= 5
        assert lead.walk.failures == []
    finally:
        restored.stop()


# The same host name for both, as the proxy would send: the listing holds absolute URLs.
HTTPS = {"X-Forwarded-Proto": "https", "Host": "localhost"}


def table_row_counts(database_url):
    with psycopg.connect(database_url) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "select tablename from pg_tables where schemaname = 'public' order by tablename"
            )
        ]
        return {
            table: connection.execute(f'select count(*) from "{table}"').fetchone()[0]  # noqa: S608
            for table in tables
        }
