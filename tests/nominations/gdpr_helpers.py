"""Steps shared by the personal data (GDPR) tests."""

import io
import json
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

from nominations.models import SelectionDecision
from nominations.services import nomination_attach
from workflow.flows import NominationFlow
from workflow.services import review_submit, selection_decide

from ..workflow.helpers import full_scores, open_task, open_tasks
from ..workflow.test_reviewer_pages import accepted

PDF = b"%PDF-1.4 the nominator's evidence \x00\x01\x02"


def unzip(content):
    archive = zipfile.ZipFile(io.BytesIO(content))
    return archive, json.loads(archive.read("data.json"))


def reviewed(nomination, coordinator):
    """Accepted at screening and reviewed by every assigned reviewer: waiting for the leads."""
    accepted(nomination, coordinator)
    for task in open_tasks(nomination, NominationFlow.review):
        review_submit(
            task_id=task.pk, by=task.owner, scores=full_scores(nomination.call), comment="Solid."
        )
    return nomination


def decided_with_attachment(nomination, coordinator, lead):
    """The draft with an attachment, reviewed by two people and decided by the lead."""
    nomination_attach(
        nomination=nomination,
        by=nomination.nominator,
        upload=SimpleUploadedFile("../evidence report.pdf", PDF),
        content_type="application/pdf",
    )
    reviewed(nomination, coordinator)
    selection_decide(
        task_id=open_task(nomination, NominationFlow.select).pk,
        by=lead,
        outcome=SelectionDecision.Outcome.NATIONAL,
        rationale="Strong local results.",
    )
    nomination.refresh_from_db()
    return nomination
