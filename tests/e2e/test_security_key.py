"""A coordinator signs in with a security key as the second factor, in a real browser.

Chromium's virtual authenticator (Chrome DevTools Protocol, WebAuthn domain) stands in
for the key: it answers the page's navigator.credentials calls as a USB key would, with
its PIN already entered. The live server is http://localhost:<port>, a secure context, so
the browser offers WebAuthn there and the relying party id is "localhost".
"""

import re

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from tests.factories import CountryFactory, UserFactory

from .playwright_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "secret-password-1"  # every UserFactory user's password


@pytest.fixture
def security_key(page):
    """A virtual USB security key plugged into ``page``'s browser; yields its credentials."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator_id = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )["authenticatorId"]

    def credentials():
        return cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})[
            "credentials"
        ]

    yield credentials
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator_id})
    cdp.detach()


def sign_in_with_password(page, user):
    page.goto(reverse("account_login"))
    page.get_by_label("Email").fill(user.email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()


def test_a_coordinator_adds_a_security_key_then_signs_in_with_it(page, live_server, security_key):
    coordinator = UserFactory(username="coordinator-se", mfa=False)
    CountryFactory(code="SE").coordinators.add(coordinator)
    inbox = re.compile(re.escape(reverse("workflow:inbox")) + "$")

    # Without a second factor the coordinator is sent to enrol; they choose a security key
    # rather than an authenticator app from the two-factor page.
    sign_in_with_password(page, coordinator)
    expect(page.get_by_role("status")).to_contain_text("Your role needs two-factor authentication.")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Two-factor authentication"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-Factor Authentication")
    page.get_by_role("link", name="Add", exact=True).click()
    # allauth asks for the password once more before a second factor is added.
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Add Security Key")
    page.get_by_role("button", name="Add", exact=True).click()
    # The first second factor comes with recovery codes, shown straight away.
    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery Codes")
    assert len(security_key()) == 1
    assert sorted(
        Authenticator.objects.filter(user=coordinator).values_list("type", flat=True)
    ) == [Authenticator.Type.RECOVERY_CODES, Authenticator.Type.WEBAUTHN]
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My tasks").click()
    expect(page).to_have_url(inbox)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign In", exact=True)).to_be_visible()

    sign_in_with_password(page, coordinator)
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-Factor Authentication")
    page.get_by_role("button", name="Use a security key").click()

    # Signed in: the home page welcomes them, and the inbox is theirs to open.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My tasks").click()
    expect(page).to_have_url(inbox)
    expect(page.get_by_role("heading", level=1)).to_have_text("My tasks")
    key = Authenticator.objects.get(user=coordinator, type=Authenticator.Type.WEBAUTHN)
    assert key.last_used_at is not None
