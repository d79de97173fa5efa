"""A link to a task that is over (from an old email) says what became of it."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from viewflow.workflow.models import Task

from nominations.accounts import user_display
from workflow.flows import NominationFlow
from workflow.services import review_decline

from ..factories import UserFactory
from ..signin import sign_in
from .test_reviewer_pages import accepted

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def screening_task(nomination):
    return Task.objects.get(
        process__nominationprocess__nomination=nomination, flow_task=NominationFlow.screen
    )


def test_a_coordinator_following_a_screening_done_by_a_colleague_is_told_who_and_where_it_is(
    client, draft, coordinator, countries, reviewers
):
    colleague = UserFactory(username="coordinator-se-2")
    countries["SE"].coordinators.add(colleague)
    accepted(draft, coordinator)
    sign_in(client, colleague)

    response = client.get(reverse("workflow:task", args=[screening_task(draft).pk]))

    assert response.status_code == 302
    assert response.url == reverse("nominations:detail", args=[draft.pk])
    (message,) = [str(m) for m in get_messages(response.wsgi_request) if "This task" in str(m)]
    assert message.startswith(f"This task was completed by {user_display(coordinator)} on ")
    assert message.endswith("The nomination is now at the stage: Peer review.")


def test_a_reviewer_who_declined_gets_a_404_not_the_nomination(
    client, draft, coordinator, reviewers
):
    accepted(draft, coordinator)
    task = Task.objects.filter(
        process__nominationprocess__nomination=draft, flow_task=NominationFlow.review
    ).first()
    review_decline(task_id=task.pk, by=task.owner, reason="No time.")
    sign_in(client, task.owner)

    assert client.get(reverse("workflow:task", args=[task.pk])).status_code == 404


def test_a_stranger_gets_a_404(client, draft, coordinator, reviewers):
    accepted(draft, coordinator)
    sign_in(client, UserFactory(username="stranger"))

    assert client.get(reverse("workflow:task", args=[screening_task(draft).pk])).status_code == 404
