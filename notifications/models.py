"""The email outbox, in-site notifications, preferences and delivery tracking.

A message is a database row first, written in the same transaction as the
workflow change that causes it, and an email second: a broker outage only
delays it, and its idempotency key keeps a retry from sending it twice.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Message(models.Model):
    class Kind(models.TextChoices):
        TASK_ASSIGNED = "task_assigned", _("A task for you")
        SUBMISSION_RECEIVED = "submission_received", _("Nomination received")
        ACCEPTED_FOR_REVIEW = "accepted_for_review", _("Accepted for peer review")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        REJECTED = "rejected", _("Not accepted")
        DECIDED = "decided", _("Selection decided")
        REMINDER = "reminder", _("Reminder of tasks")
        ESCALATION = "escalation", _("Overdue tasks to follow up")
        DIGEST = "digest", _("Daily digest")
        SELECTION_FINAL = "selection_final", _("The call's selection is final")
        SELECTION_PROPOSED = "selection_proposed", _("A proposed decision to confirm")
        SELECTION_RETURNED = "selection_returned", _("A proposed decision sent back")
        PRACTICE_PUBLISHED = "practice_published", _("Published in the knowledge hub")
        INVITATION = "invitation", _("An invitation to take a role")
        INVITATION_REMINDER = "invitation_reminder", _("An invitation about to expire")
        EXPORT_READY = "export_ready", _("Your export is ready")

    #: Always emailed, whatever the person's preferences: someone must act, or a decision was made.
    ESSENTIAL_KINDS = frozenset(
        {
            Kind.TASK_ASSIGNED,
            Kind.ACCEPTED_FOR_REVIEW,
            Kind.CHANGES_REQUESTED,
            Kind.REJECTED,
            Kind.DECIDED,
            Kind.SELECTION_FINAL,
            Kind.ESCALATION,
            Kind.SELECTION_PROPOSED,
            Kind.SELECTION_RETURNED,
            Kind.INVITATION,
            Kind.INVITATION_REMINDER,
        }
    )
    #: Written to an address (``notify_address``), which may have no account yet.
    ADDRESS_KINDS = frozenset({Kind.INVITATION, Kind.INVITATION_REMINDER})

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        HELD_FOR_DIGEST = "held_for_digest", _("Held for the daily digest")
        SENT = "sent", _("Sent")
        IN_DIGEST = "in_digest", _("Sent in a daily digest")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Not emailed (preference or bounced address)")
        OUTDATED = "outdated", _("Not emailed: its tasks were done before the digest")

    idempotency_key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    #: None for a message to an address alone (an invitation): always emailed to ``to_email``.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
    )
    to_email = models.EmailField(_("to"))
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=300)
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True, db_index=True)
    delivery_status = models.CharField(_("delivery"), max_length=20, blank=True)
    delivery_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("email message")
        verbose_name_plural = _("outbox")
        indexes = [
            # The sweep's query: what is still to send, oldest due first.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="message_pending_due",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} → {self.to_email}"

    @property
    def is_essential(self):
        return self.kind in self.ESSENTIAL_KINDS


class Notification(models.Model):
    """What the bell in the page header lists."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="notification"
    )
    title = models.CharField(_("title"), max_length=300)
    path = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["recipient"], condition=models.Q(read_at__isnull=True), name="unread"
            )
        ]

    def __str__(self):
        return self.title


class Preference(models.Model):
    class Delivery(models.TextChoices):
        IMMEDIATE = "immediate", _("Right away")
        DAILY = "daily", _("Once a day, in one digest")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    #: The language the person chose; blank until they choose one.
    language = models.CharField(
        _("language of emails"), max_length=8, choices=settings.LANGUAGES, blank=True
    )
    #: The language of their latest sign-in: their emails' language until they choose one.
    signed_in_language = models.CharField(
        _("language last signed in with"), max_length=8, choices=settings.LANGUAGES, blank=True
    )
    email_non_essential = models.BooleanField(
        _("email me updates and reminders"),
        default=True,
        help_text=_("Tasks assigned to you and decisions are always emailed."),
    )
    delivery = models.CharField(
        _("updates and reminders arrive"),
        max_length=10,
        choices=Delivery.choices,
        default=Delivery.IMMEDIATE,
    )
    bounced_at = models.DateTimeField(_("address bounced"), null=True, blank=True)
    bounce_reason = models.CharField(_("bounce reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return str(self.user)

    @property
    def email_language(self):
        """The one chosen, otherwise the one last signed in with, otherwise the site's."""
        return self.language or self.signed_in_language or settings.LANGUAGE_CODE


class ReminderLog(models.Model):
    """One reminder point of one task, sent once: (task, "before:7"), (task, "overdue")…"""

    task = models.ForeignKey("viewflow.Task", on_delete=models.CASCADE, related_name="+")
    point = models.CharField(max_length=30)
    message = models.ForeignKey(Message, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["task", "point"], name="one_reminder_per_task_and_point"
            )
        ]

    def __str__(self):
        return f"task {self.task_id} {self.point}"


class DeliveryEvent(models.Model):
    """A provider's tracking event (delivered, bounced, complained), applied once."""

    event_id = models.CharField(max_length=200, unique=True)
    event_type = models.CharField(max_length=30)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    recipient = models.EmailField(blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["-occurred_at"]

    def __str__(self):
        return f"{self.event_type} {self.recipient}"
