"""Reads of reviews, bounded in queries."""

from statistics import mean

from django.db.models import Prefetch

from .models import CriterionScore, Review


def submitted_reviews_summary(*, nomination):
    """All submitted reviews of a nomination side by side, with the mean per criterion.

    Returns ``{"criteria": [...], "reviews": [(review, [score or None per criterion])],
    "means": [mean or None per criterion]}``. For leads and admins only.
    """
    criteria = list(nomination.call.criteria.all())
    reviews = list(
        Review.objects.filter(nomination=nomination, status=Review.Status.SUBMITTED)
        .select_related("reviewer__reviewer_profile__country")
        .prefetch_related(Prefetch("scores", queryset=CriterionScore.objects.all()))
    )
    rows = []
    for review in reviews:
        by_criterion = {score.criterion_id: score for score in review.scores.all()}
        rows.append((review, [by_criterion.get(c.pk) for c in criteria]))
    means = []
    for index, _criterion in enumerate(criteria):
        values = [row[index].score for _review, row in rows if row[index] and row[index].score]
        means.append(round(mean(values), 2) if values else None)
    return {"criteria": criteria, "reviews": rows, "means": means}
