"""What a spreadsheet knew of an invitee reaches them: the acceptance form is filled in with
the row's name and organisation, and a new reviewer profile takes its organisation and its
expertise themes. An existing profile is never changed."""

import csv
import io
import re

import pytest
from django.core import mail

from nominations.models import Invitation, InvitationImportRow
from reviewers.models import Expertise, ReviewerProfile
from tests.factories import ThemeFactory, UserFactory
from workflow.services.people import (
    invitation_accept,
    invitation_accept_new_account,
    invitation_create,
    invitation_imported_row,
    split_name,
)
from workflow.services.people_import import invitation_import_check, invitation_import_confirm

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

THEMES_CELL = "Spatial segregation; Social exclusion"
HEADERS = ["email", "name", "role", "country code", "call", "language", "organisation", "themes"]


@pytest.fixture
def themes(db):
    return {
        "segregation": ThemeFactory(name="Spatial segregation"),
        "exclusion": ThemeFactory(name="Social exclusion"),
        "energy": ThemeFactory(name="Energy poverty"),
    }


@pytest.fixture
def imported(admin, sweden, latvia, themes, django_capture_on_commit_callbacks):
    """Upload and confirm a file of one reviewer row; returns (invitation, link path)."""

    def run(
        email="ilze@example.org",
        name="Ilze Anna Ozola",
        organisation="Riga City Council",
        country="SE",
    ):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        writer.writerow([email, name, "reviewer", country, "", "lv", organisation, THEMES_CELL])
        batch = invitation_import_check(
            by=admin, content=out.getvalue().encode(), file_name="people.csv"
        )
        with django_capture_on_commit_callbacks(execute=True):
            invitation_import_confirm(batch_id=batch.pk, by=admin)
        row = batch.rows.get()
        (path,) = re.findall(r"(/people/invitations/[\w-]+/)", mail.outbox[-1].body)
        return row.invitation, path

    return run


def levels(profile):
    return sorted(
        (e.theme.name, e.level)
        for e in Expertise.objects.filter(profile=profile).select_related("theme")
    )


def test_the_import_links_each_row_to_its_invitation(imported):
    invitation, _path = imported()
    row = invitation_imported_row(invitation=invitation)
    assert (row.name, row.organisation) == ("Ilze Anna Ozola", "Riga City Council")


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("Ilze Anna Ozola", ("Ilze Anna", "Ozola")),
        ("  Ilze   Ozola ", ("Ilze", "Ozola")),
        ("Ilze", ("Ilze", "")),
        ("", ("", "")),
    ],
)
def test_a_name_in_one_cell_is_split_into_first_names_and_last_name(name, parts):
    assert split_name(name) == parts


def test_the_new_account_form_is_filled_in_from_the_row(client, imported):
    _invitation, path = imported()

    form = client.get(path).context["accept_form"]

    assert (
        form["first_name"].value(),
        form["last_name"].value(),
        form["organisation"].value(),
    ) == ("Ilze Anna", "Ozola", "Riga City Council")


def test_a_new_account_gets_the_rows_organisation_and_expertise_as_experienced(
    client, imported, sweden
):
    _invitation, path = imported()

    response = client.post(
        path,
        {
            "action": "accept",
            "first_name": "Ilze Anna",
            "last_name": "Ozola",
            "organisation": "Riga City Council",
            "password1": "a-long-and-good-passphrase",
            "password2": "a-long-and-good-passphrase",
            "language": "lv",
        },
    )

    assert response.status_code == 302
    profile = ReviewerProfile.objects.get(user__email="ilze@example.org")
    assert (profile.country, profile.organisation) == (sweden, "Riga City Council")
    assert levels(profile) == [("Social exclusion", 2), ("Spatial segregation", 2)]


def test_what_the_invitee_corrects_on_the_form_wins_over_the_row(imported):
    invitation, _path = imported()

    user = invitation_accept_new_account(
        invitation=invitation,
        first_name="Ilze",
        last_name="Ozola",
        password="a-long-and-good-passphrase",
        language="lv",
        organisation="Latvian University",
    )

    assert user.reviewer_profile.organisation == "Latvian University"


def test_the_service_takes_the_rows_organisation_when_none_is_given(imported):
    invitation, _path = imported()
    person = UserFactory(username="ilze", email="ilze@example.org")

    invitation_accept(invitation=invitation, user=person)

    profile = ReviewerProfile.objects.get(user=person)
    assert profile.organisation == "Riga City Council"
    assert levels(profile) == [("Social exclusion", 2), ("Spatial segregation", 2)]


def test_an_existing_profile_is_never_changed_by_the_row(imported, admin, sweden, latvia):
    """Invited twice (by hand for Sweden, from a file for Latvia), the person accepts the
    first; accepting the second keeps the profile they made."""
    first, _ = invitation_create(
        by=admin, email="ilze@example.org", role=Invitation.Role.REVIEWER, country=sweden
    )
    second, _path = imported(country="LV", organisation="Other organisation")
    person = invitation_accept_new_account(
        invitation=first,
        first_name="Ilze",
        last_name="Ozola",
        password="a-long-and-good-passphrase",
        language="lv",
        organisation="Own organisation",
    )

    invitation_accept(invitation=second, user=person)

    profile = ReviewerProfile.objects.get(user=person)
    assert (profile.country, profile.organisation) == (sweden, "Own organisation")
    assert levels(profile) == []
    second.refresh_from_db()
    assert second.status == Invitation.Status.ACCEPTED


def test_an_invitation_made_one_at_a_time_has_no_row_and_fills_in_nothing(
    client, admin, sweden, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, _ = invitation_create(
            by=admin, email="single@example.org", role=Invitation.Role.REVIEWER, country=sweden
        )
    (path,) = re.findall(r"(/people/invitations/[\w-]+/)", mail.outbox[-1].body)

    form = client.get(path).context["accept_form"]

    assert invitation_imported_row(invitation=invitation) is None
    assert (form["first_name"].value(), form["organisation"].value()) == (None, None)
    assert not InvitationImportRow.objects.exists()
