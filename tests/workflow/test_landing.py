"""Signed out, the home page says what Nomflow is and which calls are open."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ..factories import CallFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_a_visitor_reads_what_nomflow_is_and_the_open_calls(client, call):
    now = timezone.now()
    closed = CallFactory(
        title="Closed call", opens_at=now - timedelta(days=60), closes_at=now - timedelta(days=1)
    )

    response = client.get(reverse("workflow:home"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Nomflow collects nominations of practices that work" in page
    assert call.title in page and closed.title not in page
    assert f'href="{reverse("nominations:create", args=[call.pk])}"' in page
    for name in ("hub:list", "account_login", "account_signup"):
        assert f'href="{reverse(name)}"' in page


def test_nominating_from_the_landing_page_asks_to_sign_in_first(client, call):
    url = reverse("nominations:create", args=[call.pk])

    response = client.get(url)

    assert response["Location"] == f"{reverse('account_login')}?next={url}"


def test_signed_in_people_keep_their_own_home_page(client, call, nominator):
    client.force_login(nominator)

    page = client.get(reverse("workflow:home")).content.decode()

    assert "Tasks waiting for you" in page
    assert "Nomflow collects nominations" not in page
