"""Text a nominator typed reaches the hub's readers as text, never as markup they would run."""

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from ..factories import NominationFactory
from .test_hub import decided, published

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

ATOM = "{http://www.w3.org/2005/Atom}"
ATTACK = "<script>alert(1)</script><img src=x onerror=alert(1)>"


class Tags(HTMLParser):
    """The start tags a browser would build from an HTML string."""

    def __init__(self, html):
        super().__init__()
        self.tags = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.fixture
def hostile(call, countries, theme, lead, coordinator):
    """A published practice whose title and summary are an attack, as the nominator typed it."""
    nomination = decided(
        NominationFactory(
            call=call,
            country=countries["SE"],
            themes=[theme],
            title=f"Mentors {ATTACK}",
            summary=f"First line {ATTACK}\nSecond line",
            english_summary="",
        ),
        lead,
    )
    published(nomination, coordinator)
    return nomination.published_practice


def test_the_feed_sends_the_summary_as_text_a_reader_shows_but_never_runs(client, hostile):
    response = client.get(reverse("hub:feed"))

    # Our own feed, generated in this test: trusted input.
    entry = ET.fromstring(response.content).find(f"{ATOM}entry")  # noqa: S314
    summary = entry.find(f"{ATOM}summary")
    title = entry.find(f"{ATOM}title")
    assert title.get("type", "text") == "text"
    assert title.text == f"Mentors {ATTACK}"
    assert summary.get("type") == "html"
    # What a feed reader renders: paragraphs and a line break, the attack shown as text.
    assert Tags(summary.text).tags == [("p", {}), ("br", {})]
    assert summary.text == (
        "<p>First line &lt;script&gt;alert(1)&lt;/script&gt;"
        "&lt;img src=x onerror=alert(1)&gt;<br>Second line</p>"
    )


def test_the_hub_pages_show_the_attack_as_text(client, hostile):
    for url in [reverse("hub:list"), reverse("hub:detail", args=[hostile.pk])]:
        html = client.get(url).content.decode()

        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert not [tag for tag, attrs in Tags(html).tags if "onerror" in attrs]
        assert "<script>alert(1)" not in html


def test_the_json_listing_carries_the_text_as_data_never_as_a_page(client, hostile):
    response = client.get(reverse("hub:json"))

    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    practice = json.loads(response.content)["practices"][0]
    assert (practice["title"], practice["summary"]) == (hostile.title, hostile.summary)
    assert "<script" not in response.content.decode()
