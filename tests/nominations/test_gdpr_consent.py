"""Consent to publication: recorded with its date and words; withdrawing it unpublishes."""

import pytest
from django.urls import reverse

from nominations.models import Nomination
from nominations.services import nomination_update, practice_draft, practice_save

from ..factories import NominationFactory
from ..workflow.test_pages import nomination_post_data
from .test_hub import decided

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

CONSENT = "Consent to publish: The practice may appear in the public knowledge hub if selected."


@pytest.fixture
def published(call, countries, theme, lead, coordinator):
    nomination = decided(
        NominationFactory(call=call, country=countries["SE"], themes=[theme], title="Mentors"),
        lead,
    )
    practice = practice_draft(nomination)
    fields = {
        n: getattr(practice, n) for n in ("title", "summary", "results", "transferability", "links")
    }
    practice_save(nomination=nomination, by=coordinator, fields=fields, publish=True)
    return nomination


def test_ticking_consent_on_the_form_records_when_and_the_words(
    client, call, countries, theme, nominator
):
    client.force_login(nominator)

    client.post(
        reverse("nominations:create", args=[call.pk]), nomination_post_data(call, countries, theme)
    )

    nomination = Nomination.objects.get(nominator=nominator)
    assert nomination.consent_to_publish
    assert nomination.publication_consent_at is not None
    assert nomination.publication_consent_text == CONSENT


def test_unticking_it_on_a_draft_forgets_it(draft):
    Nomination.objects.filter(pk=draft.pk).update(consent_to_publish=False)
    draft.refresh_from_db()
    nomination_update(
        nomination=draft,
        by=draft.nominator,
        fields={"consent_to_publish": True},
        themes=draft.themes.all(),
        survey_answers={},
    )
    draft.refresh_from_db()
    assert draft.publication_consent_text == CONSENT

    nomination_update(
        nomination=draft,
        by=draft.nominator,
        fields={"consent_to_publish": False},
        themes=draft.themes.all(),
        survey_answers={},
    )

    draft.refresh_from_db()
    assert (draft.publication_consent_at, draft.publication_consent_text) == (None, "")


def test_withdrawing_consent_unpublishes_and_the_hub_forgets_it(client, published):
    practice = published.published_practice
    assert client.get(reverse("hub:detail", args=[practice.pk])).status_code == 200
    client.force_login(published.nominator)

    page = client.get(reverse("nominations:detail", args=[published.pk]))
    response = client.post(reverse("privacy:consent_withdraw", args=[published.pk]))
    client.logout()

    assert "Withdraw consent to publication" in page.content.decode()
    assert (response.status_code, response.url) == (
        302,
        reverse("nominations:detail", args=[published.pk]),
    )
    published.refresh_from_db()
    practice.refresh_from_db()
    assert not published.consent_to_publish
    assert published.publication_consent_at is None
    assert not practice.is_published
    assert list(published.events.values_list("action", "actor", "actor_role"))[-2:] == [
        ("consent_withdrawn", published.nominator_id, "nominator"),
        ("unpublished", published.nominator_id, "nominator"),
    ]
    assert client.get(reverse("hub:detail", args=[practice.pk])).status_code == 404
    listing = client.get(reverse("hub:json")).json()
    assert listing["count"] == 0
    assert practice.pk not in [p["id"] for p in listing["practices"]]


def test_only_the_nominator_may_withdraw_it(client, published, coordinator):
    url = reverse("privacy:consent_withdraw", args=[published.pk])

    anonymous = client.post(url)
    client.force_login(coordinator)
    by_coordinator = client.post(url)

    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("account_login"))
    assert by_coordinator.status_code == 404
    published.refresh_from_db()
    assert published.consent_to_publish
    assert published.published_practice.is_published


def test_the_privacy_page_is_public_and_linked_from_every_page(client, db):
    page = client.get(reverse("privacy:policy"))
    hub = client.get(reverse("hub:list"))

    html = page.content.decode()
    assert page.status_code == 200
    assert "730 days after the call closes" in html
    assert "privacy@localhost" in html
    assert f'href="{reverse("privacy:policy")}"' in hub.content.decode()
