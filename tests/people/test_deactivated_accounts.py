"""An address whose account is deactivated cannot accept (its owner cannot sign in): such an
invitation is refused when made, shown as blocked when it exists, and its link says so."""

import csv
import io
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from nominations.models import Invitation, InvitationImportRow
from tests.factories import UserFactory
from workflow.services.people import InvitationError, invitation_create, invitation_resend
from workflow.services.people_import import invitation_import_check, row_error_text

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

Role = Invitation.Role
REFUSAL = (
    "This address belongs to an account that has been deactivated; ask an administrator to "
    "reactivate it."
)


@pytest.fixture
def deactivated(db):
    return UserFactory(username="gone", email="gone@example.org", is_active=False)


def pending_for(admin, country, email, django_capture_on_commit_callbacks):
    """A pending invitation made while the account was active, and its link."""
    with django_capture_on_commit_callbacks(execute=True):
        invitation, _ = invitation_create(
            by=admin, email=email, role=Role.REVIEWER, country=country
        )
    (path,) = re.findall(r"(/people/invitations/[\w-]+/)", mail.outbox[-1].body)
    return invitation, path


@pytest.mark.parametrize("written", ["gone@example.org", " Gone@Example.org "])
def test_inviting_a_deactivated_accounts_address_is_refused(admin, sweden, deactivated, written):
    with pytest.raises(InvitationError) as refused:
        invitation_create(by=admin, email=written, role=Role.REVIEWER, country=sweden)

    assert refused.value.code == "deactivated"
    assert str(refused.value) == REFUSAL
    assert Invitation.objects.count() == 0


def test_a_deactivated_accounts_other_verified_address_is_refused_too(admin, the_call, deactivated):
    EmailAddress.objects.create(user=deactivated, email="work@example.org", verified=True)

    with pytest.raises(InvitationError) as refused:
        invitation_create(by=admin, email="work@example.org", role=Role.LEAD, call=the_call)

    assert refused.value.code == "deactivated"


def test_the_invitations_page_says_why_and_keeps_what_was_typed(
    client, coordinator, sweden, deactivated
):
    client.force_login(coordinator)

    response = client.post(
        reverse("people:invitations"),
        {
            "email": "gone@example.org",
            "role": Role.REVIEWER,
            "country": sweden.pk,
            "language": "sv",
            "message": "Welcome back",
        },
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert "ask an administrator to reactivate it" in content
    assert 'value="gone@example.org"' in content
    assert Invitation.objects.count() == 0


def test_the_spreadsheet_preview_marks_the_row_as_an_error(admin, sweden, deactivated):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "role", "country code"])
    writer.writerow(["gone@example.org", "reviewer", "SE"])

    batch = invitation_import_check(by=admin, content=out.getvalue().encode(), file_name="a.csv")

    row = batch.rows.get()
    assert (row.planned, [e["code"] for e in row.errors]) == (
        InvitationImportRow.Outcome.ERROR,
        ["deactivated"],
    )
    assert row_error_text(row.errors[0]) == REFUSAL


def test_a_pending_invitation_whose_account_was_deactivated_is_shown_as_blocked(
    client, admin, sweden, django_capture_on_commit_callbacks
):
    person = UserFactory(username="leaves", email="leaves@example.org")
    blocked, _path = pending_for(admin, sweden, person.email, django_capture_on_commit_callbacks)
    other, _path = pending_for(
        admin, sweden, "fine@example.org", django_capture_on_commit_callbacks
    )
    person.is_active = False
    person.save(update_fields=["is_active"])
    client.force_login(admin)

    page = client.get(reverse("people:invitations"))

    shown = {i.email: i.blocked for i in page.context["page"].object_list}
    assert shown == {"leaves@example.org": True, "fine@example.org": False}
    content = page.content.decode()
    assert "Blocked" in content
    assert reverse("people:resend", args=[blocked.pk]) not in content
    assert reverse("people:resend", args=[other.pk]) in content
    assert reverse("people:withdraw", args=[blocked.pk]) in content


def test_a_blocked_invitation_is_not_resent(admin, sweden, django_capture_on_commit_callbacks):
    person = UserFactory(username="leaves", email="leaves@example.org")
    invitation, _path = pending_for(admin, sweden, person.email, django_capture_on_commit_callbacks)
    person.is_active = False
    person.save(update_fields=["is_active"])

    with pytest.raises(InvitationError) as refused:
        invitation_resend(invitation=invitation, by=admin)

    assert refused.value.code == "deactivated"
    invitation.refresh_from_db()
    assert invitation.sent_count == 1


def test_the_link_of_a_blocked_invitation_says_so_instead_of_asking_to_sign_in(
    client, admin, sweden, django_capture_on_commit_callbacks
):
    person = UserFactory(username="leaves", email="leaves@example.org")
    invitation, path = pending_for(admin, sweden, person.email, django_capture_on_commit_callbacks)
    person.is_active = False
    person.save(update_fields=["is_active"])

    response = client.get(path)

    content = response.content.decode()
    assert response.status_code == 200
    assert REFUSAL in content
    assert reverse("account_login") + "?next=" not in content
    assert client.post(path, {"action": "accept"}).status_code == 200
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING


def test_a_reactivated_account_may_be_invited_again(admin, sweden, deactivated):
    deactivated.is_active = True
    deactivated.save(update_fields=["is_active"])

    invitation, created = invitation_create(
        by=admin, email="gone@example.org", role=Role.REVIEWER, country=sweden
    )

    assert (created, invitation.status) == (True, Invitation.Status.PENDING)
