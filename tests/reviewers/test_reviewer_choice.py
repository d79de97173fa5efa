"""The first assignment rule: transnational, conflict-free, readable, within capacity."""

import pytest

from reviewers.models import ConflictOfInterest, Review
from reviewers.services import reviewers_eligible, reviews_assign

from ..factories import NominationFactory, ReviewerFactory, ThemeFactory

pytestmark = [pytest.mark.unit, pytest.mark.django_db]


def eligible_users(nomination):
    return {profile.user for profile in reviewers_eligible(nomination=nomination)}


def test_reviewer_from_the_nominations_country_is_never_eligible(draft, countries):
    swede = ReviewerFactory(reviewer_profile__country=countries["SE"])
    french = ReviewerFactory(reviewer_profile__country=countries["FR"])

    assert eligible_users(draft) == {french}
    assert swede not in eligible_users(draft)


def test_reviewer_from_the_nominating_organisation_is_never_eligible(draft, countries):
    ReviewerFactory(
        reviewer_profile__country=countries["FR"],
        reviewer_profile__organisation="  malmö neighbourhood TRUST ",
    )

    assert eligible_users(draft) == set()


def test_declared_conflicts_exclude_a_reviewer(draft, countries):
    by_nomination = ReviewerFactory(reviewer_profile__country=countries["FR"])
    by_organisation = ReviewerFactory(reviewer_profile__country=countries["LV"])
    free = ReviewerFactory(reviewer_profile__country=countries["ES"])
    ConflictOfInterest.objects.create(reviewer=by_nomination, nomination=draft)
    ConflictOfInterest.objects.create(
        reviewer=by_organisation, organisation="Malmö Neighbourhood Trust"
    )

    assert eligible_users(draft) == {free}


def test_reviewer_must_read_the_nomination_or_its_english_summary(draft, countries):
    draft.language = "sv"
    draft.english_summary = ""
    draft.save()
    english_only = ReviewerFactory(
        reviewer_profile__country=countries["FR"], reviewer_profile__languages=["en"]
    )
    reads_swedish = ReviewerFactory(
        reviewer_profile__country=countries["LV"], reviewer_profile__languages=["sv"]
    )

    assert eligible_users(draft) == {reads_swedish}

    draft.english_summary = "In English"
    draft.save()
    assert eligible_users(draft) == {english_only, reads_swedish}


def test_reviewer_at_capacity_is_not_eligible(call, countries, draft):
    busy = ReviewerFactory(reviewer_profile__country=countries["FR"], reviewer_profile__capacity=1)
    other = NominationFactory(call=call, country=countries["ES"])
    Review.objects.create(nomination=other, reviewer=busy)

    assert eligible_users(draft) == set()


def test_best_theme_match_is_chosen_first_then_spread_over_countries(call, countries, draft, theme):
    draft.call.reviewers_per_nomination = 2
    unrelated = ThemeFactory(name="Energy poverty")
    french_expert = ReviewerFactory(
        reviewer_profile__country=countries["FR"], reviewer_profile__expertise=[theme]
    )
    ReviewerFactory(reviewer_profile__country=countries["FR"], reviewer_profile__expertise=[theme])
    latvian_generalist = ReviewerFactory(
        reviewer_profile__country=countries["LV"], reviewer_profile__expertise=[unrelated]
    )

    reviews = reviews_assign(nomination=draft)

    assert {review.reviewer for review in reviews} == {french_expert, latvian_generalist}
