"""The knowledge hub: a coordinator's edits of a selected practice's public text."""

from django.db import transaction
from django.urls import reverse

from nominations.models import (
    Nomination,
    PublishedPractice,
)
from nominations.services import (
    practice_save,
)
from notifications.models import Message
from notifications.services import notify


@transaction.atomic
def practice_public_save(*, nomination, by, fields, publish=None, version=None):
    """``practice_save``, and the nominator told once when their practice is first published."""
    # The public text's lock (``practice_save`` takes it too), so "was it published" is
    # read as it stands when this write goes ahead.
    Nomination.objects.select_for_update().get(pk=nomination.pk)
    was_published = PublishedPractice.objects.filter(
        nomination=nomination, is_published=True
    ).exists()
    practice = practice_save(
        nomination=nomination, by=by, fields=fields, publish=publish, version=version
    )
    if practice.is_published and not was_published:
        notify(
            recipient=nomination.nominator,
            kind=Message.Kind.PRACTICE_PUBLISHED,
            key=f"practice-published:{practice.pk}",
            context={"nomination_title": nomination.title, "nomination_id": nomination.pk},
            path=reverse("hub:detail", args=[practice.pk]),
        )
    return practice
