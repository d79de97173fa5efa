"""Invitations, spreadsheet imports and reviewer profiles in a person's data: what their copy
holds, what erasing their account leaves, and how long closed invitations are kept."""

import json
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse
from django.utils import timezone

from nominations.models import Invitation, InvitationImport, InvitationImportRow
from notifications.models import Message
from reviewers.models import Expertise, ProfileChange, expertise_set
from workflow.personal_data import (
    ERASED_IN_TEXT,
    INVITATION_RETENTION_DAYS,
    account_erase,
    invitations_retention_sweep,
    personal_data_collect,
)
from workflow.services.people import invitation_accept, invitation_create, invitation_decline
from workflow.services.people_import import invitation_import_check, invitation_import_confirm
from workflow.tasks import personal_data_retention

from ..factories import CallFactory, ReviewerFactory, ThemeFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

Role = Invitation.Role
Status = Invitation.Status


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", is_staff=True, first_name="Ada", last_name="Admin")


@pytest.fixture
def inviter(countries):
    """Sweden's coordinator, who invites reviewers."""
    user = UserFactory(username="coord", first_name="Sven", last_name="Coordinator")
    countries["SE"].coordinators.add(user)
    return user


def csv_of(*rows):
    lines = ["email,name,role,country code,organisation,themes", *rows]
    return "\n".join(lines).encode()


def imported(by, *rows, sent):
    batch = invitation_import_check(by=by, content=csv_of(*rows), file_name="people.csv")
    sent(invitation_import_confirm, batch_id=batch.pk, by=by)
    return batch


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    def run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return run


# --- the export ------------------------------------------------------------------------------


def test_a_person_gets_the_invitations_to_their_addresses_and_not_others(inviter, countries, sent):
    person = UserFactory(username="ilze", email="ilze@example.org")
    EmailAddress.objects.create(user=person, email="Ilze@Work.example", verified=True)
    sent(
        invitation_create,
        by=inviter,
        email="ilze@example.org",
        role=Role.REVIEWER,
        country=countries["SE"],
        message="We need your eye.",
    )
    work, _ = invitation_create(
        by=inviter, email="ilze@work.example", role=Role.REVIEWER, country=countries["SE"]
    )
    invitation_decline(invitation=work, reason="Not this address.")
    invitation_create(
        by=inviter, email="someone@example.org", role=Role.REVIEWER, country=countries["SE"]
    )

    data = personal_data_collect(user=person)

    assert [
        (i["email"], i["role"], i["country"], i["status"], i["invited_by"])
        for i in data["invitations_to_you"]
    ] == [
        ("ilze@example.org", "reviewer", "Sweden", "pending", "Sven Coordinator"),
        ("ilze@work.example", "reviewer", "Sweden", "declined", "Sven Coordinator"),
    ]
    assert data["invitations_to_you"][0]["personal_message"] == "We need your eye."
    assert data["invitations_to_you"][1]["decline_reason"] == "Not this address."
    # The email that invited them, sent before the account was theirs, is theirs to read.
    assert [m["kind"] for m in data["messages_sent_to_you"]] == [Message.Kind.INVITATION] * 2
    assert "someone@example.org" not in json.dumps(data)


def test_an_inviter_gets_whom_they_invited_and_their_imports_but_no_ones_reasons(
    inviter, countries, sent
):
    call = CallFactory(title="Inclusive cities")
    declined, _ = invitation_create(
        by=inviter,
        email="no@example.org",
        role=Role.REVIEWER,
        country=countries["SE"],
        call=call,
    )
    invitation_decline(invitation=declined, reason="My private reasons")
    imported(inviter, "anna@example.org,Anna Berg,reviewer,SE,Malmö stad,", sent=sent)

    data = personal_data_collect(user=inviter)

    assert [
        (i["email"], i["role"], i["country"], i["call"], i["status"])
        for i in data["invitations_you_sent"]
    ] == [
        ("no@example.org", "reviewer", "Sweden", "Inclusive cities", "declined"),
        ("anna@example.org", "reviewer", "Sweden", None, "pending"),
    ]
    [batch] = data["invitation_imports_you_uploaded"]
    assert (batch["file_name"], batch["status"], batch["rows"]) == ("people.csv", "done", 1)
    text = json.dumps(data)
    assert "My private reasons" not in text
    assert "Anna Berg" not in text
    assert data["invitations_to_you"] == []


def test_a_reviewer_gets_their_expertise_levels_and_the_changes_to_their_profile(
    countries, inviter
):
    themes = [ThemeFactory(name="Social exclusion"), ThemeFactory(name="Energy poverty")]
    reviewer = ReviewerFactory(username="rev", reviewer_profile__country=countries["SE"])
    profile = reviewer.reviewer_profile
    expertise_set(profile, themes[:1], level=Expertise.Level.EXPERT)
    Expertise.objects.create(profile=profile, theme=themes[1], level=Expertise.Level.SOME)
    ProfileChange.objects.create(
        profile=profile,
        changed_by=reviewer,
        changes=[{"field": "capacity", "old": 4, "new": 2}],
    )
    ProfileChange.objects.create(
        profile=profile,
        changed_by=inviter,
        changes=[{"field": "organisation", "old": "", "new": "Göteborgs stad"}],
    )

    data = personal_data_collect(user=reviewer)["reviewer_profile"]

    assert sorted((e["theme"], e["level"], e["level_name"]) for e in data["expertise"]) == [
        ("Energy poverty", 1, "Some knowledge"),
        ("Social exclusion", 3, "Expert"),
    ]
    assert [(c["by"], c["changes"]) for c in data["changes"]] == [
        ("you", [{"field": "capacity", "old": 4, "new": 2}]),
        ("Sven Coordinator", [{"field": "organisation", "old": "", "new": "Göteborgs stad"}]),
    ]


# --- erasure -------------------------------------------------------------------------------


def test_erasing_an_invitee_anonymises_their_invitations_emails_and_spreadsheet_rows(
    inviter, countries, sent
):
    batch = imported(
        inviter,
        "ilze@example.org,Ilze Ozola,reviewer,SE,Riga City Council,",
        "other@example.org,Other Person,reviewer,SE,Elsewhere,",
        sent=sent,
    )
    later, _ = sent(
        invitation_create,
        by=inviter,
        email="ilze@example.org",
        role=Role.REVIEWER,
        country=countries["SE"],
        call=CallFactory(),
        message="Dear Ilze, once more",
    )
    person = UserFactory(
        username="ilze", email="ilze@example.org", first_name="Ilze", last_name="Ozola"
    )
    accepted = batch.rows.get(number=2).invitation
    invitation_accept(invitation=accepted, user=person)
    assert Message.objects.filter(to_email="ilze@example.org", recipient=None).count() == 2

    account_erase(user=person, by=person)

    erased = f"erased-{person.pk}@erased.invalid"
    assert sorted(
        Invitation.objects.filter(pk__in=[accepted.pk, later.pk]).values_list(
            "email", "status", "message"
        )
    ) == sorted([(erased, Status.ACCEPTED, ""), (erased, Status.WITHDRAWN, "")])
    assert not Invitation.objects.filter(email="ilze@example.org").exists()
    assert not Message.objects.filter(to_email__iexact="ilze@example.org").exists()
    row = batch.rows.get(number=2)
    assert (row.email, row.name, row.organisation, row.theme_ids) == (ERASED_IN_TEXT, "", "", [])
    assert "Ilze" not in json.dumps(row.cells)
    assert "ilze@example.org" not in json.dumps(row.cells)
    assert row.invitation_id == accepted.pk
    other = batch.rows.get(number=3)
    assert (other.email, other.name) == ("other@example.org", "Other Person")
    assert Invitation.objects.filter(email="other@example.org", status=Status.PENDING).exists()


def test_erasing_an_inviter_keeps_the_invitations_they_sent_under_no_name(
    inviter, countries, client
):
    invitation, _ = invitation_create(
        by=inviter, email="kept@example.org", role=Role.REVIEWER, country=countries["SE"]
    )
    countries["SE"].coordinators.add(UserFactory(username="next-coordinator"))

    account_erase(user=inviter, by=inviter)

    invitation.refresh_from_db()
    assert (invitation.email, invitation.status, invitation.inviter_id) == (
        "kept@example.org",
        Status.PENDING,
        inviter.pk,
    )
    admin = UserFactory(username="admin", is_staff=True)
    client.force_login(admin)
    page = client.get("/people/invitations/").content.decode()
    assert "kept@example.org" in page
    assert "(erased person)" in page
    assert "Sven" not in page


# --- retention -----------------------------------------------------------------------------


def test_closed_invitations_and_old_imports_are_deleted_after_the_retention_period(
    admin, countries, sent
):
    now = timezone.now()
    period = timedelta(days=INVITATION_RETENTION_DAYS)
    se = countries["SE"]

    def invitation(email, status, closed_days_ago):
        made, _ = sent(invitation_create, by=admin, email=email, role=Role.REVIEWER, country=se)
        closed_at = now - timedelta(days=closed_days_ago) if closed_days_ago is not None else None
        Invitation.objects.filter(pk=made.pk).update(status=status, closed_at=closed_at)
        return made.pk

    old = {
        invitation("declined@example.org", Status.DECLINED, 91),
        invitation("withdrawn@example.org", Status.WITHDRAWN, 91),
        invitation("expired@example.org", Status.EXPIRED, 91),
    }
    kept = {
        invitation("recent@example.org", Status.DECLINED, 89),
        invitation("accepted@example.org", Status.ACCEPTED, 400),
        invitation("pending@example.org", Status.PENDING, None),
    }
    done_long_ago = imported(admin, "a@example.org,A,reviewer,SE,,", sent=sent)
    waiting_on_a_pending_one = imported(admin, "b@example.org,B,reviewer,SE,,", sent=sent)
    never_confirmed = invitation_import_check(
        by=admin, content=csv_of("c@example.org,C,reviewer,SE,,"), file_name="c.csv"
    )
    recent = imported(admin, "d@example.org,D,reviewer,SE,,", sent=sent)
    InvitationImport.objects.filter(pk__in=[done_long_ago.pk, waiting_on_a_pending_one.pk]).update(
        finished_at=now - period - timedelta(days=1)
    )
    InvitationImport.objects.filter(pk=never_confirmed.pk).update(
        created_at=now - period - timedelta(days=1)
    )
    Invitation.objects.filter(email="a@example.org").update(
        status=Status.EXPIRED, closed_at=now - timedelta(days=10)
    )

    assert invitations_retention_sweep(now=now) == (3, 2)

    assert set(Invitation.objects.filter(pk__in=old | kept).values_list("pk", flat=True)) == kept
    assert not Message.objects.filter(
        to_email__in=["declined@example.org", "withdrawn@example.org", "expired@example.org"]
    ).exists()
    assert Message.objects.filter(to_email="recent@example.org").exists()
    assert set(InvitationImport.objects.values_list("pk", flat=True)) == {
        waiting_on_a_pending_one.pk,
        recent.pk,
    }
    assert not InvitationImportRow.objects.filter(email="a@example.org").exists()
    assert invitations_retention_sweep(now=now) == (0, 0)


def test_the_retention_period_follows_the_setting(admin, countries, settings):
    settings.INVITATION_RETENTION_DAYS = 10
    made, _ = invitation_create(
        by=admin, email="x@example.org", role=Role.REVIEWER, country=countries["SE"]
    )
    Invitation.objects.filter(pk=made.pk).update(
        status=Status.DECLINED, closed_at=timezone.now() - timedelta(days=11)
    )

    assert invitations_retention_sweep(now=timezone.now()) == (1, 0)


def test_the_daily_retention_task_deletes_closed_invitations_too(admin, countries):
    made, _ = invitation_create(
        by=admin, email="x@example.org", role=Role.REVIEWER, country=countries["SE"]
    )
    Invitation.objects.filter(pk=made.pk).update(
        status=Status.EXPIRED, closed_at=timezone.now() - timedelta(days=365)
    )

    personal_data_retention.apply().get()

    assert not Invitation.objects.filter(pk=made.pk).exists()


def test_the_privacy_page_says_how_long_invitations_are_kept(client, settings):
    settings.INVITATION_RETENTION_DAYS = 45

    html = client.get(reverse("privacy:policy")).content.decode()

    assert "are deleted 45 days after they closed or finished" in html
    assert "Invitations: the address you were invited at" in html
