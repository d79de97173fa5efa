"""Signing up asks the name, and confirming the address signs the person in."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

PASSWORD = "a long and unusual passphrase 42"


def test_sign_up_asks_the_name_and_confirming_signs_the_person_in(client):
    form = client.get(reverse("account_signup")).content.decode()

    client.post(
        reverse("account_signup"),
        {
            "first_name": "Anna",
            "last_name": "Svensson",
            "email": "anna@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    user = get_user_model().objects.get(email="anna@example.org")
    link = re.search(r"https?://\S+(/accounts/confirm-email/\S+/)", mail.outbox[0].body).group(1)
    client.post(link)
    home = client.get(reverse("workflow:home")).content.decode()

    assert (
        form.index('name="first_name"')
        < form.index('name="last_name"')
        < form.index('name="email"')
    )
    assert (user.first_name, user.last_name) == ("Anna", "Svensson")
    assert "Welcome, Anna Svensson" in home


def test_sign_up_without_a_name_is_refused(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "noname@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 200
    assert not get_user_model().objects.filter(email="noname@example.org").exists()
