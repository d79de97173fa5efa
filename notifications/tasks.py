"""Thin Celery tasks: each takes ids or nothing, re-reads the database and calls a service.

Every one is safe to run twice (a redelivery, two beats): the services check
what is already done before doing anything.
"""

from celery import shared_task

from . import reminders, services


@shared_task(acks_late=True)
def send_message(message_id):
    return services.message_send(message_id=message_id)


@shared_task
def sweep_messages():
    return services.messages_sweep()


@shared_task
def send_reminders():
    return reminders.reminders_send()


@shared_task
def send_daily_digests():
    return reminders.digests_send()
