"""Every path a nomination can take through NominationFlow."""

import re

import pytest
from viewflow.workflow.models import Task

from nominations.models import Nomination, NominationEvent, SelectionDecision
from nominations.services import NominationError
from reviewers.models import Review
from reviewers.services import assignment_propose
from workflow.charts import nomination_flow_svg
from workflow.flows import NominationFlow
from workflow.selectors import steps_of_process
from workflow.services import (
    ScreeningDecision,
    SoftRulesBroken,
    nomination_resubmit,
    nomination_screen,
    nomination_submit,
    review_decline,
    review_submit,
    reviewer_add_by_hand,
    reviewers_assign_in_bulk,
    reviewers_find_again,
    reviewers_go_on,
    selection_decide,
)

from ..factories import NominationFactory, ReviewerFactory
from .helpers import full_scores, open_task, open_tasks, times_passed

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


def test_every_step_passed_is_listed_in_order_though_only_human_tasks_have_rows(
    draft, coordinator, reviewers, lead
):
    submit_and_accept(draft, coordinator)
    first, _second = open_tasks(draft, NominationFlow.review)
    review_decline(task_id=first.pk, by=first.owner, reason="Conflict discovered")
    for task in open_tasks(draft, NominationFlow.review):
        review_submit(task_id=task.pk, by=task.owner, scores=full_scores(draft.call), comment="")
    selection_decide(
        task_id=open_task(draft, NominationFlow.select).pk,
        by=lead,
        outcome=SelectionDecision.Outcome.NATIONAL,
        rationale="Strong local results.",
    )

    flow = NominationFlow
    steps = [(node.name, status) for node, status in steps_of_process(process_id=draft.process.pk)]
    done = "DONE"
    assert steps == [
        ("submit", done),
        ("screen", done),
        ("screening_outcome", done),
        ("assign_reviewers", done),
        ("reviewers_found", done),
        ("review_split", done),
        ("review", done),  # declined
        ("review_outcome", done),
        ("replace_reviewer", done),
        ("replacement_found", done),
        ("review", done),  # the other first reviewer
        ("review_outcome", done),
        ("review", done),  # the replacement, last in
        ("review_outcome", done),
        ("reviews_done", done),
        ("close_review", done),
        ("select", done),
        ("selected", done),
    ]
    # Rows only for the people's tasks and the start.
    assert sorted({task.flow_task.name for task in Task.objects.filter(process=draft.process)}) == [
        "review",
        "screen",
        "select",
        "submit",
    ]
    # The chart marks every step passed as done, the routed ones too, and no other.
    chart = nomination_flow_svg(nomination=draft)
    marked = set(re.findall(r'<g id="(\w+)" transform="[^"]*" class="done">', chart))
    assert marked == {name for name, _status in steps}
    for node in (flow.screening_outcome, flow.reviews_done, flow.close_review, flow.selected):
        assert times_passed(draft, node) == 1


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
    # The join has no row of its own: the last review's task records passing it, once.
    assert times_passed(draft, NominationFlow.reviews_done) == 1


def test_decline_with_nobody_left_asks_the_coordinators_for_a_replacement(
    draft, coordinator, reviewers
):
    reviewers[2].reviewer_profile.is_active = False
    reviewers[2].reviewer_profile.save()
    submit_and_accept(draft, coordinator)
    first, second = open_tasks(draft, NominationFlow.review)

    review_decline(task_id=first.pk, by=first.owner, reason="On leave")

    assert "no_reviewer_available" in actions(draft)
    find = open_task(draft, NominationFlow.find_replacement)
    assert find.owner is None  # any coordinator of Sweden may take it
    # Nothing valid appears meanwhile: finding again changes nothing.
    assert reviewers_find_again(task_id=find.pk, by=coordinator) is False
    assert open_task(draft, NominationFlow.find_replacement).pk == find.pk

    # The pool grows; the coordinator finds the replacement, who gets the review.
    reviewers[2].reviewer_profile.is_active = True
    reviewers[2].reviewer_profile.save()
    assert reviewers_find_again(task_id=find.pk, by=coordinator) is True
    (replacement_task,) = [t for t in open_tasks(draft, NominationFlow.review) if t != second]
    assert replacement_task.owner == reviewers[2]
    for task in (second, replacement_task):
        review_submit(task_id=task.pk, by=task.owner, scores=full_scores(draft.call), comment="")
    assert len(open_tasks(draft, NominationFlow.select)) == 1


def test_a_coordinator_may_go_on_without_a_replacement(draft, coordinator, reviewers):
    reviewers[2].reviewer_profile.is_active = False
    reviewers[2].reviewer_profile.save()
    submit_and_accept(draft, coordinator)
    first, second = open_tasks(draft, NominationFlow.review)
    review_decline(task_id=first.pk, by=first.owner, reason="On leave")
    find = open_task(draft, NominationFlow.find_replacement)

    with pytest.raises(NominationError):
        reviewers_go_on(task_id=find.pk, by=coordinator, note="  ")
    reviewers_go_on(task_id=find.pk, by=coordinator, note="One review is enough here.")
    review_submit(task_id=second.pk, by=second.owner, scores=full_scores(draft.call), comment="")

    draft.refresh_from_db()
    assert draft.stage == Nomination.Stage.SELECTION
    assert "reviewers_settled" in actions(draft)
    assert len(open_tasks(draft, NominationFlow.select)) == 1
    # The join has no row of its own: the last review's task records passing it, once.
    assert times_passed(draft, NominationFlow.reviews_done) == 1


def test_no_eligible_reviewer_at_all_asks_the_coordinators_who_may_go_on_to_selection(
    draft, coordinator, lead
):
    submit_and_accept(draft, coordinator)

    assert draft.stage == Nomination.Stage.REVIEW
    assert "no_reviewer_available" in actions(draft)
    find = open_task(draft, NominationFlow.find_reviewers)
    assert open_tasks(draft, NominationFlow.review) == []

    reviewers_go_on(task_id=find.pk, by=coordinator, note="No reviewer reads this; leads decide.")

    draft.refresh_from_db()
    assert draft.stage == Nomination.Stage.SELECTION
    assert len(open_tasks(draft, NominationFlow.select)) == 1


def test_a_shortfall_is_completed_by_hand_with_refusals_and_warnings(
    draft, coordinator, countries, theme
):
    french = ReviewerFactory(
        reviewer_profile__country=countries["FR"], reviewer_profile__expertise=[theme]
    )
    submit_and_accept(draft, coordinator)
    find = open_task(draft, NominationFlow.find_reviewers)
    assert [r.reviewer for r in draft.reviews.all()] == [french]
    swede = ReviewerFactory(reviewer_profile__country=countries["SE"])
    second_french = ReviewerFactory(reviewer_profile__country=countries["FR"])

    with pytest.raises(NominationError, match="is from the nomination's country"):
        reviewer_add_by_hand(task_id=find.pk, by=coordinator, reviewer_id=swede.pk)
    with pytest.raises(SoftRulesBroken) as warning:
        reviewer_add_by_hand(task_id=find.pk, by=coordinator, reviewer_id=second_french.pk)
    assert "shares none of the nomination's themes" in str(warning.value)
    assert draft.reviews.count() == 1

    assert reviewer_add_by_hand(
        task_id=find.pk, by=coordinator, reviewer_id=second_french.pk, confirmed=True
    )

    assert {t.owner for t in open_tasks(draft, NominationFlow.review)} == {french, second_french}
    assert "reviewer_added_by_hand" in actions(draft)


def test_a_call_that_assigns_in_bulk_holds_accepted_nominations_for_the_coordinators(
    call, draft, coordinator, reviewers, countries, theme
):
    call.assign_in_bulk = True
    call.save()
    other = NominationFactory(call=call, country=countries["FR"], themes=[theme])
    spanish = ReviewerFactory(
        reviewer_profile__country=countries["ES"], reviewer_profile__expertise=[theme]
    )
    countries["FR"].coordinators.add(coordinator)
    submit_and_accept(draft, coordinator)
    submit_and_accept(other, coordinator)
    tasks = [open_task(n, NominationFlow.find_reviewers) for n in (draft, other)]
    assert Review.objects.count() == 0

    nominations = [draft, other]
    proposal = assignment_propose(call=call, nominations=nominations)
    pairs = [
        (task.pk, user.pk)
        for task, (_nomination, chosen, _short, _alternatives) in zip(
            tasks, proposal.rows(nominations), strict=True
        )
        for user, _fit, _bid in chosen
    ]
    assigned, refused, gone_on = reviewers_assign_in_bulk(by=coordinator, pairs=pairs)

    assert (assigned, refused, gone_on) == (4, [], 2)
    for nomination in nominations:
        owners = {t.owner for t in open_tasks(nomination, NominationFlow.review)}
        assert len(owners) == 2
        assert nomination.country_id not in {u.reviewer_profile.country_id for u in owners}
    assert spanish in {r.reviewer for r in Review.objects.all()}
