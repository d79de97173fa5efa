"""The first visit follows the browser; a signed-in person's choice follows them."""

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse

from notifications.models import Preference
from notifications.services import language_for

from ..factories import UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

PASSWORD = "secret-password-1"  # every UserFactory user's password


def sign_in(client, user, **headers):
    EmailAddress.objects.get_or_create(user=user, email=user.email, verified=True, primary=True)
    return client.post(
        reverse("account_login"), {"login": user.email, "password": PASSWORD}, **headers
    )


def test_a_first_visit_follows_the_browser(client):
    page = client.get(reverse("hub:list"), HTTP_ACCEPT_LANGUAGE="lv,en;q=0.5")

    assert '<html lang="lv">' in page.content.decode()


def test_a_choice_is_saved_and_wins_over_another_browser_at_the_next_sign_in(client):
    person = UserFactory(mfa=False)
    sign_in(client, person, HTTP_ACCEPT_LANGUAGE="en")
    client.post(reverse("set_language"), {"language": "lv", "next": "/"})

    elsewhere = Client()
    sign_in(elsewhere, person, HTTP_ACCEPT_LANGUAGE="fr")
    page = elsewhere.get(reverse("workflow:inbox"), HTTP_ACCEPT_LANGUAGE="fr")

    assert Preference.objects.get(user=person).language == "lv"
    assert '<html lang="lv">' in page.content.decode()


def test_signed_out_a_choice_is_only_the_browsers(client):
    client.post(reverse("set_language"), {"language": "es", "next": "/"})

    assert '<html lang="es">' in client.get(reverse("hub:list")).content.decode()
    assert not Preference.objects.exists()


def test_without_a_choice_emails_follow_the_language_last_signed_in_with():
    person = UserFactory(mfa=False)
    sign_in(Client(), person, HTTP_ACCEPT_LANGUAGE="lv")
    sign_in(Client(), person, HTTP_ACCEPT_LANGUAGE="fr")

    preference = Preference.objects.get(user=person)
    assert (preference.language, preference.signed_in_language) == ("", "fr")
    assert language_for(person) == "fr"


def test_a_chosen_language_wins_over_any_later_sign_in_for_emails(client):
    person = UserFactory(mfa=False)
    sign_in(client, person, HTTP_ACCEPT_LANGUAGE="en")
    client.post(reverse("set_language"), {"language": "sv", "next": "/"})
    sign_in(Client(), person, HTTP_ACCEPT_LANGUAGE="es")

    assert language_for(person) == "sv"
