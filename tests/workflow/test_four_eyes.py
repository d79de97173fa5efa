"""A call may require two leads for every decision: one proposes, another confirms."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from nominations.models import Nomination, SelectionDecision, SelectionProposal
from nominations.services import NominationError
from workflow.flows import NominationFlow
from workflow.services import (
    reviewers_go_on,
    selection_confirm,
    selection_decide,
    selection_propose,
    selection_return,
)

from ..factories import UserFactory
from .helpers import open_task
from .test_reviewer_pages import accepted

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def second_lead(call):
    user = UserFactory(username="lead-2")
    call.leads.add(user)
    return user


@pytest.fixture
def in_selection(call, draft, coordinator, second_lead):
    """The Swedish nomination in selection (without reviews), in a call needing two leads."""
    call.require_two_leads = True
    call.save()
    accepted(draft, coordinator)
    reviewers_go_on(
        task_id=open_task(draft, NominationFlow.find_reviewers).pk, by=coordinator, note="None."
    )
    return open_task(draft, NominationFlow.select)


def test_one_lead_alone_can_never_decide(in_selection, draft, lead):
    with pytest.raises(NominationError, match="two leads"):
        selection_decide(task_id=in_selection.pk, by=lead, outcome="national", rationale="Good.")
    proposal = selection_propose(
        task_id=in_selection.pk, by=lead, outcome="national", rationale="Good."
    )
    with pytest.raises(NominationError, match="no lead decides alone"):
        selection_confirm(task_id=in_selection.pk, by=lead, version=proposal.version)

    draft.refresh_from_db()
    assert draft.stage == Nomination.Stage.SELECTION
    assert not SelectionDecision.objects.exists()
    assert open_task(draft, NominationFlow.select).pk == in_selection.pk


def test_a_second_lead_confirms_and_the_decision_names_both(in_selection, draft, lead, second_lead):
    proposal = selection_propose(
        task_id=in_selection.pk, by=lead, outcome="national", rationale="Good."
    )

    decision = selection_confirm(task_id=in_selection.pk, by=second_lead, version=proposal.version)

    draft.refresh_from_db()
    assert draft.stage == Nomination.Stage.DECIDED
    assert (decision.outcome, decision.decided_by, decision.confirmed_by) == (
        "national",
        lead,
        second_lead,
    )
    assert not SelectionProposal.objects.exists()
    assert list(draft.events.values_list("action", flat=True))[-2:] == [
        "decision_proposed",
        "decided",
    ]


def test_a_second_lead_sends_it_back_and_a_lead_proposes_again(
    in_selection, draft, lead, second_lead
):
    first = selection_propose(
        task_id=in_selection.pk, by=lead, outcome="not_selected", rationale="Weak."
    )
    with pytest.raises(NominationError):
        selection_return(task_id=in_selection.pk, by=lead, version=first.version, note="Mine.")

    selection_return(
        task_id=in_selection.pk, by=second_lead, version=first.version, note="Strong evidence."
    )

    assert not SelectionProposal.objects.exists()
    assert draft.events.filter(action="decision_returned", actor=second_lead).exists()
    again = selection_propose(
        task_id=in_selection.pk, by=second_lead, outcome="national", rationale="Ok."
    )
    decision = selection_confirm(task_id=in_selection.pk, by=lead, version=again.version)
    assert decision.outcome == "national"


def test_the_page_lets_the_second_lead_confirm_and_the_first_only_wait(
    client, in_selection, draft, lead, second_lead
):
    url = reverse("workflow:task", args=[in_selection.pk])
    client.force_login(lead)
    client.post(url, {"action": "propose", "outcome": "transnational", "rationale": "Great."})

    own = client.get(url).content.decode()
    assert "no lead decides alone" in own and 'value="confirm"' not in own
    version = SelectionProposal.objects.get().version
    forged = client.post(url, {"action": "confirm", "version": version})
    assert forged.status_code == 200 and not SelectionDecision.objects.exists()

    client.force_login(second_lead)
    assert f'name="version" value="{version}"' in client.get(url).content.decode()
    response = client.post(url, {"action": "confirm", "version": version})

    assert response.status_code == 302
    assert SelectionDecision.objects.get().confirmed_by == second_lead
    # The nominator reads the decision, never who proposed or confirmed it.
    client.force_login(draft.nominator)
    page = client.get(reverse("nominations:detail", args=[draft.pk])).content.decode()
    assert "Great." in page and "decision_proposed" not in page
    assert second_lead.email not in page


def test_a_proposal_changed_after_the_second_lead_read_it_is_not_confirmed(
    client, in_selection, draft, lead, second_lead
):
    """Lead A proposes, B opens the page, A changes the proposal: B's confirmation fails."""
    url = reverse("workflow:task", args=[in_selection.pk])
    client.force_login(lead)
    client.post(url, {"action": "propose", "outcome": "national", "rationale": "Local value."})
    seen = SelectionProposal.objects.get().version

    client.force_login(second_lead)
    assert f'name="version" value="{seen}"' in client.get(url).content.decode()
    client.force_login(lead)
    client.post(url, {"action": "propose", "outcome": "transnational", "rationale": "Changed."})
    client.force_login(second_lead)
    response = client.post(url, {"action": "confirm", "version": seen})

    assert response.status_code == 200
    assert "The proposal changed after you opened this page" in response.content.decode()
    assert not SelectionDecision.objects.exists()
    assert SelectionProposal.objects.get().outcome == "transnational"
    # Posting without a version, or with a guessed one, confirms nothing either.
    client.post(url, {"action": "confirm"})
    client.post(url, {"action": "confirm", "version": "nonsense"})
    assert not SelectionDecision.objects.exists()


def test_a_version_is_never_reused_after_a_proposal_is_sent_back(in_selection, lead, second_lead):
    """Sent back and proposed anew, a proposal must not match the version read before."""
    seen = selection_propose(task_id=in_selection.pk, by=lead, outcome="national", rationale="A")
    selection_return(task_id=in_selection.pk, by=second_lead, version=seen.version, note="No.")
    anew = selection_propose(
        task_id=in_selection.pk, by=lead, outcome="transnational", rationale="B"
    )

    assert anew.version != seen.version
    with pytest.raises(NominationError, match="changed after you opened"):
        selection_confirm(task_id=in_selection.pk, by=second_lead, version=seen.version)
    assert not SelectionDecision.objects.exists()


def test_the_second_lead_cannot_overwrite_the_first_leads_proposal(
    client, in_selection, lead, second_lead
):
    url = reverse("workflow:task", args=[in_selection.pk])
    client.force_login(lead)
    client.post(url, {"action": "propose", "outcome": "national", "rationale": "Mine."})

    client.force_login(second_lead)
    response = client.post(
        url, {"action": "propose", "outcome": "not_selected", "rationale": "Overwritten."}
    )

    assert response.status_code == 200
    assert "has already proposed a decision" in response.content.decode()
    proposal = SelectionProposal.objects.get()
    assert (proposal.outcome, proposal.rationale, proposal.proposed_by) == (
        "national",
        "Mine.",
        lead,
    )


def test_the_database_refuses_a_decision_confirmed_by_its_own_proposer(draft, lead):
    with pytest.raises(IntegrityError), transaction.atomic():
        SelectionDecision.objects.create(
            nomination=draft,
            outcome="national",
            rationale="Alone.",
            decided_by=lead,
            confirmed_by=lead,
        )
