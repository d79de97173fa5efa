"""The knowledge hub in five languages: translations, language marks, alternates, search."""

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation

from config.site import absolute_url
from nominations.models import NominationEvent, PublishedPractice, PublishedPracticeTranslation
from nominations.search import practices_matching_unaccented, unaccented
from nominations.services import practice_translation_save

from ..factories import NominationFactory, UserFactory
from .test_hub import decided, published

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason=f"needs PostgreSQL's full-text search (this run uses {connection.vendor})",
)


@pytest.fixture
def latvian(call, countries, theme, lead, coordinator):
    """„Ciema darbnīca”, written in Latvian, published by the coordinator for Sweden."""
    nomination = decided(
        NominationFactory(
            call=call,
            country=countries["SE"],
            themes=[theme],
            language="lv",
            title="Ciema darbnīca",
            summary="Iedzīvotāji kopā remontē velosipēdus.",
            english_summary="Villagers repair bicycles together.",
        ),
        lead,
    )
    return published(nomination, coordinator)


def translate(practice, language, by, **fields):
    return practice_translation_save(
        practice=practice,
        language=language,
        by=by,
        fields={"title": "", "summary": "", "results": "", "transferability": "", **fields},
    )


def test_a_visitor_reads_the_translation_in_their_language(client, latvian, coordinator):
    translate(latvian, "fr", coordinator, title="Atelier du village", summary="Réparer ensemble.")

    html = client.get(
        reverse("hub:detail", args=[latvian.pk]), headers={"accept-language": "fr"}
    ).content.decode()

    assert '<h1 lang="fr">Atelier du village</h1>' in html
    assert '<dd lang="fr">Réparer ensemble.</dd>' in html
    assert "Ciema darbnīca</h1>" not in html
    assert 'class="help language-mark"' not in html


def test_without_their_language_a_visitor_reads_the_original_marked_with_its_language(
    client, latvian, coordinator
):
    translate(latvian, "fr", coordinator, title="Atelier du village", summary="Réparer ensemble.")

    detail = client.get(
        reverse("hub:detail", args=[latvian.pk]), headers={"accept-language": "en"}
    ).content.decode()
    listing = client.get(reverse("hub:list"), headers={"accept-language": "en"}).content.decode()

    assert '<h1 lang="lv">Ciema darbnīca</h1>' in detail
    assert '<p class="help language-mark">In Latvian</p>' in detail
    assert '<div lang="lv">' in listing
    assert '<span class="language-mark">In Latvian</span>' in listing


def test_lang_in_the_address_chooses_the_version_to_read(client, latvian, coordinator):
    translate(latvian, "sv", coordinator, title="Byverkstaden", summary="Laga cyklar ihop.")

    page = client.get(reverse("hub:detail", args=[latvian.pk]), {"lang": "sv"})

    assert page.context["text"].title == "Byverkstaden"
    assert client.get(reverse("hub:list"), {"lang": "sv"}).context["entries"][0][1].title == (
        "Byverkstaden"
    )


def test_the_detail_page_lists_an_alternate_for_each_existing_version(client, latvian, coordinator):
    translate(latvian, "fr", coordinator, title="Atelier du village", summary="Réparer ensemble.")
    translate(latvian, "en", coordinator, title="Village workshop", summary="Repairs together.")

    html = client.get(reverse("hub:detail", args=[latvian.pk])).content.decode()

    base = absolute_url(f"/hub/practices/{latvian.pk}/")
    alternates = [line for line in html.splitlines() if 'rel="alternate" hreflang=' in line]
    assert [line.strip() for line in alternates] == [
        f'<link rel="alternate" hreflang="lv" href="{base}?lang=lv">',
        f'<link rel="alternate" hreflang="en" href="{base}?lang=en">',
        f'<link rel="alternate" hreflang="fr" href="{base}?lang=fr">',
        f'<link rel="alternate" hreflang="x-default" href="{base}">',
    ]


def test_the_json_listing_gives_the_language_and_the_translations(client, latvian, coordinator):
    translate(latvian, "fr", coordinator, title="Atelier du village", summary="Réparer ensemble.")

    (practice,) = client.get(reverse("hub:json")).json()["practices"]

    assert practice["language"] == "lv"
    assert practice["title"] == "Ciema darbnīca"
    base = absolute_url(f"/hub/practices/{latvian.pk}/")
    assert practice["translations"] == {
        "fr": {
            "url": f"{base}?lang=fr",
            "title": "Atelier du village",
            "summary": "Réparer ensemble.",
            "results": "",
            "transferability": "",
        }
    }


def test_each_feed_entry_says_its_language(client, latvian, coordinator):
    translate(latvian, "sv", coordinator, title="Byverkstaden", summary="Laga cyklar ihop.")

    swedish = client.get(reverse("hub:feed"), headers={"accept-language": "sv"}).content.decode()
    english = client.get(reverse("hub:feed"), headers={"accept-language": "en"}).content.decode()

    assert '<entry xml:lang="sv"><title>Byverkstaden</title>' in swedish
    assert '<entry xml:lang="lv"><title>Ciema darbnīca</title>' in english


# --- the coordinators' page ----------------------------------------------------------------


def test_the_coordinator_adds_a_french_translation_and_it_is_recorded(client, latvian, coordinator):
    client.force_login(coordinator)
    url = reverse("nominations:public_translation", args=[latvian.nomination.pk, "fr"])

    form = client.get(url)
    saved = client.post(
        url,
        {"title": "Atelier du village", "summary": "Réparer ensemble.", "results": ""},
    )
    half = client.post(url, {"title": "Atelier", "summary": ""})

    assert form.status_code == 200
    assert saved.status_code == 302
    assert half.status_code == 200
    assert PublishedPracticeTranslation.objects.get(practice=latvian).title == (
        "Atelier du village"
    )
    event = latvian.nomination.events.get(action=NominationEvent.Action.PUBLIC_TEXT_TRANSLATED)
    assert (event.actor, event.outcome) == (coordinator, "fr: title, summary")
    with translation.override("en"):
        assert event.outcome_display == "French: title, summary"
    assert (
        "Atelier du village"
        in client.get(reverse("nominations:public", args=[latvian.nomination.pk])).content.decode()
    )


def test_emptying_a_translation_takes_it_away_and_is_recorded(latvian, coordinator):
    translate(latvian, "fr", coordinator, title="Atelier du village", summary="Réparer ensemble.")

    translate(latvian, "fr", coordinator)

    assert not PublishedPracticeTranslation.objects.exists()
    outcomes = list(
        latvian.nomination.events.filter(
            action=NominationEvent.Action.PUBLIC_TEXT_TRANSLATED
        ).values_list("outcome", flat=True)
    )
    assert outcomes == ["fr: title, summary", "fr: "]


def test_the_original_language_has_no_translation_page(client, latvian, coordinator):
    client.force_login(coordinator)

    for language in ["lv", "xx"]:
        url = reverse("nominations:public_translation", args=[latvian.nomination.pk, language])
        assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "role", ["nominator", "lead", "reviewer", "other_coordinator", "anonymous"]
)
def test_only_the_nominations_coordinators_and_admins_translate_the_public_text(
    client, request, latvian, role, countries
):
    if role == "reviewer":
        client.force_login(UserFactory(username="a-reviewer"))
    elif role == "other_coordinator":
        person = UserFactory(username="coordinator-fr")
        countries["FR"].coordinators.add(person)
        client.force_login(person)
    elif role != "anonymous":
        client.force_login(
            latvian.nomination.nominator if role == "nominator" else request.getfixturevalue(role)
        )
    url = reverse("nominations:public_translation", args=[latvian.nomination.pk, "fr"])

    response = client.post(url, {"title": "Atelier", "summary": "Réparer."})

    assert response.status_code in (302, 404)
    if role != "anonymous":
        assert response.status_code == 404
    assert not PublishedPracticeTranslation.objects.exists()


# --- search ---------------------------------------------------------------------------------


def hub_titles(client, words, language="en"):
    page = client.get(reverse("hub:list"), {"q": words}, headers={"accept-language": language})
    return [text.title for _practice, text in page.context["entries"]]


def test_search_ignores_case_and_accents(client, latvian):
    assert hub_titles(client, "darbnica") == ["Ciema darbnīca"]
    assert hub_titles(client, "DARBNĪCA") == ["Ciema darbnīca"]
    assert hub_titles(client, "Ciema Darbnica") == ["Ciema darbnīca"]
    assert hub_titles(client, "darbnīca nothing-like-it") == []


def test_search_finds_a_translations_words(client, latvian, coordinator):
    translate(latvian, "fr", coordinator, title="Atelier du village", summary="Réparer ensemble.")

    assert hub_titles(client, "reparer", language="fr") == ["Atelier du village"]


def test_the_fallback_search_ignores_case_and_accents_on_any_database(latvian, coordinator):
    translate(latvian, "sv", coordinator, title="Byverkstaden", summary="Laga cyklar på gården.")
    practices = PublishedPractice.objects.all()

    assert unaccented("Ciema DARBNĪCA, gården") == "ciema darbnica, garden"
    assert list(practices_matching_unaccented(practices, "DARBNICA")) == [latvian]
    assert list(practices_matching_unaccented(practices, "darbnīca garden")) == [latvian]
    assert list(practices_matching_unaccented(practices, "darbnica pilsēta")) == []


@pytest.mark.postgres
@needs_postgresql
def test_an_english_word_finds_its_other_forms_on_postgresql(client, latvian, coordinator):
    translate(
        latvian, "en", coordinator, title="Village workshop", summary="Mentoring young repairers."
    )

    assert hub_titles(client, "mentors") == ["Village workshop"]


@pytest.mark.postgres
@needs_postgresql
def test_a_title_match_ranks_above_a_summary_match_on_postgresql(
    client, call, countries, theme, lead, coordinator, latvian
):
    later = decided(
        NominationFactory(
            call=call,
            country=countries["SE"],
            themes=[theme],
            title="Repair evenings",
            summary="A workshop where neighbours mend things.",
        ),
        lead,
    )
    published(later, coordinator)
    translate(latvian, "en", coordinator, title="Village workshop", summary="Repairs together.")

    # The newer practice comes first without words; the title match first with them.
    assert hub_titles(client, "") == ["Repair evenings", "Village workshop"]
    assert hub_titles(client, "workshop") == ["Village workshop", "Repair evenings"]
