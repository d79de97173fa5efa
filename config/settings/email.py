"""Outgoing email through django-anymail; the provider is chosen by environment.

EMAIL_BACKEND=anymail.backends.postmark.EmailBackend plus ANYMAIL_POSTMARK_SERVER_TOKEN,
or any other anymail backend with its own ANYMAIL_* keys (docs/operations.md lists
Amazon SES, Mailgun, Postmark and SendGrid). Unset: email is printed to the console.
"""

from config.env import env

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Nomflow <nomflow@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

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
