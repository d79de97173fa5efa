"""Reads of reviews and of what the reviewer matching needs, bounded in queries."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from statistics import mean

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.utils import timezone

from .matching import Candidate, Need
from .models import (
    Bid,
    ConflictOfInterest,
    CriterionScore,
    Review,
    ReviewerProfile,
    Unavailability,
)


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


#: Reviews that count as a nomination's reviewers: in progress or done.
HELD_STATUSES = (*Review.OPEN_STATUSES, Review.Status.SUBMITTED)


def normalised(name):
    """Organisation names compare without case or extra spaces."""
    return " ".join((name or "").casefold().split())


def readable_languages(nomination):
    """A reviewer must read one of these: its language, or English if it has an English text."""
    languages = {nomination.language} if nomination.language else set()
    if nomination.language in ("", "en") or nomination.english_summary.strip():
        languages.add("en")
    return frozenset(languages)


def _declared_by_nominator(nomination):
    """The nominator's conflict lines, split into email addresses and organisation names."""
    lines = [line.strip() for line in nomination.conflicts_declared.splitlines() if line.strip()]
    emails = {line.casefold() for line in lines if "@" in line}
    organisations = {normalised(line) for line in lines if "@" not in line}
    return emails, organisations


def matching_inputs(*, call, nominations, today=None):
    """(needs, candidates, bids) for ``nominations`` of ``call``, as the matcher takes them.

    A reviewer's load is their open reviews in the call; one who is unavailable
    at any time between ``today`` and the end of a review period started today
    is unavailable for all of these nominations.
    """
    today = today or timezone.localdate()
    period_end = today + timedelta(days=call.review_days)
    nominations = list(nominations)
    prefetch_related_objects(nominations, "themes")
    nomination_ids = [n.pk for n in nominations]

    # Plain values, not model instances: every acceptance reads the whole pool, and
    # building 150 profiles with their users and themes cost five times the solve.
    # A reviewer's load is counted over the call's open reviews alone, per reviewer.
    call_load = (
        Review.objects.filter(
            reviewer_id=OuterRef("user_id"),
            status__in=Review.OPEN_STATUSES,
            nomination__call=call,
        )
        .order_by()
        .values("reviewer_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    profiles = list(
        ReviewerProfile.objects.filter(is_active=True)
        .annotate(call_load=Coalesce(Subquery(call_load), 0))
        .order_by("user_id")
        .values(
            "pk",
            "user_id",
            "user__email",
            "country_id",
            "organisation",
            "languages",
            "capacity",
            "call_load",
        )
    )
    expertise = defaultdict(set)
    for profile_id, theme_id in ReviewerProfile.expertise.through.objects.filter(
        reviewerprofile__is_active=True
    ).values_list("reviewerprofile_id", "theme_id"):
        expertise[profile_id].add(theme_id)
    away = set(
        Unavailability.objects.filter(starts_on__lte=period_end, ends_on__gte=today).values_list(
            "profile_id", flat=True
        )
    )
    candidates = [
        Candidate(
            user_id=profile["user_id"],
            country_id=profile["country_id"],
            organisation=normalised(profile["organisation"]),
            languages=frozenset(profile["languages"]),
            expertise=frozenset(expertise[profile["pk"]]),
            capacity=profile["capacity"],
            load=profile["call_load"],
            unavailable_for=frozenset(nomination_ids) if profile["pk"] in away else frozenset(),
        )
        for profile in profiles
    ]

    reviews = defaultdict(list)
    for nomination_id, reviewer_id, status, country_id in Review.objects.filter(
        nomination_id__in=nomination_ids
    ).values_list("nomination_id", "reviewer_id", "status", "reviewer__reviewer_profile__country"):
        reviews[nomination_id].append((reviewer_id, status, country_id))
    conflicts = list(
        ConflictOfInterest.objects.filter(
            Q(nomination_id__in=nomination_ids) | ~Q(organisation="")
        ).values_list("reviewer_id", "nomination_id", "organisation")
    )
    themes = defaultdict(dict)
    for nomination in nominations:
        for theme in nomination.themes.all():
            # The project's priority themes (spatial segregation, social exclusion) weigh double.
            themes[nomination.pk][theme.pk] = 2 if theme.is_priority else 1
    emails = {profile["user_id"]: profile["user__email"].casefold() for profile in profiles}
    organisations = {c.user_id: c.organisation for c in candidates}

    needs = []
    for nomination in nominations:
        organisation = normalised(nomination.organisation)
        conflicted = {
            reviewer_id
            for reviewer_id, conflict_nomination_id, conflict_organisation in conflicts
            if conflict_nomination_id == nomination.pk
            or (conflict_organisation and normalised(conflict_organisation) == organisation)
        }
        declared_emails, declared_organisations = _declared_by_nominator(nomination)
        conflicted |= {
            user_id
            for user_id in emails
            if emails[user_id] in declared_emails
            or organisations[user_id] in declared_organisations
        }
        held = [
            (r, country) for r, status, country in reviews[nomination.pk] if status in HELD_STATUSES
        ]
        needs.append(
            Need(
                nomination_id=nomination.pk,
                country_id=nomination.country_id,
                organisation=organisation,
                languages=readable_languages(nomination),
                themes=themes[nomination.pk],
                wanted=max(call.reviewers_per_nomination - len(held), 0),
                excluded=frozenset(r for r, _status, _country in reviews[nomination.pk]),
                conflicted=frozenset(conflicted),
                countries_held=frozenset(country for _r, country in held if country),
            )
        )

    bids = {}
    if call.bidding_enabled:
        bids = {
            (nomination_id, reviewer_id): level
            for nomination_id, reviewer_id, level in Bid.objects.filter(
                nomination_id__in=nomination_ids
            ).values_list("nomination_id", "reviewer_id", "level")
        }
    return needs, candidates, bids


#: Stages in which reviewers may still bid on a nomination or declare a conflict with it.
BIDDING_STAGES = ("screening", "review")


def nominations_to_consider(*, reviewer):
    """[(call, [nomination])] a reviewer may bid on or declare a conflict with.

    Submitted or accepted nominations of other countries that they do not review
    already; each nomination with its country and themes, in two queries.
    """
    from nominations.models import Nomination

    profile = getattr(reviewer, "reviewer_profile", None)
    if profile is None:
        return []
    nominations = (
        Nomination.objects.filter(stage__in=BIDDING_STAGES)
        .exclude(country_id=profile.country_id)
        .exclude(reviews__reviewer=reviewer)
        .select_related("call", "country")
        .prefetch_related("themes")
        .order_by("call__closes_at", "call_id", "title", "pk")
    )
    by_call = {}
    for nomination in nominations:
        by_call.setdefault(nomination.call, []).append(nomination)
    return list(by_call.items())


# --- the leads' selection board ----------------------------------------------------------


def submitted_reviews_prefetch():
    """``nomination.reviews.all()`` as the submitted reviews, with reviewers and scores."""
    return Prefetch(
        "reviews",
        queryset=Review.objects.filter(status=Review.Status.SUBMITTED)
        .select_related("reviewer__reviewer_profile__country")
        .prefetch_related(Prefetch("scores", queryset=CriterionScore.objects.all()))
        .order_by("submitted_at", "pk"),
    )


#: Reviewers disagree on a criterion when their scores differ by this much or more.
DISAGREEMENT = 2


@dataclass
class BoardRow:
    nomination: object
    reviews: list  # [(review, [score or None per criterion])]
    means: list  # mean or None per criterion
    spreads: list  # highest minus lowest score, or None, per criterion
    weighted: float | None  # weighted mean over the criteria that have scores

    @property
    def means_and_spreads(self):
        return list(zip(self.means, self.spreads, strict=True))

    @property
    def disagreement(self):
        return any(spread is not None and spread >= DISAGREEMENT for spread in self.spreads)


def weighted_mean(*, criteria, means):
    """The criteria's means weighted by their weights, over those with a mean; or None.

    What the selection board ranks by, and what the export shows beside it.
    """
    scored = [(c.weight, m) for c, m in zip(criteria, means, strict=True) if m is not None]
    total_weight = sum(float(weight) for weight, _mean in scored)
    if not total_weight:
        return None
    return round(sum(float(weight) * m for weight, m in scored) / total_weight, 2)


def selection_board(*, call, nominations):
    """(criteria, rows) of ``nominations``, best weighted score first.

    The weighted score is the mean of each criterion's mean, weighted by the call's
    criterion weights, over the criteria that have scores; a nomination with no
    score at all comes last. Ties keep the oldest submission first.
    """
    criteria = list(call.criteria.all())
    nominations = list(
        nominations.select_related("country", "decision")
        .prefetch_related(
            "themes",
            submitted_reviews_prefetch(),
        )
        .order_by("submitted_at", "pk")
    )
    rows = []
    for nomination in nominations:
        reviews = []
        for review in nomination.reviews.all():
            by_criterion = {s.criterion_id: s.score for s in review.scores.all()}
            reviews.append((review, [by_criterion.get(c.pk) for c in criteria]))
        means, spreads = [], []
        for index in range(len(criteria)):
            given = [scores[index] for _review, scores in reviews if scores[index] is not None]
            means.append(round(mean(given), 2) if given else None)
            spreads.append(max(given) - min(given) if given else None)
        weighted = weighted_mean(criteria=criteria, means=means)
        rows.append(
            BoardRow(
                nomination=nomination,
                reviews=reviews,
                means=means,
                spreads=spreads,
                weighted=weighted,
            )
        )
    rows.sort(key=lambda row: (row.weighted is None, -(row.weighted or 0)))
    return criteria, rows
