"""Invitations in a real browser: the invitee follows the link from their email."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from nominations.models import Invitation
from notifications.models import Message
from reviewers.models import ReviewerProfile
from tests.factories import CountryFactory, UserFactory
from workflow.services.people import invitation_create

from .playwright_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "secret-password-1"  # every UserFactory user's password
LINK = re.compile(r"https?://\S+/people/invitations/[\w-]+/")


def emailed_link(address):
    """The link in the invitation's email, as the outbox sent it to ``address``."""
    message = Message.objects.get(kind=Message.Kind.INVITATION, to_email=address)
    assert message.status == Message.Status.SENT
    (email,) = [email for email in mail.outbox if email.to == [address]]
    return LINK.search(email.body).group()


def test_a_new_reviewer_opens_the_link_makes_an_account_and_lands_with_the_role(page):
    sweden = CountryFactory(code="SE")
    coordinator = UserFactory(username="coordinator-se", first_name="Sara", last_name="Lind")
    sweden.coordinators.add(coordinator)
    invitation_create(
        by=coordinator,
        email="ilze.ozola@example.org",
        role=Invitation.Role.REVIEWER,
        country=sweden,
        language="en",
        message="We would value your eye on the Swedish nominations.",
    )

    page.goto(emailed_link("ilze.ozola@example.org"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your invitation")
    expect(page.locator("main")).to_contain_text(
        "Sara Lind invites you to be a peer reviewer from Sweden"
    )
    expect(page.locator("main")).to_contain_text("We would value your eye")
    page.get_by_label("First name").fill("Ilze")
    page.get_by_label("Last name").fill("Ozola")
    page.get_by_label("Organisation").fill("Riga City Council")
    page.get_by_label("Password", exact=True).fill("a-long-and-good-passphrase")
    page.get_by_label("Password (again)").fill("a-long-and-good-passphrase")
    page.get_by_role("button", name="Make my account and accept").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Welcome: you are now a reviewer from Sweden."
    )
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Bids and conflicts")).to_be_visible()
    expect(nav.get_by_role("button", name="Sign out")).to_be_visible()
    profile = ReviewerProfile.objects.select_related("user").get()
    assert (profile.user.email, profile.country, profile.organisation) == (
        "ilze.ozola@example.org",
        sweden,
        "Riga City Council",
    )

    # The link worked once: opening it again says what happened.
    page.goto(emailed_link("ilze.ozola@example.org"))
    expect(page.locator("main")).to_contain_text("This invitation was accepted on")


def test_a_signed_in_person_accepts_and_their_own_account_gains_the_role(page):
    latvia = CountryFactory(code="LV")
    admin = UserFactory(username="admin", is_staff=True)
    person = UserFactory(
        username="nominator-lv", first_name="Janis", last_name="Berzins", mfa=False
    )
    invitation_create(by=admin, email=person.email, role=Invitation.Role.REVIEWER, country=latvia)
    link = emailed_link(person.email)

    page.goto(reverse("account_login"))
    page.get_by_label("Email").fill(person.email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Sign out")

    page.goto(link)
    page.get_by_label("Organisation").fill("University of Latvia")
    page.get_by_role("button", name="Accept the invitation").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Welcome: you are now a reviewer from Latvia."
    )
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Bids and conflicts")
    ).to_be_visible()
    assert ReviewerProfile.objects.get().user == person
    assert Invitation.objects.get().accepted_by == person
