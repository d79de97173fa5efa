import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process


class NominationProcess(Process):
    """The running process of one submitted nomination."""

    nomination = models.OneToOneField(
        "nominations.Nomination", on_delete=models.PROTECT, related_name="process"
    )

    class Meta:
        verbose_name = _("nomination process")
        verbose_name_plural = _("nomination processes")


def export_upload_to(export, filename):
    """Under exports/, by call, with a random part: the name is never guessed or reused."""
    return f"exports/call-{export.call_id}/{uuid.uuid4().hex}/{filename}"


class ExportFile(models.Model):
    """A call's export built in the background for one person, kept until ``expires_at``.

    Built by ``workflow.tasks.export_build`` (workflow/exports.py), downloaded only by the
    person who asked for it (and admins), deleted with its file once it expires.
    """

    class Format(models.TextChoices):
        XLSX = "xlsx", _("Excel")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Being built")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    call = models.ForeignKey("nominations.Call", on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    file_format = models.CharField(
        _("format"), max_length=10, choices=Format.choices, default=Format.XLSX
    )
    #: The interface language of the request: the worker writes headers and labels in it.
    language = models.CharField(_("language"), max_length=10)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    rows_total = models.PositiveIntegerField(_("rows in all"), null=True, blank=True)
    file = models.FileField(_("file"), upload_to=export_upload_to, max_length=200, blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ready_at = models.DateTimeField(_("ready"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("export file")
        verbose_name_plural = _("export files")
        constraints = [
            # A second request while one is being built gets that one (exports.export_request).
            models.UniqueConstraint(
                fields=["call", "requested_by", "file_format"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_export_in_progress_per_call_person_and_format",
            )
        ]
        indexes = [models.Index(fields=["expires_at"], name="exportfile_expires_idx")]

    def __str__(self):
        return f"{self.call} / {self.requested_by} / {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self):
        return self.status in self.ACTIVE_STATUSES

    @property
    def percent(self):
        """How far the build is, 0 to 100."""
        if self.status == self.Status.READY:
            return 100
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)
