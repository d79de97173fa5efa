"""The accessibility statement: public, linked from every page, with a way to report a problem."""

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_the_accessibility_statement_is_public_and_linked_from_every_page(client):
    page = client.get(reverse("privacy:accessibility"))
    hub = client.get(reverse("hub:list"))

    html = page.content.decode()
    assert page.status_code == 200
    assert "WCAG) 2.2 at level AA" in html
    assert 'href="mailto:privacy@localhost"' in html
    assert f'href="{reverse("privacy:accessibility")}"' in hub.content.decode()


def test_every_page_starts_with_a_link_that_skips_to_the_content(client):
    html = client.get(reverse("hub:list")).content.decode()

    body = html[html.index("<body>") :]
    assert body.index('href="#content"') < body.index("<header")
    assert '<main id="content" tabindex="-1">' in html
