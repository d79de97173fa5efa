"""Choosing reviewers and writing reviews.

Reviewers are chosen by the matcher (``reviewers/matching.py``): never from the
nomination's country or organisation, never with a declared conflict, able to
read it, available and within capacity; then the best expertise fit, the
lightest heaviest load and the reviewers' bids. These services load its inputs,
write its choice as reviews and record why a nomination is short.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nominations.models import NominationEvent, Theme
from nominations.services import NominationError, event_record

from . import matching
from .models import (
    Bid,
    ConflictOfInterest,
    CriterionScore,
    Expertise,
    ProfileChange,
    Review,
    ReviewerProfile,
    ScoreSummary,
    Unavailability,
)
from .selectors import calls_over_capacity, matching_inputs, may_change_country

#: What the coordinator reads when a nomination is short of reviewers.
SHORTFALL_REASONS = {
    matching.Reason.OWN_COUNTRY: gettext_lazy(
        "there are not enough active reviewers from other countries"
    ),
    matching.Reason.OWN_ORGANISATION: gettext_lazy(
        "the other reviewers work for the nominating organisation"
    ),
    matching.Reason.CONFLICT: gettext_lazy(
        "the other reviewers have a declared conflict of interest with it"
    ),
    matching.Reason.ALREADY_ASKED: gettext_lazy(
        "the other reviewers were already asked, and declined"
    ),
    matching.Reason.LANGUAGE: gettext_lazy(
        "not enough reviewers read its language (add an English summary to widen the pool)"
    ),
    matching.Reason.UNAVAILABLE: gettext_lazy(
        "the other reviewers are unavailable during the review period"
    ),
    matching.Reason.CAPACITY: gettext_lazy(
        "the eligible reviewers have no capacity left in this call"
    ),
}


#: Why a coordinator may not assign a reviewer by hand (the hard rules).
REFUSALS = {
    matching.Reason.OWN_COUNTRY: gettext_lazy("is from the nomination's country"),
    matching.Reason.OWN_ORGANISATION: gettext_lazy("works for the nominating organisation"),
    matching.Reason.CONFLICT: gettext_lazy("has a declared conflict of interest with it"),
    matching.Reason.ALREADY_ASKED: gettext_lazy("was already asked to review it"),
    matching.Reason.LANGUAGE: gettext_lazy("does not read its language"),
    matching.Reason.UNAVAILABLE: gettext_lazy("is unavailable during the review period"),
    matching.Reason.CAPACITY: gettext_lazy("has no capacity left in this call"),
}


@dataclass
class Choice:
    """One reviewer as a coordinator weighs them for a nomination."""

    user: object
    country: object
    fit: int
    load: int
    capacity: int
    refusal: str = ""  # a hard rule it breaks: the choice is refused
    warnings: list = field(default_factory=list)  # soft rules it breaks


def reviewer_choices(*, nomination):
    """Every active reviewer with their fit, load, and what assigning them would break.

    Valid choices first, best fit and lightest load first.
    """
    (need,), candidates, bids = matching_inputs(call=nomination.call, nominations=[nomination])
    return choices_for(need, candidates, bids, _reviewer_users(candidates))


def _reviewer_users(candidates):
    """The candidates' users with their profile and country, in one query."""
    return {
        profile.user_id: profile.user
        for profile in ReviewerProfile.objects.filter(
            user_id__in=[c.user_id for c in candidates]
        ).select_related("user__reviewer_profile__country")
    }


def choices_for(need, candidates, bids, users):
    """``reviewer_choices`` for a need already read: no queries."""
    valid = [c for c in candidates if matching.ineligibility(need, c) is None and c.room]
    other_countries = {c.country_id for c in valid} - set(need.countries_held)
    choices = []
    for candidate in candidates:
        user = users[candidate.user_id]
        choice = Choice(
            user=user,
            country=user.reviewer_profile.country,
            fit=matching.fit(need, candidate),
            load=candidate.load,
            capacity=candidate.capacity,
        )
        reason = matching.ineligibility(need, candidate) or (
            None if candidate.room else matching.Reason.CAPACITY
        )
        if reason:
            choice.refusal = REFUSALS[reason]
        else:
            choice.warnings = _soft_warnings(need, candidate, choice, valid, other_countries, bids)
        choices.append(choice)
    choices.sort(key=lambda c: (bool(c.refusal), len(c.warnings), -c.fit, c.load, c.user.pk))
    return choices


def _soft_warnings(need, candidate, choice, valid, other_countries, bids):
    warnings = []
    if need.themes and choice.fit == 0:
        warnings.append(_("shares none of the nomination's themes"))
    if candidate.country_id in need.countries_held and other_countries:
        warnings.append(
            _(
                "would be a second reviewer from %(country)s while reviewers from other "
                "countries are free"
            )
            % {"country": choice.country.name}
        )
    if any(
        other.user_id != candidate.user_id
        and matching.fit(need, other) >= choice.fit
        and other.load < candidate.load
        for other in valid
    ):
        warnings.append(_("another reviewer fits as well with a lighter load"))
    if (
        bids
        and not bids.get((need.nomination_id, candidate.user_id))
        and any(bids.get((need.nomination_id, other.user_id)) for other in valid)
    ):
        warnings.append(_("other reviewers asked to review it"))
    return warnings


@dataclass
class Proposal:
    """The matcher's proposal for several nominations at once, ready to show."""

    result: matching.Result
    needs: dict  # nomination id -> Need
    candidates: list
    bids: dict
    users: dict  # user id -> user, with reviewer_profile and country
    capacities: dict  # user id -> capacity
    loads_before: dict  # user id -> open reviews in the call before

    def rows(self, nominations):
        """[(nomination, [(user, fit, bid)], shortfall message or "", alternatives)].

        The alternatives are the other valid reviewers a coordinator may add by hand,
        each a ``Choice`` with the soft rules it would break.
        """
        shortfalls = {s.nomination_id: s for s in self.result.shortfalls}
        rows = []
        for nomination in nominations:
            proposed = self.result.for_nomination(nomination.pk)
            pairs = [(self.users[a.user_id], a.fit, a.bid) for a in proposed]
            shortfall = shortfalls.get(nomination.pk)
            need = self.needs[nomination.pk]
            taken = {a.user_id for a in proposed}
            alternatives = [
                choice
                for choice in choices_for(need, self.candidates, self.bids, self.users)
                if not choice.refusal and choice.user.pk not in taken
            ]
            rows.append(
                (
                    nomination,
                    pairs,
                    shortfall_message(shortfall, need.wanted) if shortfall else "",
                    alternatives,
                )
            )
        return rows

    def load_rows(self):
        """[(user, before, after, capacity)] of each reviewer who gets reviews, heaviest first."""
        rows = [
            (self.users[user_id], self.loads_before[user_id], after, self.capacities[user_id])
            for user_id, after in self.result.loads.items()
            if after > self.loads_before[user_id]
        ]
        rows.sort(key=lambda row: (-row[2], row[0].pk))
        return rows


def assignment_propose(*, call, nominations):
    """Solve the assignment of ``nominations`` of ``call`` together; returns a ``Proposal``."""
    needs, candidates, bids = matching_inputs(call=call, nominations=nominations)
    result = matching.solve(needs, candidates, bids=bids)
    return Proposal(
        result=result,
        needs={need.nomination_id: need for need in needs},
        candidates=candidates,
        bids=bids,
        users=_reviewer_users(candidates),
        capacities={c.user_id: c.capacity for c in candidates},
        loads_before={c.user_id: c.load for c in candidates},
    )


def shortfall_message(shortfall, wanted):
    return _("%(missing)d of %(wanted)d reviewers could not be found: %(reason)s.") % {
        "missing": shortfall.missing,
        "wanted": wanted,
        "reason": SHORTFALL_REASONS[shortfall.reason],
    }


def reviews_create(*, nomination, user_ids, replaces=None):
    """Write the chosen reviewers as reviews of ``nomination``, and say so in its history."""
    reviews = Review.objects.bulk_create(
        [
            Review(nomination=nomination, reviewer_id=user_id, replaces=replaces)
            for user_id in user_ids
        ]
    )
    if reviews:
        people = Review.objects.filter(pk__in=[r.pk for r in reviews]).values_list(
            "reviewer__email", "reviewer__reviewer_profile__country__code"
        )
        event_record(
            nomination=nomination,
            action=NominationEvent.Action.REVIEWER_REPLACED
            if replaces
            else NominationEvent.Action.REVIEWERS_ASSIGNED,
            role=NominationEvent.Role.SYSTEM,
            outcome=", ".join(f"{email} ({code})" for email, code in people),
        )
    return reviews


#: First key of the advisory lock that makes one call's assignments one at a time.
ASSIGNMENTS_LOCK_KEY = 7305001


def call_assignments_lock(*, call_id):
    """Hold the call's assignments until this transaction ends; take it before reading loads.

    A reviewer's load is counted from committed reviews, and two assignments on
    different nominations of a call hold different process locks: without this
    both could count the same last free slot. Read after the lock, the loads
    include whatever the previous holder committed. One lock per call, not row
    locks on the chosen reviewers: dropping a reviewer found full and matching
    again would lock further rows out of order, which can deadlock.
    """
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("Take the assignments lock in a transaction.")
    if connection.vendor == "postgresql":  # SQLite already writes one transaction at a time
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ASSIGNMENTS_LOCK_KEY, call_id])


def _match_one(nomination):
    call_assignments_lock(call_id=nomination.call_id)
    needs, candidates, bids = matching_inputs(call=nomination.call, nominations=[nomination])
    (need,) = needs
    if need.wanted == 0:
        return need, matching.Result(assignments=[], shortfalls=[], loads={})
    return need, matching.solve([need], candidates, bids=bids)


# No savepoint: nothing catches a failure here to go on with the outer transaction.
@transaction.atomic(savepoint=False)
def reviews_assign(*, nomination):
    """Give the nomination the reviewers it still lacks; returns the new reviews.

    Incremental: the reviewers it has are kept and count for the two-country rule.
    A shortfall is recorded in its history with the constraint that ran out.
    """
    need, result = _match_one(nomination)
    reviews = reviews_create(
        nomination=nomination, user_ids=[a.user_id for a in result.assignments]
    )
    for shortfall in result.shortfalls:
        event_record(
            nomination=nomination,
            action=NominationEvent.Action.NO_REVIEWER_AVAILABLE,
            role=NominationEvent.Role.SYSTEM,
            message=shortfall_message(shortfall, need.wanted),
        )
    return reviews


@transaction.atomic(savepoint=False)
def reviews_replace_declined(*, declined):
    """Choose someone in place of a reviewer who declined; ``None`` if nobody is eligible."""
    nomination = declined.nomination
    _need, result = _match_one(nomination)
    if not result.assignments:
        event_record(
            nomination=nomination,
            action=NominationEvent.Action.NO_REVIEWER_AVAILABLE,
            role=NominationEvent.Role.SYSTEM,
            message=_("No eligible reviewer is left to replace %(email)s: %(reason)s.")
            % {
                "email": declined.reviewer.email,
                "reason": SHORTFALL_REASONS[
                    result.shortfalls[0].reason if result.shortfalls else matching.Reason.CAPACITY
                ],
            },
        )
        return None
    (replacement,) = reviews_create(
        nomination=nomination, user_ids=[result.assignments[0].user_id], replaces=declined
    )
    return replacement


def review_scores_save(*, review, scores, comment):
    """Write the reviewer's scores and comments as they stand (a draft or final).

    ``scores`` maps a rubric criterion's id to ``(score or None, comment)``.
    """
    review.comment = comment
    # One INSERT ... ON CONFLICT DO UPDATE for every criterion, rather than a read, a
    # savepoint and a write each: the unique (review, criterion) pair decides new or changed.
    CriterionScore.objects.bulk_create(
        [
            CriterionScore(
                review=review, criterion_id=criterion_id, score=score, comment=criterion_comment
            )
            for criterion_id, (score, criterion_comment) in scores.items()
        ],
        update_conflicts=True,
        unique_fields=["review", "criterion"],
        update_fields=["score", "comment"],
    )


@transaction.atomic
def review_save_draft(*, review, by, scores, comment):
    review = Review.objects.select_for_update().get(pk=review.pk)
    if review.reviewer_id != by.pk:
        raise NominationError(_("Only the assigned reviewer can edit this review."))
    if not review.is_open:
        raise NominationError(_("This review was already submitted or declined."))
    review_scores_save(review=review, scores=scores, comment=comment)
    review.status = Review.Status.DRAFT
    review.save(update_fields=["comment", "status"])
    return review


def review_mark_declined(*, review, reason):
    """The review ends unwritten (declined, or taken away); the flow seeks a replacement."""
    review.status = Review.Status.DECLINED
    review.decline_reason = reason
    review.save(update_fields=["status", "decline_reason"])


#: A review's given scores added to its nomination's summaries, in criterion order (two
#: reviews of one nomination then lock its summary rows in the same order). ``submitted``
#: names the review: on PostgreSQL the UPDATE that marks it submitted, in one statement.
SUMMARIES_ADD = """
    INSERT INTO {summary} (nomination_id, criterion_id, total, count, high, low)
    SELECT submitted.nomination_id, score.criterion_id, score.score, 1, score.score, score.score
    FROM submitted JOIN {score} score ON score.review_id = submitted.id
    WHERE score.score IS NOT NULL
    ORDER BY score.criterion_id
    ON CONFLICT (nomination_id, criterion_id) DO UPDATE SET
        total = {summary}.total + excluded.total,
        count = {summary}.count + excluded.count,
        high = {greatest}({summary}.high, excluded.high),
        low = {least}({summary}.low, excluded.low)
"""
SUBMITTED_POSTGRESQL = """
    WITH submitted AS (
        UPDATE {review} SET status = %s, comment = %s, submitted_at = %s
        WHERE id = %s AND status <> %s
        RETURNING id, nomination_id
    )
"""
SUBMITTED_OTHER = "WITH submitted AS (SELECT id, nomination_id FROM {review} WHERE id = %s)"


def _summaries_sql(submitted, *, greatest="GREATEST", least="LEAST"):
    return (submitted + SUMMARIES_ADD).format(
        review=Review._meta.db_table,
        score=CriterionScore._meta.db_table,
        summary=ScoreSummary._meta.db_table,
        greatest=greatest,
        least=least,
    )


def review_mark_submitted(*, review):
    """The review is submitted: its given scores count on the board from now on.

    Its scores are added to its nomination's ``ScoreSummary`` rows in the same
    transaction — on PostgreSQL in the very statement that marks it submitted, so the
    step costs no statement more. A submitted review's scores never change again (drafts
    only are edited), so adding is exact; a review already submitted is not added twice.
    Run after ``review_scores_save``: the scores added are the rows stored.
    """
    review.status = Review.Status.SUBMITTED
    review.submitted_at = timezone.now()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                _summaries_sql(SUBMITTED_POSTGRESQL),
                [review.status, review.comment, review.submitted_at, review.pk, review.status],
            )
            return
        marked = (
            Review.objects.filter(pk=review.pk)
            .exclude(status=Review.Status.SUBMITTED)
            .update(status=review.status, comment=review.comment, submitted_at=review.submitted_at)
        )
        if marked:  # SQLite: MAX and MIN of two values are its GREATEST and LEAST
            sql = _summaries_sql(SUBMITTED_OTHER, greatest="MAX", least="MIN")
            cursor.execute(sql, [review.pk])


def score_summaries_rebuild(*, nominations):
    """Recompute the ``ScoreSummary`` rows of ``nominations`` (ids or a queryset) from the
    raw scores of their submitted reviews.

    For whatever changes submitted scores other than ``review_mark_submitted``: scores
    written directly (tests, a repair) or, should one ever exist, a path that
    takes a submitted review back.
    """
    ScoreSummary.objects.filter(nomination__in=nominations).delete()
    ScoreSummary.objects.bulk_create(
        ScoreSummary(
            nomination_id=nomination_id,
            criterion_id=criterion_id,
            total=total,
            count=count,
            high=high,
            low=low,
        )
        for (nomination_id, criterion_id), (total, count, high, low) in _summaries_from_scores(
            nominations=nominations
        ).items()
    )


def _summaries_from_scores(*, nominations):
    """{(nomination id, criterion id): (total, count, high, low)} from the raw scores."""
    given = (
        CriterionScore.objects.filter(
            review__nomination__in=nominations,
            review__status=Review.Status.SUBMITTED,
            score__isnull=False,
        )
        .order_by()
        .values_list("review__nomination", "criterion")
        .annotate(total=Sum("score"), count=Count("score"), high=Max("score"), low=Min("score"))
    )
    return {(n, c): (total, count, high, low) for n, c, total, count, high, low in given}


def score_summaries_differing(*, nominations):
    """Ids of ``nominations`` whose ``ScoreSummary`` rows differ from their raw scores."""
    kept = {
        (n, c): (total, count, high, low)
        for n, c, total, count, high, low in ScoreSummary.objects.filter(
            nomination__in=nominations
        ).values_list("nomination", "criterion", "total", "count", "high", "low")
    }
    expected = _summaries_from_scores(nominations=nominations)
    return sorted(
        {n for (n, _c) in kept.keys() ^ expected.keys()}
        | {n for (n, c), row in expected.items() if kept.get((n, c), row) != row}
    )


def score_summaries_repair(*, nominations):
    """Rebuild the rows of those of ``nominations`` that differ; returns their ids.

    For an operator after a release that added the summaries (a node still running the
    old code while the others migrated) or after any repair of scores. Reviews submitted
    meanwhile wait for it: the table is locked against writers while it compares and
    rebuilds, which takes a moment even for a big call.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                table = connection.ops.quote_name(ScoreSummary._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        differing = score_summaries_differing(nominations=nominations)
        if differing:
            score_summaries_rebuild(nominations=differing)
    return differing


# --- what reviewers say before assignment ------------------------------------------------


@transaction.atomic
def reviewer_interests_save(*, reviewer, nominations, bids, conflicts):
    """Save a reviewer's bids and conflicts for ``nominations`` (those they may consider).

    ``bids`` maps a nomination id to a ``Bid.Level`` or None (no bid); it is ignored
    where the call does not allow bidding. ``conflicts`` is the set of nomination ids
    they now declare a conflict with; conflicts with the others are withdrawn.
    """
    for nomination in nominations:
        level = bids.get(nomination.pk) if nomination.call.bidding_enabled else None
        if level:
            Bid.objects.update_or_create(
                reviewer=reviewer, nomination=nomination, defaults={"level": level}
            )
        else:
            Bid.objects.filter(reviewer=reviewer, nomination=nomination).delete()
        declared = ConflictOfInterest.objects.filter(reviewer=reviewer, nomination=nomination)
        if nomination.pk in conflicts and not declared.exists():
            ConflictOfInterest.objects.create(reviewer=reviewer, nomination=nomination)
        elif nomination.pk not in conflicts:
            declared.delete()


def conflict_declare_organisation(*, reviewer, organisation, reason=""):
    """A reviewer will review nothing from ``organisation`` (their former employer, say)."""
    organisation = " ".join(organisation.split())
    if not organisation:
        raise NominationError(_("Please name the organisation."))
    return ConflictOfInterest.objects.get_or_create(
        reviewer=reviewer,
        nomination=None,
        organisation__iexact=organisation,
        defaults={"organisation": organisation, "reason": reason},
    )[0]


def conflict_withdraw(*, reviewer, conflict_id):
    ConflictOfInterest.objects.filter(reviewer=reviewer, pk=conflict_id).delete()


# --- the reviewer's profile --------------------------------------------------------------


@dataclass
class ProfileUpdate:
    """What ``profile_update`` did: the logged change (None if nothing changed), and the
    calls where the reviewer now holds as many open reviews as their capacity, or more."""

    change: object
    over_capacity: list


def _period_text(starts_on, ends_on, note):
    text = f"{starts_on:%Y-%m-%d} – {ends_on:%Y-%m-%d}"
    return f"{text} ({note})" if note else text


@transaction.atomic
def profile_update(
    *,
    profile,
    by,
    organisation,
    languages,
    capacity,
    is_active,
    expertise,
    unavailable,
    country=None,
):
    """Save a reviewer's profile as they, their coordinator or an admin corrected it.

    ``expertise`` maps a theme id to a level (themes left out: none); ``unavailable`` lists
    the periods kept, ``(id or None, starts_on, ends_on, note)``: the others are removed.
    ``country`` (a Country, or None to keep it) may be changed only by those
    ``may_change_country`` allows, and is refused while the reviewer holds an open review
    of a nomination from the new country: the cross-border rule would be broken.

    Existing reviews are never touched: a lower capacity, a theme or language dropped or a
    new absence shape only the reviews given from now on. Every change is logged in one
    ``ProfileChange`` with ``by``.
    """
    profile = (
        ReviewerProfile.objects.select_for_update().select_related("country").get(pk=profile.pk)
    )
    changes = []

    def changed(field, old, new, **extra):
        if old != new:
            changes.append({"field": field, "old": old, "new": new, **extra})

    if country is not None and country.pk != profile.country_id:
        if not may_change_country(user=by, profile=profile):
            raise PermissionDenied
        clashing = list(
            Review.objects.filter(
                reviewer_id=profile.user_id,
                status__in=Review.OPEN_STATUSES,
                nomination__country=country,
            )
            .order_by("nomination__title")
            .values_list("nomination__title", flat=True)
        )
        if clashing:
            raise NominationError(
                _(
                    "The reviewer cannot move to %(country)s while they review nominations "
                    "from there (%(titles)s): reviewers never review their own country's "
                    "nominations. Reassign those reviews first."
                )
                % {"country": country.name, "titles": ", ".join(clashing)}
            )
        changed("country", profile.country.code, country.code)
        profile.country = country
    changed("organisation", profile.organisation, organisation)
    changed("languages", list(profile.languages), list(languages))
    changed("capacity", profile.capacity, capacity)
    changed("is_active", profile.is_active, is_active)
    profile.organisation, profile.languages = organisation, list(languages)
    profile.capacity, profile.is_active = capacity, is_active
    profile.save()

    held = {e.theme_id: e for e in profile.expertise_levels.select_related("theme")}
    themes = {t.pk: t for t in Theme.objects.filter(pk__in=set(expertise) | set(held))}
    for theme_id in sorted(set(held) | set(expertise), key=lambda pk: themes[pk].name):
        old = held[theme_id].level if theme_id in held else None
        new = expertise.get(theme_id)
        changed("expertise", old, new, theme=themes[theme_id].name)
    Expertise.objects.filter(profile=profile).exclude(theme_id__in=expertise).delete()
    for theme_id, level in expertise.items():
        if theme_id not in held:
            Expertise.objects.create(profile=profile, theme_id=theme_id, level=level)
        elif held[theme_id].level != level:
            held[theme_id].level = level
            held[theme_id].save(update_fields=["level"])

    periods = {p.pk: p for p in profile.unavailable_periods.all()}
    kept = {pk for pk, *_period in unavailable if pk}
    for pk in sorted(set(periods) - kept):
        period = periods[pk]
        changed("unavailable", _period_text(period.starts_on, period.ends_on, period.note), None)
        period.delete()
    for pk, starts_on, ends_on, note in unavailable:
        new_text = _period_text(starts_on, ends_on, note)
        if pk in periods:
            period = periods[pk]
            changed(
                "unavailable", _period_text(period.starts_on, period.ends_on, period.note), new_text
            )
            period.starts_on, period.ends_on, period.note = starts_on, ends_on, note
            period.save(update_fields=["starts_on", "ends_on", "note"])
        else:
            changed("unavailable", None, new_text)
            Unavailability.objects.create(
                profile=profile, starts_on=starts_on, ends_on=ends_on, note=note
            )

    change = (
        ProfileChange.objects.create(profile=profile, changed_by=by, changes=changes)
        if changes
        else None
    )
    return ProfileUpdate(
        change=change,
        over_capacity=calls_over_capacity(user=profile.user, capacity=profile.capacity),
    )
