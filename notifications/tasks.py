"""Thin Celery tasks: each takes ids or nothing, re-reads the database and calls a service.

Every one is safe to run twice (a redelivery, two beats): the services check
what is already done before doing anything.
"""

from celery import shared_task
from celery.signals import worker_process_shutdown

from . import services
from .sending import worker_session, worker_session_close


def _session(task):
    # A worker process sends every message on one kept-open connection. A task run
    # eagerly (tests, `make run` without a worker) is inside a web request or a test,
    # whose email settings may differ the next time: it opens a connection of its own.
    return None if task.request.is_eager else worker_session()


@shared_task(bind=True, acks_late=True)
def send_message(self, message_id):
    return services.message_send(message_id=message_id, session=_session(self))


@shared_task(bind=True, acks_late=True)
def send_messages(self, message_ids):
    return services.messages_send(message_ids=message_ids, session=_session(self))


@shared_task(bind=True)
def sweep_messages(self):
    return services.messages_sweep(session=_session(self))


@worker_process_shutdown.connect
def close_email_session(**kwargs):
    worker_session_close()
