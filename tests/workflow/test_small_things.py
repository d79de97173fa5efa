"""Filters say "All countries" rather than dashes; every page has an icon; charts count whole."""

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_the_boards_filters_offer_all_or_any_instead_of_dashes(client, call, lead):
    client.force_login(lead)

    page = client.get(reverse("workflow:board", args=[call.pk])).content.decode()

    assert "---------" not in page
    for label in ("All countries", "All themes", "All kinds", "Any stage"):
        assert f'<option value="" selected>{label}</option>' in page


def test_the_hubs_filters_offer_all_instead_of_dashes(client):
    page = client.get(reverse("hub:list")).content.decode()

    assert "---------" not in page
    for label in ("All countries", "All themes", "All kinds", "All calls"):
        assert f'<option value="" selected>{label}</option>' in page


@pytest.mark.parametrize("name", ["workflow:home", "account_login"])
def test_every_page_has_an_icon(client, name):
    page = client.get(reverse(name)).content.decode()

    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in page
    assert finders.find("img/favicon.svg")


def test_count_charts_step_by_whole_numbers():
    script = (Path(settings.BASE_DIR) / "static/js/dashboard.js").read_text()

    assert script.count("ticks: { precision: 0 }") == 2
