"""Outgoing email through django-anymail; the provider is chosen by environment.

EMAIL_BACKEND=anymail.backends.postmark.EmailBackend plus ANYMAIL_POSTMARK_SERVER_TOKEN,
or any other anymail backend with its own ANYMAIL_* keys (docs/operations.md lists
Amazon SES, Mailgun, Postmark and SendGrid). Unset: email is printed to the console.
"""

from config.env import VAR_DIR, env

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Nomflow <nomflow@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where people write about their personal data; the privacy page (/privacy/) shows it.
PRIVACY_CONTACT_EMAIL = env("PRIVACY_CONTACT_EMAIL", default="privacy@localhost")
# Django's SMTP backend (EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend): a relay
# such as a local Postfix; the delivery integration tests point it at their own SMTP sink.
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
# Seconds before a silent SMTP server counts as a failed attempt (retried with backoff),
# rather than holding a worker and the message's row lock indefinitely.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# Django's file backend (EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend)
# writes each email to a file here: the production check counts what the worker sent.
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "emails"))

_ANYMAIL_KEYS = [
    "MAILGUN_API_KEY",
    "MAILGUN_SENDER_DOMAIN",
    "MAILGUN_API_URL",
    "POSTMARK_SERVER_TOKEN",
    "SENDGRID_API_KEY",
    "WEBHOOK_SECRET",
]
ANYMAIL = {key: env(f"ANYMAIL_{key}") for key in _ANYMAIL_KEYS if env(f"ANYMAIL_{key}", default="")}
# Amazon SES takes a dict of boto3 client parameters, e.g. {"region_name": "eu-west-1"};
# it needs the `ses` extra installed (pip install -e ".[ses]").
if env("ANYMAIL_AMAZON_SES_CLIENT_PARAMS", default=""):
    ANYMAIL["AMAZON_SES_CLIENT_PARAMS"] = env.json("ANYMAIL_AMAZON_SES_CLIENT_PARAMS")
# A worker keeps one connection to the email backend (an SMTP session, a provider's HTTP
# session) for the messages it sends, instead of one per message (notifications/sending.py).
# It opens a fresh one after this many messages, as some relays cap messages per connection,
EMAIL_SESSION_MAX_MESSAGES = env.int("EMAIL_SESSION_MAX_MESSAGES", default=100)
# and before a send that comes this many seconds after the last, as relays drop idle
# connections (RFC 5321 asks servers to wait 5 minutes; some wait less).
EMAIL_SESSION_IDLE_SECONDS = env.int("EMAIL_SESSION_IDLE_SECONDS", default=30)
# The messages of one commit go one task each below this many (sent side by side by the
# worker's processes, soonest), and in tasks of up to EMAIL_SEND_BATCH from it on: a task costs
# Celery more than sending one email on a kept-open connection (docs/benchmarks.md).
EMAIL_SEND_BATCH_MIN = env.int("EMAIL_SEND_BATCH_MIN", default=10)
EMAIL_SEND_BATCH = env.int("EMAIL_SEND_BATCH", default=100)
