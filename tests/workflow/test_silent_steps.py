"""Steps that used to happen in silence now tell the people who must act or who care."""

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from nominations.models import PublishedPractice
from notifications.models import Message
from workflow.flows import NominationFlow
from workflow.services import (
    practice_public_save,
    reviewers_go_on,
    selection_propose,
    selection_return,
)

from ..factories import NominationFactory, UserFactory
from ..nominations.test_hub import decided, text_of
from .helpers import open_task
from .test_reviewer_pages import accepted

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def act(django_capture_on_commit_callbacks):
    def run(action, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(**kwargs)

    return run


@pytest.fixture
def leads(call, lead):
    others = [UserFactory(username="lead-2"), UserFactory(username="lead-3")]
    call.leads.add(*others)
    return [lead, *others]


@pytest.fixture
def in_selection(call, draft, coordinator, leads):
    call.require_two_leads = True
    call.save()
    accepted(draft, coordinator)
    reviewers_go_on(
        task_id=open_task(draft, NominationFlow.find_reviewers).pk, by=coordinator, note="None."
    )
    mail.outbox.clear()
    return open_task(draft, NominationFlow.select)


def task_link(task):
    return settings.SITE_URL.rstrip("/") + reverse("workflow:task", args=[task.pk])


def test_a_proposal_tells_the_calls_other_leads_to_confirm_or_send_it_back(
    act, in_selection, draft, leads
):
    proposer, *others = leads
    act(
        selection_propose,
        task_id=in_selection.pk,
        by=proposer,
        outcome="national",
        rationale="Strong local results.",
    )

    subject = f"A decision on “{draft.title}” waits for your confirmation"
    assert sorted((tuple(e.to), e.subject) for e in mail.outbox) == sorted(
        ((lead.email,), subject) for lead in others
    )
    email = mail.outbox[0]
    assert "Strong local results." in email.body
    assert "Selected for the national showcase" in email.body
    assert task_link(in_selection) in email.body
    assert Message.objects.get(recipient=others[0], kind="selection_proposed").is_essential


def test_a_proposal_sent_back_tells_its_proposer_with_the_note(act, in_selection, draft, leads):
    proposer, second, _third = leads
    proposal = act(
        selection_propose, task_id=in_selection.pk, by=proposer, outcome="national", rationale="Ok."
    )
    mail.outbox.clear()

    act(
        selection_return,
        task_id=in_selection.pk,
        by=second,
        version=proposal.version,
        note="Please weigh the evidence again.",
    )

    (email,) = mail.outbox
    assert email.to == [proposer.email]
    assert email.subject == f"Your proposed decision on “{draft.title}” was sent back"
    assert "Please weigh the evidence again." in email.body
    assert task_link(in_selection) in email.body


def test_publishing_a_practice_tells_its_nominator_once_with_the_hub_link(
    act, call, countries, theme, lead, coordinator
):
    nomination = decided(
        NominationFactory(call=call, country=countries["SE"], themes=[theme], title="Mentors"),
        lead,
    )

    def save(publish):
        return act(
            practice_public_save,
            nomination=nomination,
            by=coordinator,
            fields=text_of(nomination),
            publish=publish,
        )

    save(True)
    save(None)
    save(False)
    save(True)

    practice = PublishedPractice.objects.get(nomination=nomination)
    (email,) = mail.outbox
    assert email.to == [nomination.nominator.email]
    assert email.subject == "“Mentors” is published in the knowledge hub"
    hub_link = settings.SITE_URL.rstrip("/") + reverse("hub:detail", args=[practice.pk])
    assert hub_link in email.body


def test_the_public_text_page_publishes_through_the_telling_service(
    client, call, countries, theme, lead, coordinator, django_capture_on_commit_callbacks
):
    from ..signin import sign_in

    nomination = decided(
        NominationFactory(call=call, country=countries["SE"], themes=[theme], title="Mentors"),
        lead,
    )
    sign_in(client, coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("nominations:public", args=[nomination.pk]),
            {**text_of(nomination), "action": "publish"},
        )

    assert [e.to for e in mail.outbox] == [[nomination.nominator.email]]
