"""Delivery tracking from the email provider, through anymail's webhooks."""

from anymail.signals import tracking
from django.contrib.auth.signals import user_logged_in
from django.db import IntegrityError, transaction
from django.dispatch import receiver

from .language import language_remember_at_sign_in
from .services import delivery_event_record


@receiver(tracking)
def record_tracking_event(sender, event, esp_name, **kwargs):
    event_type = event.event_type
    if event_type == "bounced" and _is_soft_bounce(event):
        # A full mailbox or a greylisting server: the provider tries again, and the
        # address is not marked as bouncing.
        event_type = "deferred"
    try:
        with transaction.atomic():
            delivery_event_record(
                event_id=event.event_id or f"{esp_name}:{event.message_id}:{event_type}",
                event_type=event_type,
                provider_message_id=event.message_id or "",
                recipient=event.recipient or "",
                occurred_at=event.timestamp,
                description=event.description or event.reject_reason or "",
            )
    except IntegrityError:
        pass  # the provider replayed an event already applied


def _is_soft_bounce(event):
    """Postmark's SoftBounce (a full mailbox, retried by Postmark) reaches us as "bounced".

    anymail already reports Postmark's other temporary types (Transient, DnsError) and
    the other providers' temporary failures as "deferred".
    """
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    return raw.get("Type") == "SoftBounce"


@receiver(user_logged_in)
def remember_language(sender, request, user, **kwargs):
    """The language a person chose (or first used the site in) follows them to every device."""
    language_remember_at_sign_in(request=request, user=user)
