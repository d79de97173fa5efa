"""Reviewers bid and declare conflicts before assignment; the matcher listens."""

import pytest
from django.urls import reverse

from nominations.models import Nomination
from reviewers.models import Bid, ConflictOfInterest, Review
from reviewers.services import reviews_assign

from ..factories import CallFactory, NominationFactory, ReviewerFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

URL = "reviewers:interests"


@pytest.fixture
def french(countries, theme):
    return ReviewerFactory(
        username="french",
        reviewer_profile__country=countries["FR"],
        reviewer_profile__expertise=[theme],
    )


@pytest.fixture
def submitted(call, countries, theme):
    """A Swedish and a French nomination in screening, and a Swedish draft."""
    nominations = {
        code: NominationFactory(
            call=call, country=countries[code], themes=[theme], stage=Nomination.Stage.SCREENING
        )
        for code in ("SE", "FR")
    }
    nominations["draft"] = NominationFactory(call=call, country=countries["SE"])
    return nominations


def test_a_reviewer_sees_the_submitted_nominations_of_other_countries_only(
    client, french, submitted
):
    client.force_login(french)

    page = client.get(reverse(URL))

    ((_call, rows),) = page.context["calls"]
    assert [nomination for nomination, _bid, _conflict in rows] == [submitted["SE"]]
    html = page.content.decode()
    assert submitted["FR"].title not in html and submitted["draft"].title not in html


def test_bids_are_saved_only_where_the_call_takes_them(client, call, french, submitted):
    client.force_login(french)
    nomination = submitted["SE"]
    post = {"call": call.pk, f"bid_{nomination.pk}": "2"}

    client.post(reverse(URL), post)
    assert not Bid.objects.exists()

    call.bidding_enabled = True
    call.save()
    client.post(reverse(URL), post)
    assert list(Bid.objects.values_list("reviewer", "nomination", "level")) == [
        (french.pk, nomination.pk, Bid.Level.EAGER)
    ]
    # No bid any more: withdrawn.
    client.post(reverse(URL), {"call": call.pk, f"bid_{nomination.pk}": ""})
    assert not Bid.objects.exists()


def test_a_declared_conflict_keeps_the_reviewer_off_the_nomination(
    client, call, french, submitted, countries, theme
):
    client.force_login(french)
    nomination = submitted["SE"]
    latvian = ReviewerFactory(
        reviewer_profile__country=countries["LV"], reviewer_profile__expertise=[theme]
    )

    client.post(reverse(URL), {"call": call.pk, f"conflict_{nomination.pk}": "on"})
    reviews_assign(nomination=nomination)

    assert ConflictOfInterest.objects.filter(reviewer=french, nomination=nomination).exists()
    assert {r.reviewer for r in Review.objects.filter(nomination=nomination)} == {latvian}


def test_saving_one_call_leaves_the_other_calls_choices_alone(
    client, call, french, submitted, countries
):
    other_call = CallFactory()
    elsewhere = NominationFactory(
        call=other_call, country=countries["LV"], stage=Nomination.Stage.REVIEW
    )
    ConflictOfInterest.objects.create(reviewer=french, nomination=elsewhere)
    client.force_login(french)

    client.post(reverse(URL), {"call": call.pk})

    assert ConflictOfInterest.objects.filter(reviewer=french, nomination=elsewhere).exists()


def test_an_organisation_conflict_is_declared_and_withdrawn(client, french):
    client.force_login(french)

    client.post(reverse("reviewers:organisation_conflict"), {"organisation": "  Riga   Lab "})
    client.post(reverse("reviewers:organisation_conflict"), {"organisation": "riga lab"})
    (conflict,) = ConflictOfInterest.objects.filter(reviewer=french)
    assert conflict.organisation == "Riga Lab"

    client.post(reverse("reviewers:conflict_remove", args=[conflict.pk]))
    assert not ConflictOfInterest.objects.exists()


def test_nobody_withdraws_someone_elses_conflict(client, french, countries):
    other = ReviewerFactory(reviewer_profile__country=countries["LV"])
    conflict = ConflictOfInterest.objects.create(reviewer=other, organisation="Riga Lab")
    client.force_login(french)

    client.post(reverse("reviewers:conflict_remove", args=[conflict.pk]))

    assert ConflictOfInterest.objects.filter(pk=conflict.pk).exists()


@pytest.mark.parametrize("role", ["nominator", "coordinator", "lead"])
def test_the_page_is_for_reviewers_only(client, request, role, submitted):
    client.force_login(request.getfixturevalue(role))

    assert client.get(reverse(URL)).status_code == 404
    assert (
        client.post(reverse("reviewers:organisation_conflict"), {"organisation": "X"}).status_code
        == 404
    )
    assert not ConflictOfInterest.objects.exists()


def test_the_page_costs_the_same_queries_for_one_or_many_nominations(
    client, call, french, submitted, countries, theme, django_assert_num_queries
):
    client.force_login(french)
    client.get(reverse(URL))  # warm the session
    # The page's overhead (session, user, the staff and two-factor check, roles, bell), the
    # reviewer's profile, the nominations with their themes, bids, nomination conflicts,
    # organisation conflicts.
    with django_assert_num_queries(12):
        client.get(reverse(URL))
    for _ in range(4):
        NominationFactory(call=call, country=countries["ES"], themes=[theme], stage="review")
    with django_assert_num_queries(12):
        page = client.get(reverse(URL))
    assert len(page.context["calls"][0][1]) == 5
