"""Tests: the environment's DATABASE_URL (PostgreSQL in CI) or an SQLite file."""

from config.env import VAR_DIR, env

from .base import *

SECRET_KEY = "tests-only-secret"  # noqa: S105 - a fixed key for tests only
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed, not security
# Email goes to django.core.mail.outbox and tasks run in-process. The Celery worker that
# tests/notifications/test_delivery_integration.py starts as a subprocess sets these two
# TEST_* variables to use a real broker and a real SMTP server; nothing else should. (They
# are not EMAIL_BACKEND itself, so a provider configured in a developer's .env never
# receives the test suite's email.)
EMAIL_BACKEND = env("TEST_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
CELERY_TASK_ALWAYS_EAGER = env.bool("TEST_CELERY_TASK_ALWAYS_EAGER", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The browser tests' live server serves the static files as production does (WhiteNoise),
# straight from the source folders, so pages are styled and the dashboards' charts draw.
_after_security = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1
MIDDLEWARE = [
    *MIDDLEWARE[:_after_security],
    "whitenoise.middleware.WhiteNoiseMiddleware",
    *MIDDLEWARE[_after_security:],
]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# The live server's own handler serves STATIC_ROOT before WhiteNoise is asked: an empty
# folder of the tests' own, so that one left by an earlier collectstatic cannot hide a
# change to a stylesheet or script; everything falls through to WhiteNoise's finders.
STATIC_ROOT = VAR_DIR / "test-static-root"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Each test process keeps its own cache (tests/conftest.py empties it for every test).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
