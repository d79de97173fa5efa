from django.db import models
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
