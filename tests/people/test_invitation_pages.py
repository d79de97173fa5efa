"""The invitations' pages: the invitee's link, and the inviter's list with its actions."""

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from nominations.models import Invitation
from notifications.models import Message, Preference
from reviewers.models import ReviewerProfile
from tests.factories import ReviewerFactory, UserFactory
from tests.signin import signed_in_user_id
from workflow.services.people import invitation_create
from workflow.views.people import landing_after_accepting

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

Role = Invitation.Role
Status = Invitation.Status


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    """Invite, and return the invitation with the path of the link its email carries."""

    def make(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            invitation, _ = invitation_create(**kwargs)
        (path,) = re.findall(r"(/people/invitations/[\w-]+/)", mail.outbox[-1].body)
        return invitation, path

    return make


def new_account_form(**changes):
    return {
        "action": "accept",
        "first_name": "Ilze",
        "last_name": "Ozola",
        "organisation": "Riga City Council",
        "password1": "a-long-and-good-passphrase",
        "password2": "a-long-and-good-passphrase",
        "language": "lv",
        **changes,
    }


# The invitee's page -----------------------------------------------------------------------


def test_an_unknown_token_is_not_found(client, db):
    response = client.get(reverse("people:invitation", args=["no-such-token"]))
    assert response.status_code == 404


def test_without_an_account_the_invitee_makes_one_and_is_signed_in_with_the_role(
    client, coordinator, sweden, invite
):
    invitation, path = invite(
        by=coordinator, email="Ilze@Example.org", role=Role.REVIEWER, country=sweden
    )
    page = client.get(path)
    assert page.status_code == 200
    assert "Make my account and accept" in page.content.decode()
    users = get_user_model().objects.count()

    response = client.post(path, new_account_form())

    assert response.status_code == 302
    assert response["Location"] == landing_after_accepting(invitation)
    person = get_user_model().objects.get(email="ilze@example.org")
    assert get_user_model().objects.count() == users + 1
    assert signed_in_user_id(client) == person.pk
    assert (
        person.first_name,
        person.last_name,
        person.check_password(new_account_form()["password1"]),
    ) == ("Ilze", "Ozola", True)
    address = EmailAddress.objects.get(user=person)
    assert (address.email, address.verified, address.primary) == ("ilze@example.org", True, True)
    profile = ReviewerProfile.objects.get(user=person)
    assert (profile.country, profile.organisation) == (sweden, "Riga City Council")
    assert Preference.objects.get(user=person).language == "lv"
    invitation.refresh_from_db()
    assert (invitation.status, invitation.accepted_by) == (Status.ACCEPTED, person)


def test_a_reviewer_who_works_independently_may_leave_the_organisation_empty(
    client, coordinator, sweden, invite
):
    # As on the profile page: a blank organisation keeps nobody out, a made-up one could.
    _invitation, path = invite(
        by=coordinator, email="solo@example.org", role=Role.REVIEWER, country=sweden
    )

    response = client.post(path, new_account_form(organisation=""))

    assert response.status_code == 302
    profile = ReviewerProfile.objects.get(user__email="solo@example.org")
    assert profile.organisation == ""


def test_a_half_filled_account_form_keeps_what_was_typed(client, admin, sweden, invite):
    invitation, path = invite(by=admin, email="x@example.org", role=Role.REVIEWER, country=sweden)
    response = client.post(path, new_account_form(password2="something else"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "The two passwords differ." in content
    assert 'value="Riga City Council"' in content
    invitation.refresh_from_db()
    assert invitation.status == Status.PENDING
    assert not get_user_model().objects.filter(email="x@example.org").exists()


def test_with_an_account_but_signed_out_the_invitee_is_asked_to_sign_in(
    client, admin, the_call, invite
):
    person = UserFactory(username="has-account")
    invitation, path = invite(by=admin, email=person.email, role=Role.LEAD, call=the_call)
    page = client.get(path)
    sign_in = f"{reverse('account_login')}?next={path.replace('/', '%2F')}"
    assert sign_in in page.content.decode()
    client.post(path, new_account_form())  # no account is made for an address that has one
    invitation.refresh_from_db()
    assert invitation.status == Status.PENDING
    assert get_user_model().objects.filter(email=person.email).count() == 1


def test_signed_in_with_the_invited_address_the_role_is_added_to_that_account(
    client, admin, sweden, invite
):
    person = UserFactory(username="will-coordinate")
    _invitation, path = invite(by=admin, email=person.email, role=Role.COORDINATOR, country=sweden)
    client.force_login(person)
    users = get_user_model().objects.count()
    response = client.post(path, {"action": "accept"})
    assert response.status_code == 302
    assert list(sweden.coordinators.all()) == [person]
    assert get_user_model().objects.count() == users


def test_signed_in_as_another_account_the_link_is_refused_and_nothing_changes(
    client, admin, sweden, invite
):
    invitation, path = invite(
        by=admin, email="invited@example.org", role=Role.COORDINATOR, country=sweden
    )
    client.force_login(UserFactory(username="someone-else"))
    for response in (client.get(path), client.post(path, {"action": "accept"})):
        assert response.status_code == 403
        assert "Not your invitation" in response.content.decode()
    response = client.post(path, {"action": "decline", "reason": "not me"})
    assert response.status_code == 403
    invitation.refresh_from_db()
    assert invitation.status == Status.PENDING
    assert list(sweden.coordinators.all()) == []


def test_the_link_works_once_and_then_says_what_happened(client, admin, sweden, invite):
    invitation, path = invite(by=admin, email="no@example.org", role=Role.REVIEWER, country=sweden)
    response = client.post(path, {"action": "decline", "reason": "No time this year."})
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert (invitation.status, invitation.decline_reason) == (Status.DECLINED, "No time this year.")
    again = client.post(path, new_account_form())
    assert again.status_code == 200
    assert "This invitation was declined on" in again.content.decode()
    assert not get_user_model().objects.filter(email="no@example.org").exists()


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"status": Status.WITHDRAWN}, "This invitation was withdrawn"),
        ({"status": Status.EXPIRED}, "This invitation has expired."),
        ({"expires_at": timezone.now() - timedelta(minutes=1)}, "This invitation has expired."),
    ],
)
def test_a_withdrawn_or_expired_link_says_so(client, admin, sweden, invite, change, says):
    invitation, path = invite(by=admin, email="x@example.org", role=Role.REVIEWER, country=sweden)
    Invitation.objects.filter(pk=invitation.pk).update(**change)
    response = client.post(path, new_account_form())
    assert says in response.content.decode()
    assert not get_user_model().objects.filter(email="x@example.org").exists()


def test_a_resent_invitation_kills_the_old_link(client, admin, sweden, invite):
    invitation, old_path = invite(
        by=admin, email="x@example.org", role=Role.REVIEWER, country=sweden
    )
    client.force_login(admin)
    client.post(reverse("people:resend", args=[invitation.pk]))
    client.logout()
    assert client.get(old_path).status_code == 404
    invitation.refresh_from_db()
    assert invitation.sent_count == 2


# The inviter's page -----------------------------------------------------------------------


@pytest.fixture
def people(admin, coordinator, other_coordinator, lead, other_lead):
    return {
        "admin": admin,
        "coordinator": coordinator,
        "other_coordinator": other_coordinator,
        "lead": lead,
        "other_lead": other_lead,
        "nominator": UserFactory(username="nominator"),
        "reviewer": ReviewerFactory(username="reviewer-fr"),
    }


@pytest.fixture
def invitations(admin, sweden, latvia, the_call):
    """One invitation of each kind: a lead, a coordinator, a Swedish and a Latvian reviewer
    for the call, and a Swedish reviewer for no call."""
    return {
        name: invitation_create(by=admin, email=f"{name}@invited.example", **kwargs)[0]
        for name, kwargs in {
            "lead": {"role": Role.LEAD, "call": the_call},
            "coordinator": {"role": Role.COORDINATOR, "country": sweden},
            "reviewer_se_call": {"role": Role.REVIEWER, "country": sweden, "call": the_call},
            "reviewer_lv_call": {"role": Role.REVIEWER, "country": latvia, "call": the_call},
            "reviewer_se": {"role": Role.REVIEWER, "country": sweden},
        }.items()
    }


#: Who sees which invitations (and may resend or withdraw them); None: the page is refused.
VISIBLE = {
    "admin": {"lead", "coordinator", "reviewer_se_call", "reviewer_lv_call", "reviewer_se"},
    "coordinator": {"reviewer_se_call", "reviewer_se"},
    "other_coordinator": {"reviewer_lv_call"},
    "lead": {"reviewer_se_call", "reviewer_lv_call"},
    "other_lead": set(),
    "nominator": None,
    "reviewer": None,
}


def test_anonymous_people_are_sent_to_sign_in(client, db):
    response = client.get(reverse("people:invitations"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("who", VISIBLE)
def test_each_role_sees_the_invitations_it_may_give(client, people, invitations, who):
    client.force_login(people[who])
    response = client.get(reverse("people:invitations"))
    if VISIBLE[who] is None:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    shown = {invitation.email.split("@")[0] for invitation in response.context["page"]}
    assert shown == VISIBLE[who]


@pytest.mark.parametrize("who", VISIBLE)
@pytest.mark.parametrize("action", ["resend", "withdraw"])
def test_each_role_resends_and_withdraws_only_what_it_sees(
    client, people, invitations, who, action
):
    client.force_login(people[who])
    for name, invitation in invitations.items():
        response = client.post(reverse(f"people:{action}", args=[invitation.pk]))
        invitation.refresh_from_db()
        if VISIBLE[who] and name in VISIBLE[who]:
            assert response.status_code == 302
            assert (invitation.sent_count, invitation.status) == (
                (2, Status.PENDING) if action == "resend" else (1, Status.WITHDRAWN)
            )
        else:
            assert response.status_code in {403, 404}
            assert (invitation.sent_count, invitation.status) == (1, Status.PENDING)


def test_the_actions_are_post_only(client, admin, invitations):
    client.force_login(admin)
    invitation = invitations["lead"]
    assert client.get(reverse("people:withdraw", args=[invitation.pk])).status_code == 405


def test_a_coordinator_invites_a_reviewer_from_the_page(client, coordinator, sweden, latvia):
    client.force_login(coordinator)
    page = client.get(reverse("people:invitations"))
    form = page.context["form"]
    assert list(form.fields["role"].choices) == [("reviewer", "Reviewer")]
    assert list(form.fields["country"].queryset) == [sweden]
    response = client.post(
        reverse("people:invitations"),
        {"email": "New@Example.org", "role": "reviewer", "country": sweden.pk, "language": "sv"},
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.country, invitation.language, invitation.inviter) == (
        "new@example.org",
        sweden,
        "sv",
        coordinator,
    )
    assert Message.objects.get().to_email == "new@example.org"


def test_a_refused_invitation_keeps_the_form_as_typed(client, coordinator, sweden, latvia):
    client.force_login(coordinator)
    response = client.post(
        reverse("people:invitations"),
        {
            "email": "new@example.org",
            "role": "reviewer",
            "language": "sv",
            "message": "Please join us",
        },
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "A reviewer is invited for a country." in content
    assert "Please join us" in content
    assert Invitation.objects.count() == 0


def test_counts_per_status_and_the_status_filter(client, admin, invitations):
    Invitation.objects.filter(pk=invitations["lead"].pk).update(
        status=Status.DECLINED, decline_reason="Busy"
    )
    client.force_login(admin)
    response = client.get(reverse("people:invitations"), {"status": "declined"})
    counts = {value: count for value, _label, count in response.context["counts"]}
    assert (counts["pending"], counts["declined"], counts["accepted"]) == (4, 1, 0)
    assert [i.email for i in response.context["page"]] == ["lead@invited.example"]
    assert "Busy" in response.content.decode()


def test_the_list_reads_in_a_fixed_number_of_queries(
    client, admin, sweden, django_assert_max_num_queries
):
    client.force_login(admin)
    for count in (1, 30):
        for n in range(Invitation.objects.count(), count):
            invitation_create(
                by=admin, email=f"p{n}@example.org", role=Role.REVIEWER, country=sweden
            )
        with django_assert_max_num_queries(20):
            assert client.get(reverse("people:invitations")).status_code == 200


@pytest.mark.parametrize(
    ("who", "shown"),
    [
        ("admin", True),
        ("coordinator", True),
        ("lead", True),
        ("nominator", False),
        ("reviewer", False),
    ],
)
def test_the_menu_links_to_invitations_for_those_who_invite(client, people, who, shown):
    client.force_login(people[who])
    content = client.get(reverse("workflow:home")).content.decode()
    assert (f'href="{reverse("people:invitations")}"' in content) == shown


@pytest.mark.parametrize("who", ["admin", "coordinator", "lead"])
def test_the_invitations_page_links_to_inviting_from_a_spreadsheet(client, people, who):
    client.force_login(people[who])

    page = client.get(reverse("people:invitations")).content.decode()

    assert f'href="{reverse("people:import")}"' in page
