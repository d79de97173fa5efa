"""The email providers' tracking webhooks, as Nomflow exposes them.

anymail's views do the provider-specific work (parsing, checking the shared secret);
this module decides which of them are reachable and how they fail:

- only the *tracking* webhooks (delivered, bounced, complained): Nomflow receives no mail;
- none at all while ``ANYMAIL["WEBHOOK_SECRET"]`` is unset: anymail would then accept
  anyone's POST, and a forged bounce stops a person's email;
- a payload the provider's parser cannot read is the sender's error (400), never a 500.
"""

import functools
import logging

from anymail.urls import urlpatterns as anymail_urlpatterns
from django.conf import settings
from django.core.checks import Warning as CheckWarning
from django.core.checks import register
from django.http import HttpResponseBadRequest, HttpResponseNotFound

logger = logging.getLogger(__name__)


def webhooks_enabled():
    return bool(getattr(settings, "ANYMAIL", {}).get("WEBHOOK_SECRET"))


def guarded(view):
    """Off without a secret; unreadable payloads answered with 400."""

    @functools.wraps(view)  # keeps csrf_exempt: providers post without a CSRF token
    def guarded_view(request, *args, **kwargs):
        if not webhooks_enabled():
            logger.warning(
                "Email tracking webhook called at %s, but webhooks are off: "
                "ANYMAIL_WEBHOOK_SECRET is not set.",
                request.path,
            )
            return HttpResponseNotFound()
        try:
            return view(request, *args, **kwargs)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            # json.JSONDecodeError is a ValueError; the others are a payload of the
            # wrong shape. The secret was right, so log enough to find the sender.
            # Logged with the traceback: should the fault be ours, not the payload's, it
            # must show (the provider does not retry a 4xx).
            logger.warning(
                "Unreadable email tracking webhook at %s: %r", request.path, error, exc_info=True
            )
            return HttpResponseBadRequest("Unreadable webhook payload.")

    return guarded_view


def _tracking_patterns():
    patterns = []
    for pattern in anymail_urlpatterns:
        if "tracking" in (pattern.name or ""):
            pattern.callback = guarded(pattern.callback)
            patterns.append(pattern)
    return patterns


urlpatterns = _tracking_patterns()
app_name = "anymail"


@register(deploy=True)
def webhook_secret_check(app_configs, **kwargs):
    """`manage.py check --deploy` says so when delivery tracking is off."""
    if webhooks_enabled():
        return []
    return [
        CheckWarning(
            "Email tracking webhooks are off because ANYMAIL_WEBHOOK_SECRET is not set: "
            "bounces and complaints will not be recorded.",
            hint="Set ANYMAIL_WEBHOOK_SECRET to a random user:password and give the "
            "provider the webhook URL with those credentials (docs/operations.md).",
            id="nomflow.W001",
        )
    ]
