"""Delivery tracking from the email provider, through anymail's webhooks."""

from anymail.signals import tracking
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import IntegrityError, transaction
from django.dispatch import receiver

from .models import Preference
from .services import delivery_event_record


@receiver(tracking)
def record_tracking_event(sender, event, esp_name, **kwargs):
    try:
        with transaction.atomic():
            delivery_event_record(
                event_id=event.event_id or f"{esp_name}:{event.message_id}:{event.event_type}",
                event_type=event.event_type,
                provider_message_id=event.message_id or "",
                recipient=event.recipient or "",
                occurred_at=event.timestamp,
                description=event.description or event.reject_reason or "",
            )
    except IntegrityError:
        pass  # the provider replayed an event already applied


@receiver(user_logged_in)
def remember_language(sender, request, user, **kwargs):
    """Emails go out in the language a person last used the site in, until they choose one."""
    language = getattr(request, "LANGUAGE_CODE", "")
    if language in dict(settings.LANGUAGES):
        Preference.objects.get_or_create(user=user, defaults={"language": language})
