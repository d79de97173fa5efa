"""Settings for the benchmarks: the shared ones, production-like.

The worker's database connection reuse comes from CELERY_DB_REUSE_MAX in the
environment, as in production (`bench/run.py --db-reuse-max 0` measures without it).
"""

from config.settings.base import *  # noqa: F403

# DEBUG makes Django keep every query in memory and is off in production;
# bench/reminder_sweep.py counts queries with CaptureQueriesContext instead.
DEBUG = False

# The lifecycle benchmark's plain-viewflow flow (bench/plainflow): no models of its own.
INSTALLED_APPS = [*INSTALLED_APPS, "bench.plainflow"]  # noqa: F405
