"""A call may require two leads for every decision: one proposes, another confirms."""

import pytest
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
    selection_propose(task_id=in_selection.pk, by=lead, outcome="national", rationale="Good.")
    with pytest.raises(NominationError, match="no lead decides alone"):
        selection_confirm(task_id=in_selection.pk, by=lead)

    draft.refresh_from_db()
    assert draft.stage == Nomination.Stage.SELECTION
    assert not SelectionDecision.objects.exists()
    assert open_task(draft, NominationFlow.select).pk == in_selection.pk


def test_a_second_lead_confirms_and_the_decision_names_both(in_selection, draft, lead, second_lead):
    selection_propose(task_id=in_selection.pk, by=lead, outcome="national", rationale="Good.")

    decision = selection_confirm(task_id=in_selection.pk, by=second_lead)

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
    selection_propose(task_id=in_selection.pk, by=lead, outcome="not_selected", rationale="Weak.")
    with pytest.raises(NominationError):
        selection_return(task_id=in_selection.pk, by=lead, note="Mine.")

    selection_return(task_id=in_selection.pk, by=second_lead, note="The evidence is strong.")

    assert not SelectionProposal.objects.exists()
    assert draft.events.filter(action="decision_returned", actor=second_lead).exists()
    selection_propose(task_id=in_selection.pk, by=second_lead, outcome="national", rationale="Ok.")
    decision = selection_confirm(task_id=in_selection.pk, by=lead)
    assert decision.outcome == "national"


def test_the_page_lets_the_second_lead_confirm_and_the_first_only_wait(
    client, in_selection, draft, lead, second_lead
):
    url = reverse("workflow:task", args=[in_selection.pk])
    client.force_login(lead)
    client.post(url, {"action": "propose", "outcome": "transnational", "rationale": "Great."})

    own = client.get(url).content.decode()
    assert "no lead decides alone" in own and 'value="confirm"' not in own
    forged = client.post(url, {"action": "confirm"})
    assert forged.status_code == 200 and not SelectionDecision.objects.exists()

    client.force_login(second_lead)
    assert 'value="confirm"' in client.get(url).content.decode()
    response = client.post(url, {"action": "confirm"})

    assert response.status_code == 302
    assert SelectionDecision.objects.get().confirmed_by == second_lead
    # The nominator reads the decision, never who proposed or confirmed it.
    client.force_login(draft.nominator)
    page = client.get(reverse("nominations:detail", args=[draft.pk])).content.decode()
    assert "Great." in page and "decision_proposed" not in page
    assert second_lead.email not in page
