"""Thin Celery tasks of the workflow app; each calls one service and is safe to run twice."""

import logging

from celery import shared_task
from django.utils import timezone

from . import exports, reminders
from .personal_data import invitations_retention_sweep, personal_data_retention_sweep
from .services import people, people_import

logger = logging.getLogger(__name__)


@shared_task
def personal_data_retention():
    """Erase the contact details whose retention period is over, and delete the closed
    invitations and old imports past theirs; returns how many contacts were erased."""
    now = timezone.now()
    invitations, imports = invitations_retention_sweep(now=now)
    logger.info("Retention: %s invitations and %s imports deleted", invitations, imports)
    return personal_data_retention_sweep(now=now)


@shared_task
def send_reminders():
    """Reminders before deadlines, overdue notices and escalations that have come due."""
    return reminders.reminders_send()


@shared_task
def send_daily_digests():
    """One digest per person who chose daily delivery."""
    return reminders.digests_send()


@shared_task(acks_late=True)
def invitation_import_run(batch_id):
    """Invite the rows of a confirmed import not yet done (each row once, however often)."""
    return people_import.invitation_import_run(batch_id=batch_id)


@shared_task
def invitations_remind_and_expire():
    """Invitations: a reminder before they expire, once; the overdue marked expired."""
    return people.invitations_remind_and_expire(now=timezone.now())


@shared_task(acks_late=True)
def export_build(export_id):
    """Build a call's Excel export someone asked for, and tell them it is ready."""
    export = exports.export_build(export_id=export_id)
    return export.pk if export else None


@shared_task
def export_files_expire():
    """Delete the exports kept past their time, with their files, and queue again the
    builds that were lost; returns (deleted, queued again)."""
    now = timezone.now()
    return exports.exports_expire(now=now), exports.exports_resume(now=now)
