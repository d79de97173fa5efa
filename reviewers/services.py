"""Choosing reviewers and writing reviews.

The first assignment rule: transnational (never the nomination's country or
organisation), conflict-free, able to read the nomination, within capacity;
best theme match first, then the lightest load, spreading over countries.
"""

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from nominations.models import NominationEvent
from nominations.services import NominationError, event_record

from .models import ConflictOfInterest, CriterionScore, Review, ReviewerProfile


def _normalised(name):
    return " ".join(name.casefold().split())


def reviewers_eligible(*, nomination):
    """Reviewer profiles that may review ``nomination``, best candidates first."""
    theme_ids = list(nomination.themes.values_list("pk", flat=True))
    already_asked = Review.objects.filter(nomination=nomination).values("reviewer_id")
    conflicted = ConflictOfInterest.objects.filter(
        Q(nomination=nomination) | Q(organisation__iexact=nomination.organisation.strip())
    ).values("reviewer_id")
    profiles = (
        ReviewerProfile.objects.filter(is_active=True)
        .exclude(country_id=nomination.country_id)
        .exclude(user_id__in=already_asked)
        .exclude(user_id__in=conflicted)
        .annotate(
            open_load=Count(
                "user__reviews",
                filter=Q(user__reviews__status__in=Review.OPEN_STATUSES),
                distinct=True,
            ),
            theme_fit=Count("expertise", filter=Q(expertise__in=theme_ids), distinct=True),
        )
        .select_related("user", "country")
    )
    organisation = _normalised(nomination.organisation)
    readable = {nomination.language}
    if nomination.english_summary or nomination.language == "en":
        readable.add("en")
    candidates = [
        profile
        for profile in profiles
        if profile.open_load < profile.capacity
        and _normalised(profile.organisation) != organisation
        and readable & set(profile.languages)
    ]
    candidates.sort(key=lambda p: (-p.theme_fit, p.open_load, p.user_id))
    return candidates


def _pick_spread_over_countries(candidates, count, taken_countries=()):
    """Take the best candidates, preferring a country not yet represented."""
    chosen = []
    seen = set(taken_countries)
    for profile in candidates:
        if len(chosen) == count:
            break
        if profile.country_id not in seen:
            chosen.append(profile)
            seen.add(profile.country_id)
    for profile in candidates:
        if len(chosen) == count:
            break
        if profile not in chosen:
            chosen.append(profile)
    return chosen


@transaction.atomic
def reviews_assign(*, nomination):
    """Give the nomination the call's number of reviewers; returns the new reviews."""
    wanted = (
        nomination.call.reviewers_per_nomination
        - nomination.reviews.filter(
            status__in=[*Review.OPEN_STATUSES, Review.Status.SUBMITTED]
        ).count()
    )
    if wanted <= 0:
        return []
    chosen = _pick_spread_over_countries(reviewers_eligible(nomination=nomination), wanted)
    reviews = [Review.objects.create(nomination=nomination, reviewer=p.user) for p in chosen]
    if reviews:
        event_record(
            nomination=nomination,
            action=NominationEvent.Action.REVIEWERS_ASSIGNED,
            role=NominationEvent.Role.SYSTEM,
            outcome=", ".join(f"{p.user.email} ({p.country.code})" for p in chosen),
        )
    if len(reviews) < wanted:
        event_record(
            nomination=nomination,
            action=NominationEvent.Action.NO_REVIEWER_AVAILABLE,
            role=NominationEvent.Role.SYSTEM,
            message=_("%(missing)d of %(wanted)d reviewers could not be found in the pool.")
            % {"missing": wanted - len(reviews), "wanted": wanted},
        )
    return reviews


@transaction.atomic
def reviews_replace_declined(*, declined):
    """Choose someone in place of a reviewer who declined; ``None`` if nobody is eligible."""
    nomination = declined.nomination
    others = nomination.reviews.exclude(pk=declined.pk).exclude(status=Review.Status.DECLINED)
    taken_countries = others.values_list("reviewer__reviewer_profile__country_id", flat=True)
    chosen = _pick_spread_over_countries(
        reviewers_eligible(nomination=nomination), 1, taken_countries=taken_countries
    )
    if not chosen:
        event_record(
            nomination=nomination,
            action=NominationEvent.Action.NO_REVIEWER_AVAILABLE,
            role=NominationEvent.Role.SYSTEM,
            message=_("No eligible reviewer is left to replace %(email)s.")
            % {"email": declined.reviewer.email},
        )
        return None
    profile = chosen[0]
    replacement = Review.objects.create(
        nomination=nomination, reviewer=profile.user, replaces=declined
    )
    event_record(
        nomination=nomination,
        action=NominationEvent.Action.REVIEWER_REPLACED,
        role=NominationEvent.Role.SYSTEM,
        outcome=f"{profile.user.email} ({profile.country.code})",
    )
    return replacement


def review_scores_save(*, review, scores, comment):
    """Write the reviewer's scores and comments as they stand (a draft or final).

    ``scores`` maps a rubric criterion's id to ``(score or None, comment)``.
    """
    review.comment = comment
    for criterion_id, (score, criterion_comment) in scores.items():
        CriterionScore.objects.update_or_create(
            review=review,
            criterion_id=criterion_id,
            defaults={"score": score, "comment": criterion_comment},
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


def review_mark_submitted(*, review):
    review.status = Review.Status.SUBMITTED
    review.submitted_at = timezone.now()
    review.save(update_fields=["comment", "status", "submitted_at"])
