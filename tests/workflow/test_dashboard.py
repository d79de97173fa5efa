"""Dashboards: the figures, who may see them, and bounded queries."""

import pytest
from django.urls import reverse
from django.utils import timezone

from reviewers.models import Review
from workflow.flows import NominationFlow
from workflow.services import nomination_submit

from ..factories import CallFactory, NominationFactory, UserFactory
from .helpers import open_tasks
from .test_reviewer_pages import accepted

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def running(call, draft, coordinator, reviewers, countries):
    """The Swedish nomination in review with two reviewers (one overdue); a French one screening."""
    accepted(draft, coordinator)
    first, _second = open_tasks(draft, NominationFlow.review)
    first.scheduled = timezone.now() - timezone.timedelta(days=2)
    first.save(update_fields=["scheduled"])
    french = NominationFactory(call=call, country=countries["FR"])
    nomination_submit(nomination=french, by=french.nominator)
    return first


def test_the_dashboard_shows_pipeline_progress_overdue_and_workload(
    client, call, running, lead, countries
):
    client.force_login(lead)

    page = client.get(reverse("workflow:dashboard", args=[call.pk]))

    assert page.status_code == 200
    figures = page.context["figures"]
    rows = dict(figures["pipeline"]["rows"])
    columns = figures["pipeline"]["columns"]
    assert rows[countries["SE"].name][columns.index("Peer review")] == 1
    assert rows[countries["FR"].name][columns.index("National screening")] == 1
    assert dict(figures["review_progress"])["Assigned"] == 2
    owner = running.owner
    assert figures["overdue_by_person"] == [(owner.get_full_name(), 1)]
    assert sorted(load for _name, load, _capacity in figures["workload"]) == [1, 1]
    html = page.content.decode()
    # The numbers are in tables for anyone without JavaScript; the charts read the same.
    assert '<script id="pipeline-chart" type="application/json">' in html
    assert owner.get_full_name() in html


@pytest.mark.parametrize("role", ["nominator", "reviewer", "other_lead"])
def test_nominators_reviewers_and_other_calls_leads_see_no_dashboard(
    client, request, call, running, role
):
    if role == "reviewer":
        person = running.owner
    elif role == "other_lead":
        person = UserFactory(username="lead-elsewhere")
        CallFactory().leads.add(person)
    else:
        person = request.getfixturevalue(role)
    client.force_login(person)

    assert client.get(reverse("workflow:dashboard", args=[call.pk])).status_code == 404
    assert client.get(reverse("workflow:dashboard_all")).status_code == 404


def test_admins_see_every_call_together(client, call, running):
    admin = UserFactory(username="admin", is_staff=True)
    other = CallFactory()
    NominationFactory(call=other, stage="screening")
    client.force_login(admin)

    figures = client.get(reverse("workflow:dashboard_all")).context["figures"]

    total = sum(sum(counts) for _country, counts in figures["pipeline"]["rows"])
    assert total == 3


def test_the_dashboard_costs_the_same_queries_however_many_nominations(
    client, call, running, lead, countries, theme, django_assert_num_queries
):
    client.force_login(lead)
    url = reverse("workflow:dashboard", args=[call.pk])
    client.get(url)
    # The page's overhead, the call, the access check, then one query per figure (the
    # pipeline, its countries, reviews, overdue tasks, workload, scores).
    with django_assert_num_queries(16):
        client.get(url)
    for _ in range(3):
        NominationFactory(call=call, country=countries["ES"], stage="screening")
    Review.objects.create(
        nomination=running.process.nominationprocess.nomination,
        reviewer=UserFactory(username="extra"),
    )
    with django_assert_num_queries(16):
        client.get(url)


def test_a_coordinator_sees_only_their_countrys_figures(client, call, running, coordinator):
    client.force_login(coordinator)  # Sweden's

    figures = client.get(reverse("workflow:dashboard", args=[call.pk])).context["figures"]

    swedish = running.process.nominationprocess.nomination
    assert [country for country, _counts in figures["pipeline"]["rows"]] == [swedish.country.name]
    assert sum(sum(counts) for _country, counts in figures["pipeline"]["rows"]) == 1
