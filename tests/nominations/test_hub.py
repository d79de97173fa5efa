"""The public knowledge hub: only published, consented, selected practices; never reviewers."""

import pytest
from django.urls import reverse

from nominations.models import Nomination, NominationEvent, PublishedPractice, SelectionDecision
from nominations.services import NominationError, practice_draft, practice_save
from reviewers.models import Review

from ..factories import NominationFactory, ReviewerFactory, ThemeFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def decided(nomination, lead, outcome=SelectionDecision.Outcome.TRANSNATIONAL):
    nomination.stage = Nomination.Stage.DECIDED
    nomination.save(update_fields=["stage"])
    SelectionDecision.objects.create(
        nomination=nomination, outcome=outcome, rationale="Inspiring.", decided_by=lead
    )
    return nomination


def text_of(nomination, **changes):
    practice = practice_draft(nomination)
    fields = {
        name: getattr(practice, name)
        for name in ("title", "summary", "results", "transferability", "links")
    }
    return {**fields, **changes}


def published(nomination, by, **changes):
    return practice_save(
        nomination=nomination, by=by, fields=text_of(nomination, **changes), publish=True
    )


@pytest.fixture
def selected(call, countries, theme, lead, coordinator):
    """A Swedish practice selected for the transnational showcase, reviewed, published."""
    nomination = decided(
        NominationFactory(
            call=call,
            country=countries["SE"],
            themes=[theme],
            title="Neighbourhood mentors",
            english_summary="Mentors from the neighbourhood help young people into work.",
            links="https://example.org/mentors",
        ),
        lead,
    )
    reviewer = ReviewerFactory(
        username="secret-reviewer", reviewer_profile__country=countries["FR"]
    )
    Review.objects.create(
        nomination=nomination, reviewer=reviewer, status="submitted", comment="Scored 5"
    )
    published(nomination, coordinator)
    return nomination


def test_the_hub_lists_published_practices_to_anyone(client, selected):
    page = client.get(reverse("hub:list"))

    assert page.status_code == 200
    assert [p.nomination for p in page.context["page"]] == [selected]
    html = page.content.decode()
    assert "<title>Knowledge hub: best practices of social innovation · Nomflow</title>" in html
    assert '<meta name="description"' in html


def test_the_detail_page_shows_the_public_text_and_never_reviewers_scores_or_contact(
    client, selected
):
    practice = selected.published_practice

    page = client.get(reverse("hub:detail", args=[practice.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Neighbourhood mentors" in html and "Selected for the transnational showcase" in html
    assert "https://example.org/mentors" in html and "2012" in html
    for secret in (
        "secret-reviewer",
        "Scored 5",
        selected.contact_email,
        selected.contact_name,
        "Inspiring.",
    ):
        assert secret not in html


@pytest.mark.parametrize(
    "change",
    ["unpublished", "consent withdrawn"],
)
def test_a_practice_unpublished_or_without_consent_is_nowhere(
    client, selected, coordinator, change
):
    practice = selected.published_practice
    if change == "unpublished":
        practice_save(nomination=selected, by=coordinator, fields=text_of(selected), publish=False)
    else:
        Nomination.objects.filter(pk=selected.pk).update(consent_to_publish=False)

    assert list(client.get(reverse("hub:list")).context["page"]) == []
    assert client.get(reverse("hub:detail", args=[practice.pk])).status_code == 404
    assert client.get(reverse("hub:json")).json()["practices"] == []
    assert "Neighbourhood mentors" not in client.get(reverse("hub:feed")).content.decode()


def test_only_selected_and_consented_practices_can_be_published(call, countries, lead, coordinator):
    not_selected = decided(
        NominationFactory(call=call, country=countries["SE"]),
        lead,
        SelectionDecision.Outcome.NOT_SELECTED,
    )
    no_consent = decided(
        NominationFactory(call=call, country=countries["SE"], consent_to_publish=False), lead
    )
    in_review = NominationFactory(call=call, country=countries["SE"], stage=Nomination.Stage.REVIEW)

    for nomination in (not_selected, no_consent, in_review):
        with pytest.raises(NominationError):
            published(nomination, coordinator)
    assert not PublishedPractice.objects.exists()


def test_words_and_filters_narrow_the_catalogue(
    client, selected, call, countries, lead, coordinator
):
    energy = ThemeFactory(name="Energy poverty")
    cafes = decided(
        NominationFactory(
            call=call,
            country=countries["LV"],
            themes=[energy],
            kind=Nomination.Kind.METHOD,
            title="Energy cafés",
            summary="Residents of apartment blocks meet to cut their bills.",
        ),
        lead,
    )
    published(cafes, coordinator)

    def titles(**query):
        return [p.title for p in client.get(reverse("hub:list"), query).context["page"]]

    assert titles() == ["Energy cafés", "Neighbourhood mentors"]
    assert titles(q="apartment bills") == ["Energy cafés"]
    assert titles(q="mentors young") == ["Neighbourhood mentors"]
    assert titles(country=countries["SE"].pk) == ["Neighbourhood mentors"]
    assert titles(theme=energy.pk) == ["Energy cafés"]
    assert titles(kind="method") == ["Energy cafés"]
    assert titles(call=call.pk, country="not a number") == ["Energy cafés", "Neighbourhood mentors"]


def test_the_json_listing_and_the_atom_feed_carry_the_public_text(client, selected):
    listing = client.get(reverse("hub:json"))
    feed = client.get(reverse("hub:feed"))

    (practice,) = listing.json()["practices"]
    assert practice["title"] == "Neighbourhood mentors"
    assert practice["country"] == {"code": "SE", "name": selected.country.name}
    assert practice["showcase"] == "transnational"
    assert practice["links"] == ["https://example.org/mentors"]
    assert "secret-reviewer" not in listing.content.decode()
    assert feed["Content-Type"].startswith("application/atom+xml")
    assert "<title>Neighbourhood mentors</title>" in feed.content.decode()


def test_every_public_change_is_recorded(selected, coordinator):
    practice_save(
        nomination=selected,
        by=coordinator,
        fields=text_of(selected, title="Mentors in the neighbourhood"),
    )
    practice_save(nomination=selected, by=coordinator, fields=text_of(selected), publish=False)

    events = list(
        selected.events.filter(
            action__in=["published", "public_text_edited", "unpublished"]
        ).values_list("action", "actor", "outcome")
    )
    assert events == [
        ("published", coordinator.pk, ""),
        ("public_text_edited", coordinator.pk, "title"),
        ("unpublished", coordinator.pk, ""),
    ]
    assert (
        PublishedPractice.objects.get(nomination=selected).title == "Mentors in the neighbourhood"
    )


def test_the_coordinator_edits_and_publishes_from_the_page(
    client, call, countries, lead, coordinator
):
    nomination = decided(
        NominationFactory(call=call, country=countries["SE"], title="Mentors"), lead
    )
    client.force_login(coordinator)
    url = reverse("nominations:public", args=[nomination.pk])
    data = text_of(nomination, title="Mentors (public)")

    bad = client.post(url, {**data, "links": "javascript:alert(1)", "action": "publish"})
    good = client.post(url, {**data, "action": "publish"})

    assert bad.status_code == 200 and bad.context["form"].errors["links"]
    assert bad.context["form"]["title"].value() == "Mentors (public)"
    assert good.status_code == 302
    assert PublishedPractice.objects.get(nomination=nomination).is_published


@pytest.mark.parametrize(
    "role", ["nominator", "lead", "reviewer", "other_coordinator", "anonymous"]
)
def test_only_the_nominations_coordinators_and_admins_edit_the_public_text(
    client, request, selected, role, countries
):
    if role == "reviewer":
        client.force_login(selected.reviews.get().reviewer)
    elif role == "other_coordinator":
        person = UserFactory(username="coordinator-fr")
        countries["FR"].coordinators.add(person)
        client.force_login(person)
    elif role != "anonymous":
        client.force_login(
            selected.nominator if role == "nominator" else request.getfixturevalue(role)
        )
    url = reverse("nominations:public", args=[selected.pk])

    response = client.post(url, {**text_of(selected), "action": "unpublish"})

    assert response.status_code in (302, 404)
    if role != "anonymous":
        assert response.status_code == 404
    assert PublishedPractice.objects.get(nomination=selected).is_published
    assert not selected.events.filter(action=NominationEvent.Action.UNPUBLISHED).exists()


def test_the_hub_costs_the_same_queries_for_one_or_many_practices(
    client, selected, call, countries, theme, lead, coordinator, django_assert_num_queries
):
    url = reverse("hub:list")
    # The count, the page of practices with country, call and decision, their themes and
    # their translations (one query for the page, to show each in the visitor's language);
    # the search form's countries, themes and calls.
    with django_assert_num_queries(7):
        client.get(url)
    for _index in range(4):
        published(
            decided(NominationFactory(call=call, country=countries["ES"], themes=[theme]), lead),
            coordinator,
        )
    with django_assert_num_queries(7):
        page = client.get(url)
    assert len(page.context["page"]) == 5
    with django_assert_num_queries(4):
        client.get(reverse("hub:json"))
