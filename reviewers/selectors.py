"""Reads of reviews and of what the reviewer matching needs, bounded in queries."""

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Count,
    F,
    FilteredRelation,
    FloatField,
    Func,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Greatest, Least, Lower, NullIf
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nominations.accounts import reviewer_display
from nominations.models import Nomination
from nominations.permissions import coordinates_country, is_coordinator

from .matching import Candidate, Need
from .models import (
    Bid,
    ConflictOfInterest,
    CriterionScore,
    Expertise,
    Review,
    ReviewerProfile,
    Unavailability,
)


def submitted_reviews_summary(*, nomination):
    """All submitted reviews of a nomination side by side, with the mean per criterion.

    Returns ``{"criteria": [...], "reviews": [(review, [score or None per criterion])],
    "means": [mean as shown, or None, per criterion]}``. For leads and admins only.
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
        # Exact, rounded once for display, as the board and the export show it.
        means.append(shown(Fraction(sum(values), len(values))) if values else None)
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


@lru_cache(maxsize=1)
def _matching_sql():
    """The matcher's inputs as one statement: five JSON arrays, every name from the models."""
    from nominations.models import Nomination, Theme

    quote = connection.ops.quote_name

    def table(model):
        return quote(model._meta.db_table)

    def column(model, name):
        return quote(model._meta.get_field(name).column)

    user = get_user_model()
    profile, review, conflict, bid = ReviewerProfile, Review, ConflictOfInterest, Bid
    expertise = Expertise
    nomination_themes = Nomination.themes.through
    p, u, r, n = "p", "u", "r", "n"

    def c(alias, model, name):
        return f"{alias}.{column(model, name)}"

    # Every table and column name is quoted from the models' options; values are parameters.
    return f"""
    SELECT
      (SELECT coalesce(json_agg(json_build_array(
          {c(p, profile, "id")}, {c(p, profile, "user")}, {c(u, user, "email")},
          {c(p, profile, "country")}, {c(p, profile, "organisation")},
          {c(p, profile, "languages")}, {c(p, profile, "capacity")},
          coalesce(l.load, 0), coalesce(e.themes, '[]'), coalesce(a.away, false)
        ) ORDER BY {c(p, profile, "user")}), '[]')
       FROM {table(profile)} {p}
       JOIN {table(user)} {u} ON {c(u, user, "id")} = {c(p, profile, "user")}
       LEFT JOIN (
         SELECT {c(r, review, "reviewer")} AS reviewer_id, count(*) AS load
           FROM {table(review)} {r}
           JOIN {table(Nomination)} {n} ON {c(n, Nomination, "id")} = {c(r, review, "nomination")}
          WHERE {c(r, review, "status")} = ANY(%(open)s) AND {c(n, Nomination, "call")} = %(call)s
          GROUP BY 1
       ) l ON l.reviewer_id = {c(p, profile, "user")}
       LEFT JOIN (
         SELECT {c("x", expertise, "profile")} AS profile_id,
                json_agg(json_build_array(
                  {c("x", expertise, "theme")}, {c("x", expertise, "level")})
                  ORDER BY {c("x", expertise, "theme")}) AS themes
           FROM {table(expertise)} x GROUP BY 1
       ) e ON e.profile_id = {c(p, profile, "id")}
       LEFT JOIN (
         SELECT DISTINCT {c("v", Unavailability, "profile")} AS profile_id, true AS away
           FROM {table(Unavailability)} v
          WHERE {c("v", Unavailability, "starts_on")} <= %(period_end)s
            AND {c("v", Unavailability, "ends_on")} >= %(today)s
       ) a ON a.profile_id = {c(p, profile, "id")}
       WHERE {c(p, profile, "is_active")}),
      (SELECT coalesce(json_agg(json_build_array(
          {c(r, review, "nomination")}, {c(r, review, "reviewer")}, {c(r, review, "status")},
          {c("rp", profile, "country")})), '[]')
       FROM {table(review)} {r}
       LEFT JOIN {table(profile)} rp ON {c("rp", profile, "user")} = {c(r, review, "reviewer")}
       WHERE {c(r, review, "nomination")} = ANY(%(nominations)s)),
      (SELECT coalesce(json_agg(json_build_array(
          {c("k", conflict, "reviewer")}, {c("k", conflict, "nomination")},
          {c("k", conflict, "organisation")})), '[]')
       FROM {table(conflict)} k
       WHERE {c("k", conflict, "nomination")} = ANY(%(nominations)s)
          OR {c("k", conflict, "organisation")} <> ''),
      (SELECT coalesce(json_agg(json_build_array(
          t.{quote("nomination_id")}, {c("h", Theme, "id")}, {c("h", Theme, "is_priority")})
          ORDER BY {c("h", Theme, "is_priority")} DESC, {c("h", Theme, "name")}), '[]')
       FROM {table(nomination_themes)} t
       JOIN {table(Theme)} h ON {c("h", Theme, "id")} = t.{quote("theme_id")}
       WHERE t.{quote("nomination_id")} = ANY(%(nominations)s)),
      (SELECT coalesce(json_agg(json_build_array(
          {c("b", bid, "nomination")}, {c("b", bid, "reviewer")}, {c("b", bid, "level")})), '[]')
       FROM {table(bid)} b
       WHERE %(bidding)s AND {c("b", bid, "nomination")} = ANY(%(nominations)s))
    """  # noqa: S608


def matching_inputs(*, call, nominations, today=None):
    """(needs, candidates, bids) for ``nominations`` of ``call``, as the matcher takes them.

    A reviewer's load is their open reviews in the call; one who is unavailable
    at any time between ``today`` and the end of a review period started today
    is unavailable for all of these nominations.

    Read in one statement: every acceptance reads the whole pool of reviewers (their
    load in the call, their themes, their absences), and six ORM reads of it cost
    several times the solve in building queries alone. The caller holds the call's
    assignment lock, so the loads counted here are not changed before the matcher's
    reviews are written.
    """
    today = today or timezone.localdate()
    period_end = today + timedelta(days=call.review_days)
    nominations = list(nominations)
    nomination_ids = [n.pk for n in nominations]

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _matching_sql(),
                {
                    "open": list(Review.OPEN_STATUSES),
                    "call": call.pk,
                    "period_end": period_end,
                    "today": today,
                    "nominations": nomination_ids,
                    "bidding": bool(call.bidding_enabled),
                },
            )
            rows = cursor.fetchone()
        profiles, review_rows, conflicts, theme_rows, bid_rows = (_json(value) for value in rows)
    else:
        profiles, review_rows, conflicts, theme_rows, bid_rows = _matching_rows(
            call=call, nomination_ids=nomination_ids, today=today, period_end=period_end
        )

    unavailable = frozenset(nomination_ids)
    candidates = [
        Candidate(
            user_id=user_id,
            country_id=country_id,
            organisation=normalised(organisation),
            languages=frozenset(languages),
            # [[theme id, level]] from either read: theme id -> level.
            expertise=dict(expertise),
            capacity=capacity,
            load=load,
            unavailable_for=unavailable if away else frozenset(),
        )
        for (
            _pk,
            user_id,
            _email,
            country_id,
            organisation,
            languages,
            capacity,
            load,
            expertise,
            away,
        ) in profiles
    ]

    reviews = defaultdict(list)
    for nomination_id, reviewer_id, status, country_id in review_rows:
        reviews[nomination_id].append((reviewer_id, status, country_id))
    themes = defaultdict(dict)
    for nomination_id, theme_id, is_priority in theme_rows:
        # The project's priority themes (spatial segregation, social exclusion) weigh double.
        themes[nomination_id][theme_id] = 2 if is_priority else 1
    emails = {profile[1]: profile[2].casefold() for profile in profiles}
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

    bids = {(nomination_id, reviewer_id): level for nomination_id, reviewer_id, level in bid_rows}
    return needs, candidates, bids


def _matching_rows(*, call, nomination_ids, today, period_end):
    """The same five lists as ``_matching_sql``, read with the ORM (the embedded SQLite).

    ``_matching_sql`` speaks PostgreSQL (JSON and array aggregates); on any other database
    these six plain reads give the same rows in the same order.
    """
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
    expertise = defaultdict(list)
    for profile_id, theme_id, level in Expertise.objects.order_by("theme_id").values_list(
        "profile_id", "theme_id", "level"
    ):
        expertise[profile_id].append([theme_id, level])
    away = set(
        Unavailability.objects.filter(starts_on__lte=period_end, ends_on__gte=today).values_list(
            "profile_id", flat=True
        )
    )
    rows = (
        ReviewerProfile.objects.filter(is_active=True)
        .annotate(call_load=Coalesce(Subquery(call_load), 0))
        .order_by("user_id")
        .values_list(
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
    # The columns of ``_matching_sql``'s first array: the profile, then its [[theme, level]]
    # and its absence.
    profiles = [[*row, expertise[row[0]], row[0] in away] for row in rows]
    review_rows = list(
        Review.objects.filter(nomination_id__in=nomination_ids).values_list(
            "nomination_id", "reviewer_id", "status", "reviewer__reviewer_profile__country"
        )
    )
    conflicts = list(
        ConflictOfInterest.objects.filter(
            Q(nomination_id__in=nomination_ids) | ~Q(organisation="")
        ).values_list("reviewer_id", "nomination_id", "organisation")
    )
    theme_rows = list(
        Nomination.themes.through.objects.filter(nomination_id__in=nomination_ids)
        .order_by("-theme__is_priority", "theme__name")
        .values_list("nomination_id", "theme_id", "theme__is_priority")
    )
    bid_rows = (
        list(
            Bid.objects.filter(nomination_id__in=nomination_ids).values_list(
                "nomination_id", "reviewer_id", "level"
            )
        )
        if call.bidding_enabled
        else []
    )
    return profiles, review_rows, conflicts, theme_rows, bid_rows


def _json(value):
    # psycopg decodes json columns itself; a driver handing back text is decoded here.
    return json.loads(value) if isinstance(value, str) else value


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


#: Reviewers disagree on a criterion when their scores differ by this much or more.
DISAGREEMENT = 2

#: How the board may be ordered: best weighted score first, by title, or by country.
BOARD_ORDERS = ("score", "title", "country")

#: Figures on the board are shown with this many decimals, rounded once, half up.
SHOWN = Decimal("0.01")


def shown(value):
    """An exact figure (a ``Fraction``) as shown: two decimals, halves rounded up; or None.

    Rounding happens here only, on the exact value, never before a figure is used again.
    """
    if value is None:
        return None
    hundredths = math.floor(Fraction(value) * 100 + Fraction(1, 2))
    return (Decimal(hundredths) / 100).quantize(SHOWN)


@dataclass
class BoardRow:
    nomination: object
    reviews: list  # [(BoardReview, [score or None per criterion])], as submitted
    means: list  # exact mean (a Fraction) or None, per criterion
    spreads: list  # highest minus lowest score, or None, per criterion
    weighted: Fraction | None  # exact weighted mean over the criteria that have scores

    @property
    def weighted_shown(self):
        return shown(self.weighted)

    @property
    def means_and_spreads(self):
        """(mean as shown, spread, whether reviewers disagree) per criterion."""
        return [
            (shown(m), s, s is not None and s >= DISAGREEMENT)
            for m, s in zip(self.means, self.spreads, strict=True)
        ]

    @property
    def disagreement(self):
        return any(spread is not None and spread >= DISAGREEMENT for spread in self.spreads)


class _ExactQuotient(Func):
    """``numerator / denominator`` of two integers, as a key that orders them exactly.

    PostgreSQL divides as numeric to 30 decimals; elsewhere (SQLite) one division of two
    integers as doubles, correctly rounded, so equal fractions give equal keys and
    different ones (whose denominators stay far below 10⁷) keep their order.
    """

    output_field = FloatField()

    def _operands(self, compiler):
        numerator, denominator = self.get_source_expressions()
        num_sql, num_params = compiler.compile(numerator)
        den_sql, den_params = compiler.compile(denominator)
        return num_sql, den_sql, (*num_params, *den_params)

    def as_sql(self, compiler, connection, **extra_context):
        num_sql, den_sql, params = self._operands(compiler)
        return f"(CAST({num_sql} AS REAL) / {den_sql})", params

    def as_postgresql(self, compiler, connection, **extra_context):
        num_sql, den_sql, params = self._operands(compiler)
        return f"(CAST({num_sql} AS numeric(65, 30)) / {den_sql})", params


def _board_figures(criteria):
    """(figures per nomination for ``annotate``, the exact sort key for ``alias``).

    Per criterion ``i``, read from the nomination's ``ScoreSummary`` row of it (one
    join each, no grouping; no row: no score): ``board_sum_i`` and ``board_count_i`` of
    the scores given in submitted reviews, ``board_high_i`` and ``board_low_i``. The key
    is the weighted mean as one quotient of integers: with weights in hundredths ``W``,
    counts ``n`` and ``m_i = min(n_i, 1)`` (a criterion without a score weighs nothing),
    ``Σ W_i·m_i·sum_i·Π_{k≠i} max(n_k, 1) / (Π max(n_k, 1) · Σ W_i·m_i)`` — nothing is
    rounded before the one division; no score at all gives NULL.
    """
    figures, counts, weights, sums = {}, [], [], []
    for index, criterion in enumerate(criteria):
        summary = f"board_summary_{index}"
        figures[summary] = FilteredRelation(
            "score_summaries", condition=Q(score_summaries__criterion=criterion.pk)
        )
        # As 64-bit integers, as the sums and counts of the scores were: the key multiplies
        # every criterion's count, and in the columns' 32-bit ``integer`` PostgreSQL gave
        # up ("integer out of range") at eight criteria of weight 2 and five reviewers.
        figures[f"board_sum_{index}"] = Coalesce(
            Cast(f"{summary}__total", BigIntegerField()), Value(0)
        )
        figures[f"board_count_{index}"] = Coalesce(
            Cast(f"{summary}__count", BigIntegerField()), Value(0)
        )
        figures[f"board_high_{index}"] = F(f"{summary}__high")
        figures[f"board_low_{index}"] = F(f"{summary}__low")
        count = F(f"board_count_{index}")
        counts.append(Greatest(count, Value(1)))
        weights.append(Value(int(criterion.weight * 100)) * Least(count, Value(1)))
        sums.append(F(f"board_sum_{index}"))
    if not criteria:
        return figures, Value(None, output_field=FloatField())
    numerator = _total(
        _product([weights[i], sums[i], *counts[:i], *counts[i + 1 :]]) for i in range(len(criteria))
    )
    denominator = _product([*counts, _total(weights)])
    return figures, _ExactQuotient(numerator, NullIf(denominator, Value(0)))


def _product(factors):
    product = factors[0]
    for factor in factors[1:]:
        product = product * factor
    return product


def _total(terms):
    terms = list(terms)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def board_figure_names(criteria):
    """The names of the figures ``board_ranking`` gives each nomination, in order."""
    return [
        f"board_{part}_{index}"
        for index in range(len(criteria))
        for part in ("sum", "count", "high", "low")
    ]


def board_ranking(*, call, nominations, order="score"):
    """(criteria, ``nominations`` ordered as the board ranks them) — lazy, for slicing.

    The ranking and the figures are read by the database from the nominations' score
    summaries (``ScoreSummary``, kept by the review services), never from every score.
    Slice ``values_list("pk", *board_figure_names(criteria))`` — narrow rows: carrying
    whole nominations through the ranking of a call cost more than ranking it — and
    read the page's nominations with ``board_nominations``. ``order`` "score": best
    weighted score first, a nomination without any score last, ties to the earlier
    submission; "title"; "country" (then by score).
    """
    criteria = list(call.criteria.all())
    figures, key = _board_figures(criteria)
    ranked = nominations.annotate(**figures).alias(board_key=key)
    best_first = [F("board_key").desc(nulls_last=True), "submitted_at", "pk"]
    if order == "title":
        ordering = ["title", "pk"]
    elif order == "country":
        ordering = [F("country__name").asc(nulls_last=True), *best_first]
    else:
        ordering = best_first
    return criteria, ranked.order_by(*ordering)


def board_nominations(*, ids):
    """The nominations ``ids`` (a page of ``board_ranking``) as a board row shows them:
    with their country, decision and themes; in no particular order."""
    return (
        Nomination.objects.filter(pk__in=ids)
        .select_related("country", "decision")
        .prefetch_related("themes")
        .order_by()
    )


@dataclass(slots=True)
class BoardReview:
    """A submitted review as a board row shows it: who (and from where), and the comment."""

    reviewer: str
    country: str
    comment: str


class _ReviewerFields:
    """The fields of a reviewer ``reviewer_display`` reads, without loading the user."""

    __slots__ = ("email", "first_name", "last_name")

    def __init__(self, first_name, last_name, email):
        self.first_name, self.last_name, self.email = first_name, last_name, email

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip()


def board_reviews(*, criteria, nominations):
    """{nomination id: [(``BoardReview``, [score or None per criterion])]} of the submitted
    reviews of ``nominations`` (a page of them), in the order they were submitted.

    Two queries of plain values rather than reviews, users, profiles, countries and
    scores as model instances: a page of 50 rows would build over a thousand of those
    for a few strings and numbers (and the garbage collector would pay for them).
    """
    reviews = (
        Review.objects.filter(nomination__in=nominations, status=Review.Status.SUBMITTED)
        .order_by("submitted_at", "pk")
        .values_list(
            "pk",
            "nomination_id",
            "comment",
            "reviewer__first_name",
            "reviewer__last_name",
            "reviewer__email",
            "reviewer__reviewer_profile__country__code",
        )
    )
    by_review = {}
    for pk, nomination_id, comment, first_name, last_name, email, code in reviews:
        name = reviewer_display(_ReviewerFields(first_name, last_name, email))
        by_review[pk] = (nomination_id, BoardReview(name, code or "", comment), {})
    if by_review:
        for review_id, criterion_id, score in CriterionScore.objects.filter(
            review__in=list(by_review)
        ).values_list("review_id", "criterion_id", "score"):
            by_review[review_id][2][criterion_id] = score
    found = defaultdict(list)
    for nomination_id, review, scores in by_review.values():
        found[nomination_id].append((review, [scores.get(c.pk) for c in criteria]))
    return found


def board_rows(*, criteria, ranked, nominations):
    """The ``BoardRow`` of each of ``ranked`` — rows of ``board_ranking``'s
    ``values_list("pk", *board_figure_names(criteria))``, a page of them — in that order;
    ``nominations`` maps their ids to the nominations (``board_nominations``)."""
    reviews = board_reviews(criteria=criteria, nominations=[pk for pk, *_figures in ranked])
    return [
        board_row(
            criteria=criteria,
            nomination=nominations[pk],
            figures=figures,
            reviews=reviews.get(pk, []),
        )
        for pk, *figures in ranked
    ]


def board_row(*, criteria, nomination, figures, reviews):
    """A ``BoardRow`` from ``figures`` (sum, count, highest, lowest per criterion, as
    ``board_figure_names`` lists them): exact figures."""
    means, spreads = [], []
    weighted_sum = total_weight = Fraction(0)
    for index, criterion in enumerate(criteria):
        total, count, high, low = figures[index * 4 : index * 4 + 4]
        if count:
            mean_ = Fraction(total, count)
            means.append(mean_)
            spreads.append(high - low)
            weighted_sum += Fraction(criterion.weight) * mean_
            total_weight += Fraction(criterion.weight)
        else:
            means.append(None)
            spreads.append(None)
    weighted = weighted_sum / total_weight if total_weight else None
    return BoardRow(
        nomination=nomination, reviews=reviews, means=means, spreads=spreads, weighted=weighted
    )


def selection_board(*, call, nominations, order="score"):
    """(criteria, rows) of every one of ``nominations``, ordered as ``board_ranking`` says.

    The weighted score is the mean of each criterion's mean, weighted by the call's
    criterion weights, over the criteria that have scores — exact (a ``Fraction``); it
    is rounded only when shown (``shown``: two decimals, half up).
    """
    criteria, ranked = board_ranking(call=call, nominations=nominations, order=order)
    rows = list(ranked.values_list("pk", *board_figure_names(criteria)))
    found = board_nominations(ids=[pk for pk, *_figures in rows]).in_bulk()
    return criteria, board_rows(criteria=criteria, ranked=rows, nominations=found)


# --- the reviewer pool at a glance -------------------------------------------------------

#: Nominations the pool must still serve: received, not turned down, not past review.
POOL_STAGES = ("screening", "changes_requested", "review")

#: A gap's severity, most severe first.
BLOCKS = 0  # some reviews cannot be given at all: no room, or nobody can read the text
WEAKENS = 1  # reviews can be given, but read from the English summary only
THIN = 2  # few experts: reviews can be given, by people outside the theme


@dataclass(frozen=True)
class PoolCountry:
    """One country's side of the pool: its reviewers, and what its nominations need."""

    country_id: int
    name: str
    reviewers: int  # active reviewer profiles from this country
    away: int  # of them, away at some time during a review period starting today
    capacity: int  # their capacity, summed
    load: int  # their open reviews in this call
    free: int  # places left: capacity - load per reviewer (never below 0), away ones left out
    received: int  # nominations received from this country (all but drafts)
    to_review: int  # of them, still to be reviewed (screening, changes, review)
    held: int  # reviews their nominations hold (assigned, draft or submitted)
    needed: int  # reviews their nominations still need
    free_elsewhere: int  # free places of reviewers from every other country
    invited: int = 0  # reviewer invitations to this country, pending and not expired

    @property
    def short(self):
        """Reviews that reviewers from other countries cannot take, even if all went here."""
        return max(self.needed - self.free_elsewhere, 0)


@dataclass(frozen=True)
class PoolLanguage:
    """Nominations in one language from one country, and who outside it reads the language."""

    code: str
    name: str
    country_id: int | None
    country_name: str
    nominations: int
    with_english_summary: int
    readers_elsewhere: int  # active reviewers from other countries who read the language
    english_readers_elsewhere: int  # ... who read English

    @property
    def uncovered(self):
        return self.nominations > 0 and self.readers_elsewhere == 0

    @property
    def blocks(self):
        """Nobody outside may review some of them: not in the language, nor in English."""
        if not self.uncovered:
            return False
        if self.code == "en":
            return True
        has_fallback = self.english_readers_elsewhere > 0
        return not has_fallback or self.with_english_summary < self.nominations


@dataclass(frozen=True)
class PoolTheme:
    theme_id: int
    name: str
    experts: int  # active reviewers with the theme among their expertise, any country
    expert_free: int  # their free places, away ones left out
    nominations: int  # nominations still to review with this theme (each under every theme)

    @property
    def thin(self):
        """Its experts cannot give each of its nominations even one expert review."""
        return self.nominations > 0 and self.expert_free < self.nominations


@dataclass(frozen=True)
class PoolGap:
    """One gap as a sentence in the reader's language; ``severity`` ranks it (0 first)."""

    severity: int
    kind: str  # "capacity", "country", "language", "english", "theme"
    size: int  # how much is missing, to rank gaps of one severity
    params: tuple  # the sentence's values, in the order ``text`` takes them
    country_id: int | None = None

    @property
    def text(self):
        from django.utils.translation import ngettext

        if self.kind == "capacity":
            count, free = self.params
            return ngettext(
                "The call's nominations need %(count)s review; the pool has %(places)s.",
                "The call's nominations need %(count)s reviews; the pool has %(places)s.",
                count,
            ) % {"count": count, "places": _free_places(free)}
        if self.kind == "country":
            country, count, free = self.params
            return ngettext(
                "%(country)s's nominations need %(count)s review; "
                "reviewers outside %(country)s have %(places)s.",
                "%(country)s's nominations need %(count)s reviews; "
                "reviewers outside %(country)s have %(places)s.",
                count,
            ) % {"country": country, "count": count, "places": _free_places(free)}
        if self.kind == "language":
            language, country, count = self.params
            return ngettext(
                "No reviewer reads %(language)s outside %(country)s "
                "(%(count)s nomination in %(language)s).",
                "No reviewer reads %(language)s outside %(country)s "
                "(%(count)s nominations in %(language)s).",
                count,
            ) % {"language": language, "country": country, "count": count}
        if self.kind == "english":
            language, country, count = self.params
            return ngettext(
                "No reviewer reads %(language)s outside %(country)s: %(count)s nomination "
                "in %(language)s will be reviewed from its English summary.",
                "No reviewer reads %(language)s outside %(country)s: %(count)s nominations "
                "in %(language)s will be reviewed from their English summaries.",
                count,
            ) % {"language": language, "country": country, "count": count}
        theme, experts, count = self.params
        experts_text = ngettext("%(count)s expert", "%(count)s experts", experts) % {
            "count": experts
        }
        return ngettext(
            "%(theme)s has %(experts)s for %(count)s nomination.",
            "%(theme)s has %(experts)s for %(count)s nominations.",
            count,
        ) % {"theme": theme, "experts": experts_text, "count": count}


def _free_places(count):
    from django.utils.translation import ngettext

    return ngettext("%(count)s free place", "%(count)s free places", count) % {"count": count}


def _over_countries(figure):
    """A call-wide total: the figure summed over the pool's countries."""
    return property(lambda summary: sum(getattr(c, figure) for c in summary.countries))


@dataclass(frozen=True)
class PoolSummary:
    call: object
    reviewers_per_nomination: int
    countries: list  # [PoolCountry], by name
    languages: list  # [PoolLanguage], by language then country
    themes: list  # [PoolTheme], priority themes first, then by name
    gaps: list  # [PoolGap], most severe first

    reviewers = _over_countries("reviewers")
    invited = _over_countries("invited")
    free = _over_countries("free")
    capacity = _over_countries("capacity")
    load = _over_countries("load")
    away = _over_countries("away")
    received = _over_countries("received")
    to_review = _over_countries("to_review")
    held = _over_countries("held")
    needed = _over_countries("needed")


def _reads(code):
    """Profiles whose ``languages`` list ``code``, on PostgreSQL and on SQLite alike."""
    if connection.vendor == "postgresql":
        return Q(languages__contains=[code])
    # SQLite has no JSON containment lookup; the stored text lists each code in quotes.
    return Q(languages__icontains=f'"{code}"')


def pool_summary(*, call, now=None):
    """The reviewer pool of ``call`` against what its nominations need, in seven queries.

    Counts, never people: every figure is a grouped query (``values().annotate()``), so
    the number of queries does not grow with the pool. The rule for who *could* review a
    nomination is the matcher's hard rules simplified to the pool: an active reviewer from
    another country (organisation, conflicts and earlier declines are left out; they can
    only make the pool smaller). A reviewer's free places are their capacity less their
    open reviews in this call; a reviewer away at some time during a review period
    starting today has none, as the matcher would not pick them.

    Pending reviewer invitations (not expired) are counted per country beside the pool
    but not in it: whatever call an invitation names, accepting it gives a profile that
    every call's matching may use.
    """
    from django.db.models import Case, Exists, F, IntegerField, Sum, Value, When
    from django.db.models.functions import Greatest

    from nominations.models import CONTENT_LANGUAGES, Country, Invitation, Theme

    now = now or timezone.now()
    today = timezone.localdate(now)
    period_end = today + timedelta(days=call.review_days)
    per_nomination = call.reviewers_per_nomination

    # 1. Nominations by country and language: received, still to review, reviews held and needed.
    held = (
        Review.objects.filter(nomination=OuterRef("pk"), status__in=HELD_STATUSES)
        .order_by()
        .values("nomination")
        .annotate(count=Count("pk"))
        .values("count")
    )
    to_review = Q(stage__in=POOL_STAGES)
    nomination_rows = (
        Nomination.objects.filter(call=call)
        .exclude(stage=Nomination.Stage.DRAFT)
        .alias(held=Coalesce(Subquery(held, output_field=IntegerField()), 0))
        .order_by()
        .values("country_id", "language")
        .annotate(
            received=Count("pk"),
            to_review=Count("pk", filter=to_review),
            with_summary=Count("pk", filter=to_review & ~Q(english_summary="")),
            held_reviews=Sum(Case(When(to_review, then=F("held")), default=Value(0))),
            needed=Sum(
                Case(
                    When(
                        to_review,
                        then=Greatest(Value(per_nomination) - F("held"), Value(0)),
                    ),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            ),
        )
    )
    nomination_rows = list(nomination_rows)

    # 2. Themes of the nominations still to review: each nomination under each of its themes.
    theme_rows = list(
        Nomination.themes.through.objects.filter(
            nomination__call=call, nomination__stage__in=POOL_STAGES
        )
        .order_by()
        .values("theme_id")
        .annotate(nominations=Count("nomination_id", distinct=True))
    )

    # 3. Active reviewers by country: capacity, load, free places, absences, languages read.
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
    away = Unavailability.objects.filter(
        profile_id=OuterRef("pk"), starts_on__lte=period_end, ends_on__gte=today
    )
    profiles = (
        ReviewerProfile.objects.filter(is_active=True)
        .alias(
            call_load=Coalesce(Subquery(call_load, output_field=IntegerField()), 0),
            away=Exists(away),
        )
        .order_by()
    )
    free = Sum(
        Case(
            When(away=False, then=Greatest(F("capacity") - F("call_load"), Value(0))),
            default=Value(0),
            output_field=IntegerField(),
        )
    )
    codes = sorted({row["language"] or "en" for row in nomination_rows} | {"en"})
    reviewer_rows = list(
        profiles.values("country_id").annotate(
            reviewers=Count("pk"),
            absent=Count("pk", filter=Q(away=True)),
            capacity_sum=Sum("capacity"),
            load_sum=Sum("call_load"),
            free=free,
            **{f"reads_{code}": Count("pk", filter=_reads(code)) for code in codes},
        )
    )

    # 4. Experts by theme: how many, and their free places.
    expert_rows = {
        row["expertise"]: row
        for row in profiles.filter(expertise__isnull=False)
        .values("expertise")
        .annotate(experts=Count("pk", distinct=True), free=free)
    }

    # 5. Reviewer invitations not yet answered, by the country they would review from;
    # not those blocked by a deactivated account at their address (they cannot accept).
    inactive_addresses = (
        get_user_model().objects.filter(is_active=False).values(address=Lower("email"))
    )
    inactive_verified = EmailAddress.objects.filter(user__is_active=False, verified=True).values(
        address=Lower("email")
    )
    invited = dict(
        Invitation.objects.filter(
            role=Invitation.Role.REVIEWER,
            status=Invitation.Status.PENDING,
            expires_at__gt=now,
        )
        .exclude(email__in=inactive_addresses)
        .exclude(email__in=inactive_verified)
        .order_by()
        .values("country_id")
        .annotate(count=Count("pk"))
        .values_list("country_id", "count")
    )

    # 6. and 7. Names: the partner countries (and any other seen), the themes to show.
    country_ids = {row["country_id"] for row in nomination_rows + reviewer_rows} | set(invited)
    countries = list(
        Country.objects.filter(Q(is_partner=True) | Q(pk__in=country_ids - {None})).order_by("name")
    )
    themes = list(
        Theme.objects.filter(Q(calls=call) | Q(pk__in=[row["theme_id"] for row in theme_rows]))
        .distinct()
        .order_by("-is_priority", "name")
    )

    by_country = {row["country_id"]: row for row in reviewer_rows}
    total_free = sum(row["free"] or 0 for row in reviewer_rows)
    received = defaultdict(lambda: defaultdict(int))
    for row in nomination_rows:
        for key in ("received", "to_review", "held_reviews", "needed"):
            received[row["country_id"]][key] += row[key] or 0
    pool_countries = []
    for country in countries:
        reviewers = by_country.get(country.pk, {})
        nominations = received[country.pk]
        own_free = reviewers.get("free") or 0
        pool_countries.append(
            PoolCountry(
                country_id=country.pk,
                name=country.name,
                reviewers=reviewers.get("reviewers", 0),
                away=reviewers.get("absent", 0),
                capacity=reviewers.get("capacity_sum") or 0,
                load=reviewers.get("load_sum") or 0,
                free=own_free,
                received=nominations["received"],
                to_review=nominations["to_review"],
                held=nominations["held_reviews"],
                needed=nominations["needed"],
                free_elsewhere=total_free - own_free,
                invited=invited.get(country.pk, 0),
            )
        )

    # Readers of each language outside each country: all readers less the country's own.
    readers = {code: sum(row[f"reads_{code}"] for row in reviewer_rows) for code in codes}
    names = dict(CONTENT_LANGUAGES)
    country_names = {c.pk: c.name for c in countries}
    languages = defaultdict(lambda: [0, 0])
    for row in nomination_rows:
        if row["to_review"]:
            counts = languages[(row["language"] or "en", row["country_id"])]
            counts[0] += row["to_review"]
            counts[1] += row["with_summary"]
    pool_languages = []
    for (code, country_id), (count, with_summary) in languages.items():
        own = by_country.get(country_id, {})
        pool_languages.append(
            PoolLanguage(
                code=code,
                name=names.get(code, code),
                country_id=country_id,
                country_name=country_names.get(country_id, ""),
                nominations=count,
                with_english_summary=with_summary,
                readers_elsewhere=readers[code] - own.get(f"reads_{code}", 0),
                english_readers_elsewhere=readers["en"] - own.get("reads_en", 0),
            )
        )
    pool_languages.sort(key=lambda line: (str(line.name), line.country_name))

    nominations_by_theme = {row["theme_id"]: row["nominations"] for row in theme_rows}
    pool_themes = [
        PoolTheme(
            theme_id=theme.pk,
            name=theme.name,
            experts=expert_rows.get(theme.pk, {}).get("experts", 0),
            expert_free=expert_rows.get(theme.pk, {}).get("free") or 0,
            nominations=nominations_by_theme.get(theme.pk, 0),
        )
        for theme in themes
    ]

    return PoolSummary(
        call=call,
        reviewers_per_nomination=per_nomination,
        countries=pool_countries,
        languages=pool_languages,
        themes=pool_themes,
        gaps=pool_gaps(countries=pool_countries, languages=pool_languages, themes=pool_themes),
    )


def pool_gaps(*, countries, languages, themes):
    """The pool's gaps, most severe first, and within a severity the largest first.

    Severity ``BLOCKS``: the call needs more reviews than the pool has free places; a
    country's nominations need more than reviewers from the other countries have; or
    nobody outside a country reads a language its nominations are written in and they
    cannot fall back on English. ``WEAKENS``: nobody outside reads the language, but every
    such nomination has an English summary and English readers exist outside. ``THIN``:
    a theme's experts cannot give each of its nominations one expert review.
    """
    gaps = []
    needed = sum(c.needed for c in countries)
    free = sum(c.free for c in countries)
    if needed > free:
        gaps.append(PoolGap(BLOCKS, "capacity", needed - free, (needed, free)))
    for country in countries:
        if country.short:
            gaps.append(
                PoolGap(
                    BLOCKS,
                    "country",
                    country.short,
                    (country.name, country.needed, country.free_elsewhere),
                    country.country_id,
                )
            )
    for line in languages:
        if line.uncovered:
            gaps.append(
                PoolGap(
                    BLOCKS if line.blocks else WEAKENS,
                    "language" if line.blocks else "english",
                    line.nominations,
                    (line.name, line.country_name, line.nominations),
                    line.country_id,
                )
            )
    for theme in themes:
        if theme.thin:
            gaps.append(
                PoolGap(
                    THIN,
                    "theme",
                    theme.nominations - theme.expert_free,
                    (theme.name, theme.experts, theme.nominations),
                )
            )
    gaps.sort(key=lambda gap: (gap.severity, -gap.size, gap.kind, str(gap.params)))
    return gaps


# --- reviewer profiles: who may see and correct them ----------------------------------------


def may_edit_profile(*, user, profile):
    """The reviewer themself, the coordinators of their country, and admins."""
    return user.is_authenticated and (
        user.pk == profile.user_id
        or user.is_staff
        or coordinates_country(user=user, country_id=profile.country_id)
    )


def may_change_country(*, user, profile):
    """Admins, and their country's coordinators, but never the reviewer themself."""
    return user.is_authenticated and (
        user.is_staff
        or (
            user.pk != profile.user_id
            and coordinates_country(user=user, country_id=profile.country_id)
        )
    )


def may_list_reviewers(user):
    """Admins (every country) and national coordinators (their countries)."""
    return user.is_authenticated and (user.is_staff or is_coordinator(user))


#: The country list's sort orders, by the ``sort`` parameter.
PROFILE_ORDERS = {
    "name": ("user__last_name", "user__first_name", "user__username", "pk"),
    "-name": ("-user__last_name", "-user__first_name", "-user__username", "-pk"),
}


def reviewer_profiles_for(*, user, country=None, sort="name", today=None):
    """The reviewer profiles ``user`` may correct, for the country list, in four queries.

    Admins see every country's (or ``country``'s, a code), coordinators their countries'.
    Each profile carries ``open_reviews`` (across calls), its expertise with themes and its
    unavailable periods that have not ended.
    """
    today = today or timezone.localdate()
    profiles = ReviewerProfile.objects.all()
    if not user.is_staff:
        profiles = profiles.filter(country__coordinators=user)
    if country:
        profiles = profiles.filter(country__code=country)
    open_reviews = (
        Review.objects.filter(reviewer_id=OuterRef("user_id"), status__in=Review.OPEN_STATUSES)
        .order_by()
        .values("reviewer_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return (
        profiles.annotate(open_reviews=Coalesce(Subquery(open_reviews), 0))
        .select_related("user", "country")
        .prefetch_related(
            Prefetch(
                "expertise_levels",
                queryset=Expertise.objects.select_related("theme").order_by(
                    "-level", "-theme__is_priority", "theme__name"
                ),
            ),
            Prefetch(
                "unavailable_periods",
                queryset=Unavailability.objects.filter(ends_on__gte=today),
            ),
        )
        .order_by(*PROFILE_ORDERS.get(sort, PROFILE_ORDERS["name"]))
    )


def open_reviews_by_call(*, user):
    """[(call, open reviews)] of a reviewer, for calls where they have any; most first."""
    from nominations.models import Call

    counts = dict(
        Review.objects.filter(reviewer=user, status__in=Review.OPEN_STATUSES)
        .order_by()
        .values_list("nomination__call")
        .annotate(count=Count("pk"))
    )
    calls = Call.objects.filter(pk__in=counts).order_by("pk")
    return sorted(((call, counts[call.pk]) for call in calls), key=lambda row: -row[1])


def calls_over_capacity(*, user, capacity):
    """[(call, open reviews)] where the reviewer holds ``capacity`` or more: no new ones
    come until they are below it. Existing reviews are never moved."""
    return [(call, count) for call, count in open_reviews_by_call(user=user) if count >= capacity]


def profile_changes(*, profile, limit=20):
    """The latest changes to a profile, each with ``lines``: [(what, before, after)]."""
    changes = list(profile.changes.select_related("changed_by")[:limit])
    for change in changes:
        change.lines = [_change_line(item) for item in change.changes]
    return changes


#: What a logged change is called on the profile, by the field it names.
PROFILE_FIELDS = {
    "country": gettext_lazy("Home country"),
    "organisation": gettext_lazy("Organisation"),
    "languages": gettext_lazy("Languages read"),
    "capacity": gettext_lazy("Capacity"),
    "is_active": gettext_lazy("Available for new reviews"),
    "expertise": gettext_lazy("Expertise"),
    "unavailable": gettext_lazy("Unavailable"),
}


def _change_line(item):
    levels = dict(Expertise.Level.choices)
    field, old, new = item.get("field"), item.get("old"), item.get("new")
    label = PROFILE_FIELDS.get(field, field)
    if field == "expertise":
        label = f"{label}: {item.get('theme', '')}"
        old, new = levels.get(old, old), levels.get(new, new)
    elif field == "is_active":
        old, new = (_yes_no(value) for value in (old, new))
    elif field == "languages":
        old, new = (", ".join(value or []) for value in (old, new))
    return (label, "—" if old in (None, "", []) else old, "—" if new in (None, "", []) else new)


def _yes_no(value):
    return _("yes") if value else _("no")
