"""The page benchmark's data (bench/pages.py) is shaped as the flow would shape it."""

from collections import Counter, defaultdict

import pytest
from django.db import connection
from django.db.models import F
from viewflow.workflow.models import Task

from bench import pages
from nominations.models import Nomination
from reviewers.models import CriterionScore, Review, ScoreSummary
from workflow.deadlines import OPEN_TASK_STATUSES

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the generator copies rows with PostgreSQL COPY"
    ),
]


@pytest.fixture
def built():
    return pages.build(nominations=200, seed=3)


def test_every_process_has_the_open_tasks_of_its_nominations_stage(built):
    assert built["counts"]["nominations"] == 200
    assert set(built["counts"]["stages"]) == set(Nomination.Stage.values)
    assert pages.check_consistency() == []


def test_a_copy_has_its_templates_task_chain_with_the_nominations_own_people(built):
    for nomination in Nomination.objects.exclude(stage=Nomination.Stage.DRAFT).select_related(
        "process", "country", "call"
    ):
        tasks = list(Task.objects.filter(process=nomination.process).order_by("pk"))
        names = [task.flow_task.name for task in tasks]
        assert names[0] == "submit"
        # Every task but the first follows one before it in the same process.
        for task in tasks[1:]:
            previous = list(task.previous.all())
            assert previous, (nomination.stage, names)
            assert {p.process_id for p in previous} == {nomination.process.pk}
        for task in tasks:
            if task.flow_task.name == "review":
                review = Review.objects.get(pk=task.data["review_id"])
                assert review.nomination_id == nomination.pk
                assert task.owner_id == review.reviewer_id
                assert review.reviewer.reviewer_profile.country_id != nomination.country_id
            if task.flow_task.name == "screen" and task.owner_id:
                assert nomination.country.coordinators.filter(pk=task.owner_id).exists()
            if task.flow_task.name == "select" and task.owner_id:
                assert nomination.call.leads.filter(pk=task.owner_id).exists()
            if task.flow_task.name == "revise":
                assert task.owner_id == nomination.nominator_id


def test_decided_nominations_have_a_decision_and_three_scored_reviews(built):
    decided = Nomination.objects.filter(stage=Nomination.Stage.DECIDED)
    assert decided.exists()
    for nomination in decided:
        assert nomination.decision.decided_by in nomination.call.leads.all()
        scores = Counter(
            review.scores.count()
            for review in nomination.reviews.filter(status=Review.Status.SUBMITTED)
        )
        assert scores == Counter({5: 3})
    open_tasks = Task.objects.filter(
        process__nominationprocess__nomination__in=decided, status__in=OPEN_TASK_STATUSES
    )
    assert not open_tasks.exists()


def test_the_copies_score_summaries_equal_their_raw_scores(built):
    """The board ranks from ``ScoreSummary``: copied rows must say what the copied scores say."""
    given = defaultdict(list)
    for nomination_id, criterion_id, score in CriterionScore.objects.filter(
        review__status=Review.Status.SUBMITTED, score__isnull=False
    ).values_list("review__nomination", "criterion", "score"):
        given[(nomination_id, criterion_id)].append(score)
    expected = {key: (sum(s), len(s), max(s), min(s)) for key, s in given.items()}

    stored = {
        (s.nomination_id, s.criterion_id): (s.total, s.count, s.high, s.low)
        for s in ScoreSummary.objects.all()
    }

    assert stored == expected
    # The copies have rows of their own, each naming a criterion of its nomination's call.
    assert len({nomination_id for nomination_id, _criterion in stored}) > 50
    assert not ScoreSummary.objects.exclude(criterion__call=F("nomination__call")).exists()
