from celery import shared_task
from viewflow.workflow import timers


@shared_task
def fire_due_timers():
    """Fire viewflow's due timers; safe to run from several beats at once."""
    return timers.fire_due_timers()
