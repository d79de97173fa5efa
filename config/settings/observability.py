"""Logs, error reports and who is told of a server error.

Every unhandled error is logged with its traceback and the request's id (the
``X-Request-ID`` a proxy sent, or a new one, echoed in the response), to standard error
where gunicorn, Celery and systemd or a container runtime collect it. ``LOG_FORMAT=json``
writes one JSON object a line, for a log collector; ``ADMINS`` are emailed each 500;
``SENTRY_DSN`` sends errors to Sentry as well.
"""

from email.utils import getaddresses

from config.env import env

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="text")  # text | json

# "Ana Admin <ana@example.org>, ops@example.org": who gets an email for each 500.
ADMINS = [
    (name or address, address)
    for name, address in getaddresses([env("ADMINS", default="")])
    if address
]

# django-log-request-id: a proxy's X-Request-ID is trusted and kept, so one request can be
# followed from the proxy's log through ours; without one, an id is made.
LOG_REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
GENERATE_REQUEST_ID_IF_NOT_IN_HEADER = True
REQUEST_ID_RESPONSE_HEADER = "X-Request-ID"

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [request %(request_id)s] %(message)s"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "log_request_id.filters.RequestIDFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "text": {"format": _TEXT_FORMAT},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        },
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # django.request logs every 500 with exc_info: the traceback lands in the log.
        "django.request": {
            "handlers": ["console", "mail_admins"],
            "level": "ERROR",
            "propagate": False,
        },
        "django.security": {
            "handlers": ["console", "mail_admins"],
            "level": "WARNING",
            "propagate": False,
        },
        # Anyone can send a wrong Host header; that is worth a log line, not an email.
        "django.security.DisallowedHost": {
            "handlers": ["console"],
            "level": "WARNING",
            "propagate": False,
        },
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}

# /health/deep/ answers staff, and a monitoring system that sends this bearer token.
HEALTH_CHECK_TOKEN = env("HEALTH_CHECK_TOKEN", default="")

SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        # Nominators' and reviewers' personal data stays out of a third party's store.
        send_default_pii=False,
    )
