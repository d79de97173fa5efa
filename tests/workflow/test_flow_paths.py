"""Every path a nomination can take through NominationFlow."""

import pytest
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from nominations.models import Nomination, NominationEvent, SelectionDecision
from reviewers.models import Review
from workflow.flows import NominationFlow
from workflow.services import (
    ScreeningDecision,
    nomination_resubmit,
    nomination_screen,
    nomination_submit,
    review_decline,
    review_submit,
    selection_decide,
)

from .helpers import full_scores, open_task, open_tasks

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def actions(nomination):
    return list(nomination.events.values_list("action", flat=True))


def submit_and_accept(draft, coordinator):
    nomination_submit(nomination=draft, by=draft.nominator)
    task = open_task(draft, NominationFlow.screen)
    nomination_screen(task_id=task.pk, by=coordinator, decision=ScreeningDecision.ACCEPT)
    draft.refresh_from_db()
    return draft


def test_submission_creates_a_screening_task_with_a_deadline(draft, coordinator):
    nomination_submit(nomination=draft, by=draft.nominator)

    draft.refresh_from_db()
    task = open_task(draft, NominationFlow.screen)
    assert draft.stage == Nomination.Stage.SCREENING
    assert task.owner is None
    assert (task.scheduled - task.created).days == draft.call.screening_days


def test_accepted_nomination_gets_the_calls_number_of_reviewers_from_other_countries(
    draft, coordinator, reviewers
):
    submit_and_accept(draft, coordinator)

    review_tasks = open_tasks(draft, NominationFlow.review)
    assert draft.stage == Nomination.Stage.REVIEW
    assert len(review_tasks) == 2
    owners = {t.owner for t in review_tasks}
    assert {u.reviewer_profile.country.code for u in owners} <= {"FR", "LV", "ES"}
    assert len({u.reviewer_profile.country_id for u in owners}) == 2


def test_accepted_path_ends_with_the_leads_decision(draft, coordinator, reviewers, lead):
    submit_and_accept(draft, coordinator)
    for task in open_tasks(draft, NominationFlow.review):
        review_submit(
            task_id=task.pk, by=task.owner, scores=full_scores(draft.call), comment="Good"
        )

    select_task = open_task(draft, NominationFlow.select)
    draft.refresh_from_db()
    assert draft.stage == Nomination.Stage.SELECTION

    selection_decide(
        task_id=select_task.pk,
        by=lead,
        outcome=SelectionDecision.Outcome.NATIONAL,
        rationale="Strong local results.",
    )

    draft.refresh_from_db()
    assert draft.stage == Nomination.Stage.DECIDED
    assert draft.decision.outcome == SelectionDecision.Outcome.NATIONAL
    assert draft.process.status == "DONE"
    assert actions(draft) == [
        "submitted",
        "screening_accepted",
        "reviewers_assigned",
        "review_submitted",
        "review_submitted",
        "reviews_complete",
        "decided",
    ]


def test_changes_requested_then_resubmitted_returns_to_screening(draft, coordinator):
    nomination_submit(nomination=draft, by=draft.nominator)
    nomination_screen(
        task_id=open_task(draft, NominationFlow.screen).pk,
        by=coordinator,
        decision=ScreeningDecision.REQUEST_CHANGES,
        message="Please add evidence.",
    )
    draft.refresh_from_db()
    revise = open_task(draft, NominationFlow.revise)
    assert draft.stage == Nomination.Stage.CHANGES_REQUESTED
    assert revise.owner == draft.nominator

    nomination_resubmit(task_id=revise.pk, by=draft.nominator)

    draft.refresh_from_db()
    assert draft.stage == Nomination.Stage.SCREENING
    assert open_task(draft, NominationFlow.screen).owner is None
    assert actions(draft)[-2:] == ["changes_requested", "resubmitted"]


def test_rejection_ends_the_process_with_the_reason(draft, coordinator):
    nomination_submit(nomination=draft, by=draft.nominator)
    nomination_screen(
        task_id=open_task(draft, NominationFlow.screen).pk,
        by=coordinator,
        decision=ScreeningDecision.REJECT,
        message="Not a practice of social innovation.",
    )

    draft.refresh_from_db()
    assert draft.stage == Nomination.Stage.REJECTED
    assert draft.process.status == "DONE"
    event = draft.events.get(action=NominationEvent.Action.REJECTED)
    assert event.message == "Not a practice of social innovation."
    assert event.actor == coordinator


def test_declining_reviewer_is_replaced_by_the_remaining_eligible_one(
    draft, coordinator, reviewers, lead
):
    submit_and_accept(draft, coordinator)
    first, _second = open_tasks(draft, NominationFlow.review)
    decliner = first.owner

    review_decline(task_id=first.pk, by=decliner, reason="Conflict discovered")

    remaining = open_tasks(draft, NominationFlow.review)
    assert len(remaining) == 2
    assigned = {t.owner for t in remaining}
    assert decliner not in assigned
    assert set(reviewers) - {decliner} == assigned
    assert Review.objects.get(nomination=draft, reviewer=decliner).status == "declined"

    for task in remaining:
        review_submit(task_id=task.pk, by=task.owner, scores=full_scores(draft.call), comment="")

    assert len(open_tasks(draft, NominationFlow.select)) == 1
    assert (
        Task.objects.filter(flow_task=NominationFlow.reviews_done, status=STATUS.DONE).count() == 1
    )


def test_decline_with_nobody_left_closes_the_branch_and_says_so(draft, coordinator, reviewers):
    reviewers[2].reviewer_profile.is_active = False
    reviewers[2].reviewer_profile.save()
    submit_and_accept(draft, coordinator)
    first, second = open_tasks(draft, NominationFlow.review)

    review_decline(task_id=first.pk, by=first.owner, reason="On leave")
    review_submit(task_id=second.pk, by=second.owner, scores=full_scores(draft.call), comment="")

    draft.refresh_from_db()
    assert draft.stage == Nomination.Stage.SELECTION
    assert "no_reviewer_available" in actions(draft)
    assert len(open_tasks(draft, NominationFlow.select)) == 1


def test_no_eligible_reviewer_at_all_goes_to_selection_with_a_note(draft, coordinator, lead):
    submit_and_accept(draft, coordinator)

    draft.refresh_from_db()
    assert draft.stage == Nomination.Stage.SELECTION
    assert "no_reviewer_available" in actions(draft)
    assert len(open_tasks(draft, NominationFlow.select)) == 1
