"""Delivery tracking from the email provider, through anymail's webhooks."""

from anymail.signals import tracking
from django.db import IntegrityError, transaction
from django.dispatch import receiver

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
