"""Choosing reviewers from the database: the hard rules, the objective, and shortfalls."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from nominations.models import NominationEvent
from reviewers.matching import ineligibility
from reviewers.models import Bid, ConflictOfInterest, Review, Unavailability
from reviewers.selectors import matching_inputs
from reviewers.services import reviews_assign

from ..factories import CallFactory, NominationFactory, ReviewerFactory, ThemeFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def eligible_users(nomination):
    """Who the matcher may give ``nomination`` to: eligible and with room in the call."""
    (need,), candidates, _bids = matching_inputs(call=nomination.call, nominations=[nomination])
    ids = {c.user_id for c in candidates if ineligibility(need, c) is None and c.room > 0}
    return set(get_user_model().objects.filter(pk__in=ids))


def assigned(nomination):
    return {review.reviewer for review in Review.objects.filter(nomination=nomination)}


def history(nomination):
    return list(nomination.events.values_list("action", "message"))


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


def test_conflicts_declared_by_reviewers_exclude_them(draft, countries):
    by_nomination = ReviewerFactory(reviewer_profile__country=countries["FR"])
    by_organisation = ReviewerFactory(reviewer_profile__country=countries["LV"])
    free = ReviewerFactory(reviewer_profile__country=countries["ES"])
    ConflictOfInterest.objects.create(reviewer=by_nomination, nomination=draft)
    ConflictOfInterest.objects.create(
        reviewer=by_organisation, organisation="Malmö Neighbourhood Trust"
    )

    assert eligible_users(draft) == {free}


def test_conflicts_declared_by_the_nominator_exclude_people_and_organisations(draft, countries):
    named = ReviewerFactory(reviewer_profile__country=countries["FR"])
    colleague = ReviewerFactory(
        reviewer_profile__country=countries["LV"], reviewer_profile__organisation="Riga Lab"
    )
    free = ReviewerFactory(reviewer_profile__country=countries["ES"])
    draft.conflicts_declared = f"{named.email.upper()}\n\n  riga  LAB \n"
    draft.save()

    assert eligible_users(draft) == {free}
    assert {colleague, named}.isdisjoint(eligible_users(draft))


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


def test_capacity_counts_the_open_reviews_of_the_same_call_only(call, countries, draft):
    busy = ReviewerFactory(reviewer_profile__country=countries["FR"], reviewer_profile__capacity=1)
    elsewhere = NominationFactory(call=CallFactory(), country=countries["ES"])
    Review.objects.create(nomination=elsewhere, reviewer=busy)

    assert eligible_users(draft) == {busy}

    same_call = NominationFactory(call=call, country=countries["ES"])
    Review.objects.create(nomination=same_call, reviewer=busy)
    assert eligible_users(draft) == set()


def test_a_reviewer_away_during_the_review_period_is_not_eligible(call, countries, draft):
    away = ReviewerFactory(reviewer_profile__country=countries["FR"])
    back_later = ReviewerFactory(reviewer_profile__country=countries["LV"])
    today = timezone.localdate()
    Unavailability.objects.create(
        profile=away.reviewer_profile,
        starts_on=today + timedelta(days=3),
        ends_on=today + timedelta(days=10),
    )
    Unavailability.objects.create(
        profile=back_later.reviewer_profile,
        starts_on=today + timedelta(days=call.review_days + 1),
        ends_on=today + timedelta(days=call.review_days + 30),
    )

    assert eligible_users(draft) == {back_later}


def test_the_best_fit_is_chosen_with_two_countries(call, countries, draft, theme):
    unrelated = ThemeFactory(name="Energy poverty")
    french_experts = {
        ReviewerFactory(
            reviewer_profile__country=countries["FR"], reviewer_profile__expertise=[theme]
        )
        for _ in range(2)
    }
    latvian_generalist = ReviewerFactory(
        reviewer_profile__country=countries["LV"], reviewer_profile__expertise=[unrelated]
    )

    reviews_assign(nomination=draft)

    chosen = assigned(draft)
    # The two best fits are both French; the second country comes first.
    assert len(chosen & french_experts) == 1
    assert latvian_generalist in chosen


def test_a_bid_breaks_a_tie_when_the_call_allows_bidding(call, countries, draft, theme):
    call.reviewers_per_nomination = 1
    call.bidding_enabled = True
    call.save()
    first, second = (
        ReviewerFactory(
            reviewer_profile__country=countries[code], reviewer_profile__expertise=[theme]
        )
        for code in ("FR", "LV")
    )
    Bid.objects.create(reviewer=second, nomination=draft, level=Bid.Level.EAGER)

    reviews_assign(nomination=draft)

    assert assigned(draft) == {second}
    assert first not in assigned(draft)


def test_bids_are_ignored_where_the_call_does_not_allow_bidding(call, countries, draft, theme):
    ReviewerFactory(reviewer_profile__country=countries["FR"], reviewer_profile__expertise=[theme])
    bidder = ReviewerFactory(reviewer_profile__country=countries["LV"])
    Bid.objects.create(reviewer=bidder, nomination=draft, level=Bid.Level.EAGER)

    (_need,), _candidates, bids = matching_inputs(call=call, nominations=[draft])

    assert bids == {}


def test_incremental_assignment_keeps_the_reviewers_it_has(call, countries, draft):
    kept = ReviewerFactory(reviewer_profile__country=countries["FR"])
    Review.objects.create(nomination=draft, reviewer=kept)
    newcomer = ReviewerFactory(reviewer_profile__country=countries["LV"])
    ReviewerFactory(reviewer_profile__country=countries["FR"])

    new = reviews_assign(nomination=draft)

    assert [review.reviewer for review in new] == [newcomer]  # a second country
    assert assigned(draft) == {kept, newcomer}


def test_a_shortfall_is_recorded_with_the_constraint_that_ran_out(draft, countries):
    ReviewerFactory(reviewer_profile__country=countries["SE"])
    ReviewerFactory(reviewer_profile__country=countries["FR"])

    reviews_assign(nomination=draft)

    assert len(assigned(draft)) == 1
    assert (
        NominationEvent.Action.NO_REVIEWER_AVAILABLE,
        "1 of 2 reviewers could not be found: "
        "there are not enough active reviewers from other countries.",
    ) in history(draft)


#: One statement on PostgreSQL; six plain ORM reads on the embedded SQLite.
MATCHING_READS = 1 if connection.vendor == "postgresql" else 6


def test_reading_the_matchers_inputs_costs_the_same_queries_however_many_rows(
    call, countries, draft, theme, django_assert_num_queries
):
    for code in ("FR", "LV"):
        ReviewerFactory(
            reviewer_profile__country=countries[code], reviewer_profile__expertise=[theme]
        )
    # The pool with its loads, expertise and absences, the reviews, conflicts, themes and
    # bids: one statement.
    with django_assert_num_queries(MATCHING_READS):
        matching_inputs(call=call, nominations=[draft])
    for code in ("FR", "LV", "ES") * 4:
        ReviewerFactory(
            reviewer_profile__country=countries[code], reviewer_profile__expertise=[theme]
        )
    more = NominationFactory(call=call, country=countries["ES"], themes=[theme])
    with django_assert_num_queries(MATCHING_READS):
        matching_inputs(call=call, nominations=[draft, more])
