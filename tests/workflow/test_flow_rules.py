"""Rules the flow keeps whatever people do: wanted reviewers, a final selection, one lead."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from nominations.models import Nomination, SelectionProposal
from nominations.services import NominationError, nomination_create
from reviewers.models import Review
from workflow.flows import NominationFlow
from workflow.services import (
    nomination_submit,
    reviewers_assign_in_bulk,
    reviewers_go_on,
    selection_decide,
    selection_finalise,
    selection_propose,
)

from ..factories import NominationFactory, ReviewerFactory, UserFactory
from .helpers import open_task, open_tasks
from .test_reviewer_pages import accepted

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def waiting(call, draft, coordinator, reviewers):
    """The Swedish nomination accepted in a call that assigns in bulk: it waits for reviewers."""
    call.assign_in_bulk = True
    call.save()
    accepted(draft, coordinator)
    return open_task(draft, NominationFlow.find_reviewers)


# --- a. bulk assignment -----------------------------------------------------------------


def test_bulk_assignment_never_gives_more_reviewers_than_the_call_wants(
    waiting, draft, coordinator, reviewers, theme, countries
):
    french, latvian, spanish = reviewers
    extra = ReviewerFactory(
        reviewer_profile__country=countries["FR"], reviewer_profile__expertise=[theme]
    )

    assigned, refused, gone_on = reviewers_assign_in_bulk(
        by=coordinator,
        pairs=[(waiting.pk, french.pk)],
        additions=[(waiting.pk, latvian.pk), (waiting.pk, spanish.pk), (waiting.pk, extra.pk)],
        confirmed=True,
    )

    assert (assigned, gone_on) == (2, 1)
    assert (
        refused
        == [f"“{draft.title}”: a chosen reviewer goes beyond the 2 reviewers the nomination wants."]
        * 2
    )
    assert Review.objects.filter(nomination=draft).count() == 2
    assert len(open_tasks(draft, NominationFlow.review)) == 2


def test_bulk_assignment_counts_the_reviewers_a_nomination_already_has(
    waiting, draft, coordinator, reviewers
):
    french, latvian, spanish = reviewers
    reviewers_assign_in_bulk(by=coordinator, pairs=[(waiting.pk, french.pk)])

    assigned, refused, _gone_on = reviewers_assign_in_bulk(
        by=coordinator, pairs=[(waiting.pk, latvian.pk), (waiting.pk, spanish.pk)]
    )

    assert assigned == 1
    assert len(refused) == 1
    assert Review.objects.filter(nomination=draft).count() == 2


def test_a_bulk_confirmation_with_a_task_not_theirs_saves_nothing(
    waiting, draft, call, coordinator, reviewers, countries, theme
):
    french_coordinator = UserFactory(username="coordinator-fr")
    countries["FR"].coordinators.add(french_coordinator)
    countries["SE"].coordinators.add(french_coordinator)
    french_nomination = NominationFactory(call=call, country=countries["FR"], themes=[theme])
    accepted(french_nomination, french_coordinator)
    not_theirs = open_task(french_nomination, NominationFlow.find_reviewers)
    _french, latvian, spanish = reviewers

    with pytest.raises(PermissionDenied):
        reviewers_assign_in_bulk(
            by=coordinator, pairs=[(waiting.pk, latvian.pk), (not_theirs.pk, spanish.pk)]
        )

    assert Review.objects.count() == 0
    assert not draft.events.filter(action="reviewers_assigned").exists()


# --- b. a final selection ----------------------------------------------------------------


def finalised(call, lead):
    call.closes_at = timezone.now() - timedelta(days=1)
    call.save()
    return selection_finalise(call=call, by=lead)


def test_the_selection_is_not_final_while_the_call_is_open(call, lead):
    with pytest.raises(NominationError, match="still open"):
        selection_finalise(call=call, by=lead)
    call.refresh_from_db()
    assert call.selection_finalised_at is None


def test_a_submitted_nomination_holds_the_final_selection_back(call, draft, lead):
    nomination_submit(nomination=draft, by=draft.nominator)
    call.closes_at = timezone.now() - timedelta(days=1)
    call.save()

    with pytest.raises(NominationError, match="not decided yet"):
        selection_finalise(call=call, by=lead)


def test_after_a_final_selection_no_nomination_is_made_or_submitted(call, draft, lead):
    call = finalised(call, lead)
    call.closes_at = timezone.now() + timedelta(days=1)  # reopened by mistake in the admin
    call.save()

    with pytest.raises(NominationError, match="selection of this call is final"):
        nomination_submit(nomination=draft, by=draft.nominator)
    with pytest.raises(NominationError, match="selection of this call is final"):
        nomination_create(
            call=call, nominator=draft.nominator, fields={}, themes=[], survey_answers={}
        )
    draft.refresh_from_db()
    assert draft.stage == Nomination.Stage.DRAFT


def test_after_a_final_selection_no_task_of_the_call_moves(call, waiting, coordinator, lead):
    call.selection_finalised_at = timezone.now()  # as if a task had been left behind
    call.save()

    with pytest.raises(NominationError, match="selection of this call is final"):
        reviewers_go_on(task_id=waiting.pk, by=coordinator, note="None.")
    assert open_task(waiting.process.nominationprocess.nomination, NominationFlow.find_reviewers)


# --- c. proposals only where two leads decide ---------------------------------------------


@pytest.fixture
def in_selection(call, draft, coordinator):
    accepted(draft, coordinator)
    reviewers_go_on(
        task_id=open_task(draft, NominationFlow.find_reviewers).pk, by=coordinator, note="None."
    )
    return open_task(draft, NominationFlow.select)


def test_a_one_lead_call_takes_no_proposal(in_selection, draft, lead):
    with pytest.raises(NominationError, match="only one lead"):
        selection_propose(task_id=in_selection.pk, by=lead, outcome="national", rationale="Good.")
    assert not SelectionProposal.objects.exists()


def test_a_decision_ends_any_proposal_of_the_nomination(in_selection, draft, call, lead):
    other_lead = UserFactory(username="lead-2")
    call.leads.add(other_lead)
    SelectionProposal.objects.create(  # left from when the call needed two leads
        nomination=draft, outcome="national", rationale="Good.", proposed_by=lead, version=1
    )

    selection_decide(
        task_id=in_selection.pk, by=other_lead, outcome="not_selected", rationale="No."
    )

    assert not SelectionProposal.objects.filter(nomination=draft).exists()
