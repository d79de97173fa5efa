"""The whole path of a nomination through the pages, as each person sees it."""

import pytest
from django.urls import reverse

from nominations.models import Nomination
from workflow.flows import NominationFlow

from ..factories import QuestionFactory
from .helpers import open_task, open_tasks

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def nomination_post_data(call, countries, theme, **overrides):
    data = {
        "title": "Neighbourhood mentors",
        "kind": "programme",
        "country": countries["SE"].pk,
        "organisation": "Malmö Neighbourhood Trust",
        "organisation_sector": "civil_society",
        "themes": [theme.pk],
        "language": "en",
        "summary": "Mentors from the neighbourhood help young people into work.",
        "problem": "Segregation.",
        "target_group": "Young people",
        "results": "300 mentees.",
        "year_started": "2012",
        "transferability": "Runs in three cities.",
        "links": "https://example.org/mentors",
        "contact_name": "Anna",
        "contact_email": "anna@example.org",
        "consent_to_publish": "on",
    }
    data.update(overrides)
    return data


def test_a_nomination_travels_from_form_to_decision(
    client, call, countries, theme, nominator, coordinator, reviewers, lead
):
    question = QuestionFactory(call=call, kind="yes_no", required=True, text="Still running?")
    client.force_login(nominator)
    form_page = client.get(reverse("nominations:create", args=[call.pk]))
    assert form_page.status_code == 200
    data = nomination_post_data(call, countries, theme, **{f"survey_{question.pk}": "yes"})
    data["client_token"] = form_page.context["form"].initial["client_token"]
    response = client.post(reverse("nominations:create", args=[call.pk]), {**data, "submit": "1"})
    nomination = Nomination.objects.get()
    assert response.status_code == 302
    assert nomination.stage == Nomination.Stage.SCREENING
    assert nomination.survey_answers == {str(question.pk): True}

    detail = client.get(reverse("nominations:detail", args=[nomination.pk]))
    assert b"National screening" in detail.content
    assert (
        client.get(reverse("nominations:flow_chart", args=[nomination.pk]))["Content-Type"]
        == "image/svg+xml"
    )

    client.force_login(coordinator)
    inbox = client.get(reverse("workflow:inbox"))
    screen = open_task(nomination, NominationFlow.screen)
    assert reverse("workflow:task", args=[screen.pk]).encode() in inbox.content
    response = client.post(
        reverse("workflow:task", args=[screen.pk]), {"decision": "accept", "message": ""}
    )
    assert response.status_code == 302

    for task in open_tasks(nomination, NominationFlow.review):
        client.force_login(task.owner)
        page = client.get(reverse("workflow:task", args=[task.pk]))
        assert page.status_code == 200
        scores = {f"score_{c.pk}": "4" for c in call.criteria.all()}
        response = client.post(
            reverse("workflow:task", args=[task.pk]), {**scores, "comment": "Fine", "submit": "1"}
        )
        assert response.status_code == 302

    client.force_login(lead)
    select = open_task(nomination, NominationFlow.select)
    page = client.get(reverse("workflow:task", args=[select.pk]))
    assert page.context["summary"]["means"] == [4, 4, 4]
    client.post(
        reverse("workflow:task", args=[select.pk]),
        {"outcome": "transnational", "rationale": "An inspiring practice."},
    )

    client.force_login(nominator)
    detail = client.get(reverse("nominations:detail", args=[nomination.pk]))
    assert b"An inspiring practice." in detail.content
    assert b"Selected for the transnational showcase" in detail.content
    for reviewer in reviewers:
        assert reviewer.email.encode() not in detail.content
