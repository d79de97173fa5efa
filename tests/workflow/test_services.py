"""Rules the flow-moving services enforce, whoever calls them."""

import pytest
from django.core.exceptions import PermissionDenied

from nominations.models import Nomination, SelectionDecision
from nominations.services import NominationError, nomination_missing_fields
from reviewers.models import Review
from workflow.flows import NominationFlow
from workflow.services import (
    ScreeningDecision,
    TaskUnavailable,
    nomination_screen,
    nomination_submit,
    review_decline,
    review_submit,
    reviewers_go_on,
    selection_decide,
)

from ..factories import QuestionFactory
from .helpers import full_scores, open_task, open_tasks

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def in_review(draft, coordinator):
    nomination_submit(nomination=draft, by=draft.nominator)
    task = open_task(draft, NominationFlow.screen)
    nomination_screen(task_id=task.pk, by=coordinator, decision=ScreeningDecision.ACCEPT)
    return open_tasks(draft, NominationFlow.review)


def test_missing_fields_name_every_gap_including_required_survey_questions(draft):
    question = QuestionFactory(call=draft.call, required=True, text="How many people took part?")
    QuestionFactory(call=draft.call, required=False, text="Anything else?")
    draft.organisation = ""
    draft.language = "fr"
    draft.english_summary = ""
    draft.save()

    assert nomination_missing_fields(draft) == [
        "organisation",
        "summary in English",
        question.text,
    ]


def test_only_the_nominator_can_submit(draft, coordinator):
    with pytest.raises(PermissionDenied):
        nomination_submit(nomination=draft, by=coordinator)
    draft.refresh_from_db()
    assert draft.stage == Nomination.Stage.DRAFT


@pytest.mark.parametrize("decision", [ScreeningDecision.REQUEST_CHANGES, ScreeningDecision.REJECT])
def test_sending_back_or_rejecting_needs_a_message_for_the_nominator(draft, coordinator, decision):
    nomination_submit(nomination=draft, by=draft.nominator)
    task = open_task(draft, NominationFlow.screen)

    with pytest.raises(NominationError, match="tell the nominator why"):
        nomination_screen(task_id=task.pk, by=coordinator, decision=decision, message="  ")
    assert open_task(draft, NominationFlow.screen).pk == task.pk


def test_a_review_needs_every_criterion_scored(draft, coordinator, reviewers):
    task = in_review(draft, coordinator)[0]
    scores = full_scores(draft.call)
    first_criterion = next(iter(scores))
    scores[first_criterion] = (None, "Not sure")

    with pytest.raises(NominationError, match="score every criterion"):
        review_submit(task_id=task.pk, by=task.owner, scores=scores, comment="")
    review = Review.objects.get(pk=task.data["review_id"])
    assert review.status == Review.Status.ASSIGNED
    assert review.scores.count() == 0


def test_declining_needs_a_reason(draft, coordinator, reviewers):
    task = in_review(draft, coordinator)[0]

    with pytest.raises(NominationError, match="reason for declining"):
        review_decline(task_id=task.pk, by=task.owner, reason="")


def test_a_task_done_cannot_be_done_again(draft, coordinator, reviewers):
    task = in_review(draft, coordinator)[0]
    review_submit(task_id=task.pk, by=task.owner, scores=full_scores(draft.call), comment="")

    with pytest.raises(TaskUnavailable, match="already completed"):
        review_submit(task_id=task.pk, by=task.owner, scores=full_scores(draft.call), comment="")
    assert draft.events.filter(action="review_submitted").count() == 1


@pytest.mark.parametrize("outcome", SelectionDecision.Outcome.values)
def test_every_selection_outcome_ends_the_process_with_its_rationale(
    draft, coordinator, reviewers, lead, outcome
):
    for task in in_review(draft, coordinator):
        review_submit(task_id=task.pk, by=task.owner, scores=full_scores(draft.call), comment="")

    selection_decide(
        task_id=open_task(draft, NominationFlow.select).pk,
        by=lead,
        outcome=outcome,
        rationale=f"Because {outcome}.",
    )

    draft.refresh_from_db()
    assert (draft.stage, draft.decision.outcome, draft.decision.rationale) == (
        Nomination.Stage.DECIDED,
        outcome,
        f"Because {outcome}.",
    )
    assert draft.process.status == "DONE"


def test_a_decision_needs_a_rationale(draft, coordinator, lead):
    nomination_submit(nomination=draft, by=draft.nominator)
    nomination_screen(
        task_id=open_task(draft, NominationFlow.screen).pk,
        by=coordinator,
        decision=ScreeningDecision.ACCEPT,
    )
    # Nobody can review it: the coordinator sends it to selection without peer review.
    reviewers_go_on(
        task_id=open_task(draft, NominationFlow.find_reviewers).pk,
        by=coordinator,
        note="No reviewer available.",
    )

    with pytest.raises(NominationError, match="rationale"):
        selection_decide(
            task_id=open_task(draft, NominationFlow.select).pk,
            by=lead,
            outcome=SelectionDecision.Outcome.NOT_SELECTED,
            rationale="",
        )
