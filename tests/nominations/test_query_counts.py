"""Every list page costs the same number of queries for one row as for three.

Each test measures a page with one row, adds rows, and asserts the same exact
count again: a count that grows with the rows is an N+1 query, and a count that
changes at all is a regression worth reading about.
"""

import pytest
from django.urls import reverse

from workflow.flows import NominationFlow
from workflow.services import (
    ScreeningDecision,
    nomination_screen,
    nomination_submit,
    review_submit,
)

from ..factories import NominationFactory, ReviewerFactory
from ..workflow.helpers import full_scores, open_task, open_tasks

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

#: Queries every signed-in page makes besides its own: the session, the user,
#: whether a staff role has its second factor (config.signin), the navigation's roles
#: (coordinated countries, reviewer profile, led calls) and the bell's unread count.
PAGE_OVERHEAD = 7

MY_NOMINATIONS_QUERIES = PAGE_OVERHEAD + 1  # the nominations with call, country, next due
#: The tasks with their nomination, country and call; the calls waiting for bulk assignment.
INBOX_QUERIES = PAGE_OVERHEAD + 2
HOME_QUERIES = PAGE_OVERHEAD + 2  # the tasks; the nominations
#: The visible nominations with call, country and next due; the calls they may export.
OVERVIEW_QUERIES = PAGE_OVERHEAD + 2
#: The task with its nomination, the pool check, the rubric, the reviews with their
#: reviewers, their scores, the survey questions, the country, themes and attachments.
SELECTION_PAGE_QUERIES = PAGE_OVERHEAD + 9


def nominate(*, call, nominator, country, theme, submit=True):
    nomination = NominationFactory(call=call, nominator=nominator, country=country, themes=[theme])
    if submit:
        nomination_submit(nomination=nomination, by=nominator)
    return nomination


def accept(nomination, coordinator):
    nomination_screen(
        task_id=open_task(nomination, NominationFlow.screen).pk,
        by=coordinator,
        decision=ScreeningDecision.ACCEPT,
    )


def submit_reviews(nomination):
    for task in open_tasks(nomination, NominationFlow.review):
        review_submit(
            task_id=task.pk, by=task.owner, scores=full_scores(nomination.call), comment="Solid"
        )


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response


@pytest.fixture
def se_nomination(call, nominator, countries, theme):
    """Make one more submitted Swedish nomination by the nominator."""

    def make(**kwargs):
        return nominate(
            call=call, nominator=nominator, country=countries["SE"], theme=theme, **kwargs
        )

    return make


def test_my_nominations_costs_the_same_queries_for_one_or_three_rows(
    client, django_assert_num_queries, nominator, coordinator, se_nomination
):
    url = reverse("nominations:list")
    se_nomination()
    client.force_login(nominator)

    with django_assert_num_queries(MY_NOMINATIONS_QUERIES):
        one = get(client, url)
    se_nomination(submit=False)
    accept(se_nomination(), coordinator)
    with django_assert_num_queries(MY_NOMINATIONS_QUERIES):
        three = get(client, url)

    assert (len(one.context["nominations"]), len(three.context["nominations"])) == (1, 3)


def test_coordinators_inbox_costs_the_same_queries_for_one_or_three_pool_tasks(
    client, django_assert_num_queries, coordinator, se_nomination
):
    url = reverse("workflow:inbox")
    se_nomination()
    client.force_login(coordinator)

    with django_assert_num_queries(INBOX_QUERIES):
        one = get(client, url)
    se_nomination()
    se_nomination()
    with django_assert_num_queries(INBOX_QUERIES):
        three = get(client, url)

    assert (len(one.context["tasks"]), len(three.context["tasks"])) == (1, 3)
    assert {t.owner for t in three.context["tasks"]} == {None}


def test_reviewers_inbox_costs_the_same_queries_for_one_or_three_review_tasks(
    client, django_assert_num_queries, call, coordinator, reviewers, se_nomination
):
    call.reviewers_per_nomination = 3
    call.save(update_fields=["reviewers_per_nomination"])
    reviewer = reviewers[0]
    url = reverse("workflow:inbox")
    accept(se_nomination(), coordinator)
    client.force_login(reviewer)

    with django_assert_num_queries(INBOX_QUERIES):
        one = get(client, url)
    accept(se_nomination(), coordinator)
    accept(se_nomination(), coordinator)
    with django_assert_num_queries(INBOX_QUERIES):
        three = get(client, url)

    assert (len(one.context["tasks"]), len(three.context["tasks"])) == (1, 3)
    assert {t.owner for t in three.context["tasks"]} == {reviewer}


def test_home_costs_the_same_queries_for_one_or_three_tasks_and_nominations(
    client, django_assert_num_queries, call, countries, theme, coordinator, se_nomination
):
    """A coordinator who also nominates sees pool tasks and own nominations at once."""
    url = reverse("workflow:home")

    def own_nomination():
        nominate(call=call, nominator=coordinator, country=countries["FR"], theme=theme)

    se_nomination()
    own_nomination()
    client.force_login(coordinator)

    with django_assert_num_queries(HOME_QUERIES):
        one = get(client, url)
    for _ in range(2):
        se_nomination()
        own_nomination()
    with django_assert_num_queries(HOME_QUERIES):
        three = get(client, url)

    assert (len(one.context["tasks"]), len(one.context["nominations"])) == (1, 1)
    assert (len(three.context["tasks"]), len(three.context["nominations"])) == (3, 3)


def test_nominations_i_follow_costs_the_same_queries_for_one_or_three_rows(
    client, django_assert_num_queries, coordinator, se_nomination
):
    url = reverse("nominations:overview")
    se_nomination()
    client.force_login(coordinator)

    with django_assert_num_queries(OVERVIEW_QUERIES):
        one = get(client, url)
    se_nomination()
    accept(se_nomination(), coordinator)
    with django_assert_num_queries(OVERVIEW_QUERIES):
        three = get(client, url)

    assert (len(one.context["nominations"]), len(three.context["nominations"])) == (1, 3)


def test_selection_page_costs_the_same_queries_for_one_or_three_reviews(
    client, django_assert_num_queries, call, countries, coordinator, reviewers, lead, se_nomination
):
    # A fourth reviewer, so that the pool has more people than one nomination needs.
    ReviewerFactory(
        username="reviewer-lv-2",
        reviewer_profile__country=countries["LV"],
        reviewer_profile__expertise=list(call.themes.all()),
    )
    client.force_login(lead)

    def selection_page(reviewers_per_nomination):
        call.reviewers_per_nomination = reviewers_per_nomination
        call.save(update_fields=["reviewers_per_nomination"])
        nomination = se_nomination()
        accept(nomination, coordinator)
        submit_reviews(nomination)
        return reverse("workflow:task", args=[open_task(nomination, NominationFlow.select).pk])

    one_url = selection_page(1)
    three_url = selection_page(3)

    with django_assert_num_queries(SELECTION_PAGE_QUERIES):
        one = get(client, one_url)
    with django_assert_num_queries(SELECTION_PAGE_QUERIES):
        three = get(client, three_url)

    one_reviews, three_reviews = (
        one.context["summary"]["reviews"],
        three.context["summary"]["reviews"],
    )
    assert (len(one_reviews), len(three_reviews)) == (1, 3)
    assert len({review.reviewer for review, _scores in three_reviews}) == 3
