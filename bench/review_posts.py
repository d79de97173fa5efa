"""Review POSTs through gunicorn: three reviewers of one nomination submitting at once.

For each round a nomination is submitted and accepted in this process (the matcher gives
it three reviewers), each reviewer's review page is fetched (a session made for them,
the form's CSRF token read), and then the three submit their five scores:

- *together*: all three POSTs released at the same moment (a barrier over three threads),
  so they contend for the nomination's process lock and the last one runs the join;
- *one at a time*: the same three POSTs, each after the previous one has returned.

The two kinds alternate round by round against the same gunicorn (three sync workers,
``bench.settings``, PostgreSQL), and the time of each POST from sending to the redirect
received is collected; p50 and p99 of each kind are printed. ``--code`` runs the server
(and the set-up) from another source tree, e.g. a ``git archive`` of an earlier commit,
to compare before and after on the same machine.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nomflow_bench \\
        .venv/bin/python bench/review_posts.py [--rounds 40] [--code /tmp/before]

The database's tables are dropped and migrated afresh (its name must contain "bench").
"""

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Reviewer:
    """One reviewer's browser: their session cookie and their open review's form."""

    def __init__(self, base_url, session_key):
        self.base_url = base_url
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect()
        )
        self.session_key = session_key

    def _request(self, path, data=None, headers=None):
        request = urllib.request.Request(  # noqa: S310 - our own http:// server, fixed URL
            self.base_url + path, data=data, headers=headers or {}
        )
        request.add_header("Cookie", f"sessionid={self.session_key}" + self._csrf_cookie())
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:  # 302 lands here (NoRedirect)
            return error.code, ""

    def _csrf_cookie(self):
        for cookie in self.cookies:
            if cookie.name == "csrftoken":
                return f"; csrftoken={cookie.value}"
        return ""

    def open_review(self, task_id):
        status, page = self._request(f"/tasks/{task_id}/")
        if status != 200:
            raise RuntimeError(f"review page of task {task_id}: HTTP {status}")
        self.task_id = task_id
        self.csrf = CSRF_INPUT.search(page).group(1)

    def submit(self, criteria):
        fields = {"csrfmiddlewaretoken": self.csrf, "comment": "Convincing.", "submit": "1"}
        for criterion_id in criteria:
            fields[f"score_{criterion_id}"] = "4"
            fields[f"comment_{criterion_id}"] = "Well evidenced."
        body = urllib.parse.urlencode(fields).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"{self.base_url}/tasks/{self.task_id}/",
        }
        started = time.perf_counter()
        status, _body = self._request(f"/tasks/{self.task_id}/", data=body, headers=headers)
        spent = time.perf_counter() - started
        if status != 302:
            raise RuntimeError(f"review POST of task {self.task_id}: HTTP {status}")
        return spent


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def percentile(values, share):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=40, help="rounds of each kind (40)")
    parser.add_argument("--code", default=str(BASE_DIR), help="source tree to run")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (3)")
    args = parser.parse_args()
    code = Path(args.code).resolve()
    database_url = os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nomflow_bench"
    )
    sys.path.insert(0, str(code))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    os.environ["DEBUG"] = "false"

    from bench.run import prepare_database

    print(prepare_database(database_url))
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from bench import lifecycle
    from config.celery_app import app as celery_app
    from nominations.services import nomination_create
    from workflow.flows import NominationFlow
    from workflow.services import ScreeningDecision, nomination_screen, nomination_submit

    call_command("migrate", verbosity=0)
    world = lifecycle.build()
    criteria = list(world["scores"])

    def session_for(user):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        return session.session_key

    sessions = {}

    def reviewers_of_new_nomination():
        nomination, _created = nomination_create(
            call=world["call"],
            nominator=world["nominator"],
            fields={**lifecycle.NOMINATION_FIELDS, "country": world["country"]},
            themes=world["themes"],
            survey_answers={},
        )
        nomination_submit(nomination=nomination, by=world["nominator"])
        (screen,) = lifecycle._open_tasks(nomination, NominationFlow.screen)
        nomination_screen(
            task_id=screen.pk, by=world["coordinator"], decision=ScreeningDecision.ACCEPT
        )
        browsers = []
        for task in lifecycle._open_tasks(nomination, NominationFlow.review):
            if task.owner_id not in sessions:
                sessions[task.owner_id] = session_for(task.owner)
            browser = Reviewer(base_url, sessions[task.owner_id])
            browser.open_review(task.pk)
            browsers.append(browser)
        if len(browsers) != 3:
            raise RuntimeError(f"expected 3 reviewers, got {len(browsers)}")
        return browsers

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(code), "ALLOWED_HOSTS": "127.0.0.1"}
    # Started as production starts it, with its settings file where the code has one.
    settings_file = Path(code) / "config" / "gunicorn.conf.py"
    configured = ["--config", str(settings_file)] if settings_file.exists() else []
    server = subprocess.Popen(  # noqa: S603 - the venv's gunicorn, fixed arguments, no shell
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi",
            *configured,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        cwd=code,
        env=env,
        start_new_session=True,
    )
    try:
        for _attempt in range(100):
            try:
                urllib.request.urlopen(base_url + "/", timeout=2)  # noqa: S310 - our server
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.2)
        # Warm every worker (imports, templates) before anything is timed.
        for _ in range(2):
            for browser in reviewers_of_new_nomination():
                browser.submit(criteria)

        together, alone = [], []
        for number in range(2 * args.rounds):
            browsers = reviewers_of_new_nomination()
            if number % 2 == 0:
                barrier = threading.Barrier(len(browsers))
                spent = [None] * len(browsers)

                def post(index, browser, barrier=barrier, spent=spent):
                    barrier.wait()
                    spent[index] = browser.submit(criteria)

                threads = [
                    threading.Thread(target=post, args=(i, b)) for i, b in enumerate(browsers)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                if None in spent:
                    raise RuntimeError("a POST failed")
                together.extend(spent)
            else:
                alone.extend(browser.submit(criteria) for browser in browsers)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        celery_app.control.purge()

    def ms(value):
        return f"{value * 1000:.0f} ms"

    print(f"code: {code}; gunicorn, {args.workers} sync workers; {args.rounds} rounds of each")
    for name, values in (("three at once", together), ("one at a time", alone)):
        print(
            f"  {name:14} {len(values)} POSTs: p50 {ms(statistics.median(values))}, "
            f"p99 {ms(percentile(values, 0.99))}, max {ms(max(values))}"
        )
    print(
        f"review POST: three at once p50 {ms(statistics.median(together))} "
        f"p99 {ms(percentile(together, 0.99))}; one at a time p50 "
        f"{ms(statistics.median(alone))} p99 {ms(percentile(alone, 0.99))}"
    )


if __name__ == "__main__":
    main()
