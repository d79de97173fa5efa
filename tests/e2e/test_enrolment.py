"""A coordinator without a second factor is made to set one up, in a real browser."""

import re

import pytest
from django.urls import reverse

from tests.factories import CountryFactory, UserFactory, totp_code

from .playwright_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "secret-password-1"  # every UserFactory user's password


def test_a_coordinator_enrols_an_authenticator_app_then_reaches_the_inbox(page, live_server):
    coordinator = UserFactory(username="coordinator-se", mfa=False)
    CountryFactory(code="SE").coordinators.add(coordinator)

    page.goto(reverse("account_login"))
    page.get_by_label("Email").fill(coordinator.email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()

    # Sent to enrol; allauth first asks for the password once more.
    expect(page.get_by_role("status")).to_contain_text("Your role needs two-factor authentication.")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Activate Authenticator App")
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery Codes")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My tasks").click()
    expect(page).to_have_url(re.compile(re.escape(reverse("workflow:inbox")) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My tasks")
