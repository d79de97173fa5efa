"""Pages served by the production configuration: persistent database connections.

Starts the production stack of ``make prodcheck`` (``config.settings.production``,
gunicorn with two workers, a fresh PostgreSQL database with the demo data, Redis for the
cache), then two gunicorns on the same database: one with ``CONN_MAX_AGE=0`` (a new
connection for every request, as before) and one with the default ``CONN_MAX_AGE=60``
(connections kept, checked once a request). Both serve the same pages to the same
signed-in coordinator; the rounds alternate between them and the medians are compared.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/production_pages.py
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
REQUESTS_PER_ROUND = int(os.environ.get("BENCH_REQUESTS", "150"))
PAGES = ["/tasks/", "/nominations/overview/", "/hub/"]


def main():
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("PRODCHECK_DATABASE", "nomflow_bench_production")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from tests.notifications.conftest import PrivateRedis
    from tests.production.test_production_stack import Stack, demo_totp_secret
    from tests.production.walker import Walker

    folder = Path(tempfile.mkdtemp(prefix="nomflow-bench-"))
    (folder / "redis").mkdir()
    redis = PrivateRedis(folder=folder / "redis")
    redis.start()
    stacks = {}
    try:
        setup = Stack(folder / "setup", redis)
        setup.manage("collectstatic", "--noinput")
        setup.manage("migrate", "--noinput")
        setup.manage("load_demo")
        database_url = setup.env["DATABASE_URL"]
        for name, max_age in (("new connection per request", "0"), ("kept connections", "60")):
            stack = Stack(folder / max_age, redis, database_url=database_url)
            stack.env["CONN_MAX_AGE"] = max_age
            stack.env["STATIC_ROOT"] = setup.env["STATIC_ROOT"]
            stack.env["SECRET_KEY"] = setup.env["SECRET_KEY"]
            stack.start_web()
            walker = Walker(stack.url, totp_secret=demo_totp_secret())
            walker.sign_in("coordinator.lv@nomflow.test", "demo-password-1")
            stacks[name] = (stack, walker)

        rates = {name: [] for name in stacks}
        for round_number in range(ROUNDS):
            order = list(stacks) if round_number % 2 == 0 else list(reversed(stacks))
            for name in order:
                _stack, walker = stacks[name]
                started = time.perf_counter()
                for i in range(REQUESTS_PER_ROUND):
                    response = walker.get(PAGES[i % len(PAGES)])
                    assert response.status_code == 200, (name, response.status_code)
                rates[name].append(REQUESTS_PER_ROUND / (time.perf_counter() - started))

        print(f"Pages {', '.join(PAGES)} as a signed-in coordinator, one client, sequential;")
        print(f"{ROUNDS} alternating rounds of {REQUESTS_PER_ROUND} requests; gunicorn, 2 workers.")
        medians = {}
        for name, values in rates.items():
            medians[name] = statistics.median(values)
            spread = ", ".join(f"{value:.0f}" for value in values)
            print(f"  {name:<28} median {medians[name]:6.1f} requests/s  (rounds: {spread})")
        before, after = medians.values()
        print(f"  ratio kept/new: {after / before:.2f}")
    finally:
        for stack, _walker in stacks.values():
            stack.stop()
        redis.stop()


if __name__ == "__main__":
    main()
