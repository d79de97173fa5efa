"""A nomination's whole lifecycle costs a fixed, small number of statements per step.

The counts are pinned exactly: a count that grows is a regression to read about
(bench/run.py --only lifecycle measures the same path outside a test, with its
BEGIN and COMMIT). Inside a test the whole test is one transaction, so each step's
own transaction is counted as a SAVEPOINT and a RELEASE instead.
"""

import pytest
from django.db import connection

from nominations.services import REQUIRED_FOR_SUBMISSION, nomination_create
from notifications.models import Message, Notification
from reviewers.models import CriterionScore
from reviewers.services import review_save_draft
from workflow.flows import NominationFlow
from workflow.services import (
    ScreeningDecision,
    nomination_screen,
    nomination_submit,
    review_submit,
    selection_decide,
)

from ..factories import CriterionFactory
from .helpers import full_scores, open_task, open_tasks

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db,
    pytest.mark.postgres,
    # The counts are PostgreSQL's: the embedded SQLite reads the matcher's inputs with the
    # ORM (reviewers.selectors._matching_rows), in more statements.
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=f"counts PostgreSQL's statements (this run uses {connection.vendor})",
    ),
]

#: Statements of each step, for a call of 3 reviewers, 5 criteria, 1 coordinator, 1 lead.
LIFECYCLE_STATEMENTS = {
    "draft": 5,
    # Themes and required questions are read after the row lock, in statements of their own:
    # a check folded into the locking read would see them as they were before the wait.
    "submit": 17,
    "accept": 22,
    "review 1": 12,
    "review 2": 12,
    "review 3": 21,
    "decide": 14,
}


@pytest.fixture
def five_criteria(call):
    for title in ["Sustainability and longevity", "Relevance to the call's themes"]:
        CriterionFactory(call=call, title=title)
    call.reviewers_per_nomination = 3
    call.save()
    return call


def test_a_whole_lifecycle_costs_the_pinned_statements_per_step(
    django_assert_num_queries, five_criteria, nominator, coordinator, lead, reviewers, theme, draft
):
    call = five_criteria
    fields = {
        name: getattr(draft, name) for name in (*REQUIRED_FOR_SUBMISSION, "consent_to_publish")
    }
    with django_assert_num_queries(LIFECYCLE_STATEMENTS["draft"]):
        nomination, _created = nomination_create(
            call=call, nominator=nominator, fields=fields, themes=[theme], survey_answers={}
        )
    with django_assert_num_queries(LIFECYCLE_STATEMENTS["submit"]):
        nomination_submit(nomination=nomination, by=nominator)
    screen = open_task(nomination, NominationFlow.screen)
    with django_assert_num_queries(LIFECYCLE_STATEMENTS["accept"]):
        nomination_screen(task_id=screen.pk, by=coordinator, decision=ScreeningDecision.ACCEPT)
    tasks = open_tasks(nomination, NominationFlow.review)
    assert len(tasks) == 3
    for number, task in enumerate(tasks, 1):
        with django_assert_num_queries(LIFECYCLE_STATEMENTS[f"review {number}"]):
            review_submit(task_id=task.pk, by=task.owner, scores=full_scores(call), comment="Good.")
    select = open_task(nomination, NominationFlow.select)
    with django_assert_num_queries(LIFECYCLE_STATEMENTS["decide"]):
        selection_decide(
            task_id=select.pk, by=lead, outcome="transnational", rationale="Strong evidence."
        )

    nomination.refresh_from_db()
    assert nomination.stage == "decided"
    assert CriterionScore.objects.filter(review__nomination=nomination).count() == 15
    # Every message once, each with its bell notification: the nominator's three, the
    # coordinator's screening task, the three reviewers' tasks and the lead's selection task.
    assert sorted(Message.objects.values_list("kind", flat=True)) == sorted(
        ["submission_received", "accepted_for_review", "decided"] + ["task_assigned"] * 5
    )
    assert Notification.objects.count() == 8


def test_saving_scores_again_changes_them_in_place(
    django_assert_num_queries, five_criteria, draft, reviewers, coordinator
):
    nomination_submit(nomination=draft, by=draft.nominator)
    nomination_screen(
        task_id=open_task(draft, NominationFlow.screen).pk,
        by=coordinator,
        decision=ScreeningDecision.ACCEPT,
    )
    review = draft.reviews.first()
    scores = full_scores(five_criteria, score=2)
    review_save_draft(review=review, by=review.reviewer, scores=scores, comment="First look.")
    review_save_draft(
        review=review,
        by=review.reviewer,
        scores=full_scores(five_criteria, score=5),
        comment="Second look.",
    )

    assert sorted(review.scores.values_list("score", flat=True)) == [5, 5, 5, 5, 5]
    assert review.scores.count() == 5
