"""Load test: a realistic mix of roles against gunicorn, stepped up until p95 passes 200 ms.

``make bench-load`` runs it all: builds 10,000 nominations in the benchmark database
(``bench/run.py --only pages --keep --sessions``), starts gunicorn with ``bench.settings``
(``BENCH_WORKERS`` sync workers, 4 by default), then runs Locust headless at each step of
``BENCH_USERS`` (default 4,8,16,32,64 users, ``BENCH_STEP_SECONDS`` each, 60 by default)
and prints requests/s, p50 and p95 per step and the busiest step whose p95 stays within
200 ms. Users wait 0.5-1.5 s between pages, as someone clicking quickly would.

The mix, by share of users: nominators checking their status (home, their nominations,
one nomination) 55 %; reviewers opening their inbox and a review page 25 %;
coordinators their inbox and overview 12 %; leads the selection board and dashboard 8 %.
Every virtual user is signed in with a session made for one person of its role
(``bench.pages.load_test_sessions``), so no password or second factor is typed.

Locust alone: ``.venv/bin/locust -f bench/locustfile.py --host http://127.0.0.1:8077``
with ``BENCH_SESSIONS`` naming the sessions file.
"""

import csv
import fcntl
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from locust import HttpUser, between, task

BASE_DIR = Path(__file__).resolve().parent.parent
SESSIONS = Path(os.environ.get("BENCH_SESSIONS", BASE_DIR / "var" / "bench" / "sessions.json"))
_people = None


def people():
    global _people
    if _people is None:
        _people = json.loads(SESSIONS.read_text())
    return _people


class Signed(HttpUser):
    abstract = True
    role = ""
    wait_time = between(0.5, 1.5)

    def on_start(self):
        data = people()
        self.person = random.choice(data["roles"][self.role])  # noqa: S311 - not secret
        self.call = self.person.get("call", data["call"])
        self.client.cookies.set(data["cookie"], self.person["session"])


class Nominator(Signed):
    role = "nominator"
    weight = 55

    @task(3)
    def home(self):
        self.client.get("/", name="nominator: home")

    @task(2)
    def mine(self):
        self.client.get("/nominations/", name="nominator: my nominations")

    @task(2)
    def one(self):
        if self.person["nominations"]:
            pk = random.choice(self.person["nominations"])  # noqa: S311
            self.client.get(f"/nominations/{pk}/", name="nominator: a nomination")


class Reviewer(Signed):
    role = "reviewer"
    weight = 25

    @task(3)
    def inbox(self):
        self.client.get("/tasks/", name="reviewer: inbox")

    @task(2)
    def review(self):
        if self.person["tasks"]:
            pk = random.choice(self.person["tasks"])  # noqa: S311
            self.client.get(f"/tasks/{pk}/", name="reviewer: review page")


class Coordinator(Signed):
    role = "coordinator"
    weight = 12

    @task(2)
    def inbox(self):
        self.client.get("/tasks/", name="coordinator: inbox")

    @task(1)
    def overview(self):
        self.client.get("/nominations/overview/", name="coordinator: overview")


class Lead(Signed):
    role = "lead"
    weight = 8

    @task(2)
    def board(self):
        self.client.get(f"/calls/{self.call}/board/", name="lead: board")

    @task(1)
    def dashboard(self):
        self.client.get(f"/calls/{self.call}/dashboard/", name="lead: dashboard")


# --- the stepped run (make bench-load) ----------------------------------------------------


def _step(users, *, host, seconds, out):
    """One Locust run at ``users``; returns its aggregated figures."""
    prefix = out / f"step{users}"
    subprocess.run(  # noqa: S603 - our own fixed command line
        [
            str(BASE_DIR / ".venv" / "bin" / "locust"),
            "-f",
            __file__,
            "--headless",
            "--host",
            host,
            "-u",
            str(users),
            "-r",
            str(max(1, users // 2)),
            "-t",
            f"{seconds}s",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        check=False,
        env={**os.environ, "BENCH_SESSIONS": str(SESSIONS)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # Locust's own summary; the figures are read from the CSV
    )
    rows = {}
    with open(f"{prefix}_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = row
    return rows


def _worker_memory(master):
    """The gunicorn workers' resident memory in MB, from /proc (Linux)."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(master) and "VmRSS" in fields:
            sizes.append(int(fields["VmRSS"].split()[0]) // 1024)
    return ", ".join(f"{size} MB" for size in sorted(sizes)) or "unknown"


def main():
    port = os.environ.get("BENCH_PORT", "8077")
    host = f"http://127.0.0.1:{port}"
    workers = os.environ.get("BENCH_WORKERS", "4")
    steps = [int(n) for n in os.environ.get("BENCH_USERS", "4,8,16,32,64").split(",")]
    seconds = int(os.environ.get("BENCH_STEP_SECONDS", "60"))
    out = BASE_DIR / "var" / "bench" / "load"
    out.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nomflow_bench_pages"
        ),
        "CELERY_BROKER_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
    }
    lock = open(os.environ.get("BENCH_LOCK", "/tmp/nomflow-bench.lock"), "a")  # noqa: S108, SIM115
    fcntl.flock(lock, fcntl.LOCK_EX)  # timed alone on this machine; released on exit
    log = (out / "gunicorn.log").open("ab")
    web = subprocess.Popen(  # noqa: S603 - our own fixed command line
        [
            str(BASE_DIR / ".venv" / "bin" / "gunicorn"),
            "config.wsgi",
            "--config",
            str(BASE_DIR / "config" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            workers,
            "--worker-class",
            "sync",
            "--timeout",
            "60",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        import urllib.request

        for _ in range(60):
            try:
                urllib.request.urlopen(f"{host}/health/", timeout=2)  # noqa: S310 - our host
                break
            except OSError:
                time.sleep(1)
        print(f"gunicorn: {workers} sync workers, bench.settings, {env['DATABASE_URL']}")
        print(f"steps of {seconds} s; users wait 0.5-1.5 s between pages")
        print(f"{'users':>6} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'fails':>6}")
        best = None
        results = []
        for users in steps:
            rows = _step(users, host=host, seconds=seconds, out=out)
            total = rows["Aggregated"]
            rps = float(total["Requests/s"])
            p50, p95, p99 = (float(total[k]) for k in ("50%", "95%", "99%"))
            fails = int(total["Failure Count"])
            results.append((users, rps, p95, rows))
            memory = _worker_memory(web.pid)
            print(
                f"{users:>6} {rps:>8.1f} {p50:>7.0f} {p95:>7.0f} {p99:>7.0f} {fails:>6}"
                f"   workers' RSS {memory}"
            )
            if p95 <= 200 and not fails:
                best = (users, rps, p95)
            elif p95 > 400:
                break
        users, rps, p95, rows = results[-1]
        print(f"\nper page at {users} users (p50 / p95 ms, requests):")
        for name, row in sorted(rows.items()):
            if name != "Aggregated":
                print(
                    f"  {name:<26} {float(row['50%']):>6.0f} / {float(row['95%']):>6.0f}  "
                    f"{int(row['Request Count']):>6}"
                )
        if best:
            print(
                f"load: {best[1]:.1f} requests/s at p95 {best[2]:.0f} ms with {best[0]} users, "
                f"{workers} gunicorn workers"
            )
        else:
            print(f"load: p95 above 200 ms from {steps[0]} users, {workers} gunicorn workers")
    finally:
        os.killpg(web.pid, 15)
        web.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
