"""The board's score summaries always equal what the raw scores of submitted reviews say.

``ScoreSummary`` rows are written by the review services (a submitted review's scores
added in the statement that marks it submitted), never recomputed on the way to the
board: after any sequence of drafts, submissions, declines and removals through the
real services, each row must equal the sum, count, highest and lowest score computed
here again from the ``CriterionScore`` rows of the submitted reviews.
"""

import io
from collections import defaultdict

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nominations.services import NominationError
from reviewers.models import CriterionScore, Review, ScoreSummary
from reviewers.services import (
    review_mark_submitted,
    review_save_draft,
    score_summaries_rebuild,
)
from workflow.flows import NominationFlow
from workflow.services import TaskUnavailable, review_decline, review_remove, review_submit

from ..factories import NominationFactory, ReviewerFactory
from ..workflow.helpers import open_tasks
from ..workflow.test_reviewer_pages import accepted

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def summaries():
    """{(nomination id, criterion id): (total, count, high, low)} as stored."""
    return {
        (s.nomination_id, s.criterion_id): (s.total, s.count, s.high, s.low)
        for s in ScoreSummary.objects.all()
    }


def recomputed():
    """The same, from the raw rows: every score given in a submitted review, in Python."""
    given = defaultdict(list)
    for nomination_id, criterion_id, score in CriterionScore.objects.filter(
        review__status=Review.Status.SUBMITTED, score__isnull=False
    ).values_list("review__nomination", "criterion", "score"):
        given[(nomination_id, criterion_id)].append(score)
    return {key: (sum(s), len(s), max(s), min(s)) for key, s in given.items()}


@pytest.fixture
def two_in_review(call, countries, theme, coordinator, reviewers, draft):
    """Two Swedish nominations in review, three reviewers each, and a fourth reviewer
    available to replace one who declines or is removed."""
    call.reviewers_per_nomination = 3
    call.save()
    ReviewerFactory(
        username="reviewer-fr-2",
        reviewer_profile__country=countries["FR"],
        reviewer_profile__expertise=[theme],
    )
    other = NominationFactory(
        call=call, nominator=draft.nominator, country=countries["SE"], themes=[theme]
    )
    return [accepted(draft, coordinator), accepted(other, coordinator)]


score = st.sampled_from([None, 1, 2, 3, 4, 5])
action = st.tuples(
    st.sampled_from(["draft", "submit", "submit", "decline", "remove"]),
    st.integers(0, 1),  # which nomination
    st.integers(0, 3),  # which of its open review tasks
    st.lists(score, min_size=3, max_size=3),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(action, min_size=1, max_size=8))
def test_summaries_equal_the_raw_scores_after_any_sequence_of_review_steps(
    two_in_review, call, coordinator, actions
):
    criteria = [c.pk for c in call.criteria.all()]
    savepoint = transaction.savepoint()
    try:
        for kind, which, position, scores in actions:
            tasks = open_tasks(two_in_review[which], NominationFlow.review)
            if not tasks:
                continue
            task = tasks[position % len(tasks)]
            review = Review.objects.get(pk=task.data["review_id"])
            given = {pk: (value, "") for pk, value in zip(criteria, scores, strict=True)}
            try:
                if kind == "draft":
                    review_save_draft(review=review, by=task.owner, scores=given, comment="")
                elif kind == "submit":
                    full = {pk: (value or 3, "") for pk, (value, _c) in given.items()}
                    review_submit(task_id=task.pk, by=task.owner, scores=full, comment="Done.")
                elif kind == "decline":
                    review_decline(task_id=task.pk, by=task.owner, reason="On leave.")
                else:
                    review_remove(task_id=task.pk, by=coordinator, reason="A conflict.")
            except (NominationError, TaskUnavailable):
                pass
            assert summaries() == recomputed()
    finally:
        transaction.savepoint_rollback(savepoint)


def test_a_submitted_review_counts_once_and_a_draft_not_at_all(two_in_review, call):
    nomination = two_in_review[0]
    first, second, _third = open_tasks(nomination, NominationFlow.review)
    innovation, impact, transfer = (c.pk for c in call.criteria.all())
    first_review = Review.objects.get(pk=first.data["review_id"])
    review_save_draft(
        review=first_review,
        by=first.owner,
        scores={innovation: (1, ""), impact: (None, ""), transfer: (5, "")},
        comment="",
    )
    assert summaries() == {}  # a draft is not on the board

    review_submit(
        task_id=first.pk,
        by=first.owner,
        scores={innovation: (4, ""), impact: (2, ""), transfer: (5, "")},
        comment="",
    )
    review_submit(
        task_id=second.pk,
        by=second.owner,
        scores={innovation: (2, ""), impact: (2, ""), transfer: (3, "")},
        comment="",
    )

    assert summaries() == {
        (nomination.pk, innovation): (6, 2, 4, 2),
        (nomination.pk, impact): (4, 2, 2, 2),
        (nomination.pk, transfer): (8, 2, 5, 3),
    }
    # Marking a review submitted again adds nothing twice.
    review_mark_submitted(review=Review.objects.get(pk=first.data["review_id"]))
    assert summaries() == recomputed()


def test_a_rebuild_gives_what_the_services_kept(two_in_review, call):
    nomination = two_in_review[0]
    for task in open_tasks(nomination, NominationFlow.review):
        review_submit(
            task_id=task.pk,
            by=task.owner,
            scores={c.pk: (1 + (task.pk + c.pk) % 5, "") for c in call.criteria.all()},
            comment="",
        )
    kept = summaries()

    score_summaries_rebuild(nominations=[nomination.pk])

    assert summaries() == kept == recomputed()
    assert len(kept) == 3


def test_the_command_finds_and_rebuilds_summaries_that_differ_from_the_scores(two_in_review, call):
    """As after a release where a node still ran the old code: a review submitted there
    left no summary, another nomination's row was changed by hand."""
    first, second = two_in_review
    for nomination in (first, second):
        for task in open_tasks(nomination, NominationFlow.review):
            review_submit(
                task_id=task.pk,
                by=task.owner,
                scores={c.pk: (1 + (task.pk + c.pk) % 5, "") for c in call.criteria.all()},
                comment="",
            )
    ScoreSummary.objects.filter(nomination=first).delete()
    ScoreSummary.objects.filter(nomination=second).update(high=5, low=1)
    assert summaries() != recomputed()

    with pytest.raises(CommandError, match=rf"2 nominations.*{first.pk}, {second.pk}\."):
        call_command("score_summaries", "--check")
    output = io.StringIO()
    call_command("score_summaries", stdout=output)

    assert f"of 2 nominations: {first.pk}, {second.pk}." in output.getvalue()
    assert summaries() == recomputed()
    call_command("score_summaries", "--check", stdout=io.StringIO())
    call_command("score_summaries", "--call", str(call.pk), stdout=output)
    assert "Rebuilt the score summaries of 0 nominations." in output.getvalue()
