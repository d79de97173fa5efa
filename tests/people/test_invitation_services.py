"""Invitations as services: who may invite whom, the link's rules, the email, the timeline."""

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from nominations.models import Invitation
from notifications.models import Message, Notification, Preference
from notifications.services import render_email
from reviewers.models import ReviewerProfile
from tests.factories import ReviewerFactory, UserFactory
from workflow.services.people import (
    InvitationError,
    invitation_accept,
    invitation_create,
    invitation_decline,
    invitation_resend,
    invitation_withdraw,
    invitations_remind_and_expire,
    token_hash_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

Role = Invitation.Role
Status = Invitation.Status


def link_token(text):
    (token,) = set(re.findall(r"/people/invitations/([\w-]+)/", text))
    return token


def sent_token(message):
    text, _html = render_email(message)
    return link_token(text)


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """Run the on-commit sends of the block: the emails land in ``mail.outbox``."""

    def run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return run


# Who may invite whom ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inviter", "role", "place", "allowed"),
    [
        ("admin", Role.LEAD, "call", True),
        ("admin", Role.COORDINATOR, "sweden", True),
        ("admin", Role.REVIEWER, "sweden", True),
        ("coordinator", Role.REVIEWER, "sweden", True),
        ("coordinator", Role.REVIEWER, "sweden+call", True),
        ("coordinator", Role.REVIEWER, "latvia", False),
        ("coordinator", Role.COORDINATOR, "sweden", False),
        ("coordinator", Role.LEAD, "call", False),
        ("other_coordinator", Role.REVIEWER, "sweden", False),
        ("lead", Role.REVIEWER, "latvia+call", True),
        ("lead", Role.REVIEWER, "sweden+call", True),
        ("lead", Role.REVIEWER, "sweden+other_call", False),
        ("lead", Role.REVIEWER, "sweden", False),
        ("lead", Role.LEAD, "call", False),
        ("other_lead", Role.REVIEWER, "sweden+call", False),
        ("nominator", Role.REVIEWER, "sweden", False),
        ("reviewer", Role.REVIEWER, "sweden", False),
    ],
)
def test_who_may_invite_whom(request, inviter, role, place, allowed, sweden, latvia, the_call):
    request.getfixturevalue("other_call")
    people = {
        "nominator": lambda: UserFactory(username="nominator"),
        "reviewer": lambda: ReviewerFactory(username="a-reviewer"),
    }
    by = people[inviter]() if inviter in people else request.getfixturevalue(inviter)
    places = {
        "call": {"call": the_call},
        "sweden": {"country": sweden},
        "latvia": {"country": latvia},
        "sweden+call": {"country": sweden, "call": the_call},
        "latvia+call": {"country": latvia, "call": the_call},
        "sweden+other_call": {
            "country": sweden,
            "call": request.getfixturevalue("other_call"),
        },
    }
    if allowed:
        invitation, created = invitation_create(
            by=by, email="new@example.org", role=role, **places[place]
        )
        assert (created, invitation.status, invitation.inviter) == (True, Status.PENDING, by)
    else:
        with pytest.raises(InvitationError) as refused:
            invitation_create(by=by, email="new@example.org", role=role, **places[place])
        assert refused.value.code == "forbidden"
        assert Invitation.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "place"),
    [
        (Role.LEAD, {}),
        (Role.LEAD, {"country": "sweden", "call": "call"}),
        (Role.COORDINATOR, {}),
        (Role.COORDINATOR, {"country": "sweden", "call": "call"}),
        (Role.REVIEWER, {"call": "call"}),
        ("chair", {"country": "sweden"}),
    ],
)
def test_a_role_without_its_place_is_refused(admin, sweden, the_call, role, place):
    objects = {"sweden": sweden, "call": the_call}
    with pytest.raises(InvitationError) as refused:
        invitation_create(
            by=admin,
            email="new@example.org",
            role=role,
            **{name: objects[value] for name, value in place.items()},
        )
    assert refused.value.code in {"place", "role"}


@pytest.mark.parametrize("email", ["", "not-an-address", "a@b", "two@example.org three@x.org"])
def test_a_bad_address_is_refused_with_a_clear_message(admin, sweden, email):
    with pytest.raises(InvitationError) as refused:
        invitation_create(by=admin, email=email, role=Role.REVIEWER, country=sweden)
    assert refused.value.code == "email"
    assert "is not an email address" in str(refused.value)


def test_an_address_that_has_the_role_already_is_refused(admin, coordinator, sweden):
    with pytest.raises(InvitationError) as refused:
        invitation_create(
            by=admin, email=coordinator.email.upper(), role=Role.COORDINATOR, country=sweden
        )
    assert refused.value.code == "has_role"


def test_inviting_again_returns_the_pending_invitation_and_sends_nothing(
    coordinator, other_coordinator, sweden, sent
):
    first, created = sent(
        invitation_create,
        by=coordinator,
        email="  Ana.Ozola@Example.ORG ",
        role=Role.REVIEWER,
        country=sweden,
        message="Welcome",
    )
    assert (created, first.email) == (True, "ana.ozola@example.org")
    again, created_again = sent(
        invitation_create,
        by=coordinator,
        email="ana.ozola@example.org",
        role=Role.REVIEWER,
        country=sweden,
        message="Another message",
    )
    assert (again.pk, created_again, again.message) == (first.pk, False, "Welcome")
    assert Invitation.objects.count() == 1
    assert len(mail.outbox) == 1


def test_an_expired_pending_invitation_is_replaced_by_a_new_one(admin, sweden):
    old, _ = invitation_create(by=admin, email="x@example.org", role=Role.REVIEWER, country=sweden)
    Invitation.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    new, created = invitation_create(
        by=admin, email="x@example.org", role=Role.REVIEWER, country=sweden
    )
    old.refresh_from_db()
    assert (created, old.status, new.status) == (True, Status.EXPIRED, Status.PENDING)


# The email --------------------------------------------------------------------------


def test_the_email_goes_to_the_address_alone_naming_inviter_role_message_expiry_and_link(
    settings, admin, sweden, sent
):
    settings.SITE_URL = "https://nomflow.example.org"
    invitation, _ = sent(
        invitation_create,
        by=admin,
        email="new@example.org",
        role=Role.COORDINATOR,
        country=sweden,
        language="en",
        message="We need you for the Swedish nominations.",
    )
    message = Message.objects.get()
    assert (message.kind, message.recipient, message.to_email, message.status) == (
        Message.Kind.INVITATION,
        None,
        "new@example.org",
        Message.Status.SENT,
    )
    assert Notification.objects.count() == 0
    (email,) = mail.outbox
    assert email.to == ["new@example.org"]
    inviter = admin.get_full_name()
    assert email.subject == f"{inviter} invites you to Nomflow"
    assert f"{inviter} invites you to be a national coordinator for Sweden" in email.body
    assert "We need you for the Swedish nominations." in email.body
    expiry = date_format(timezone.localtime(invitation.expires_at), "DATE_FORMAT")
    assert expiry in email.body
    token = link_token(email.body)
    assert f"https://nomflow.example.org/people/invitations/{token}/" in email.body
    assert f"https://nomflow.example.org/people/invitations/{token}/" in email.alternatives[0][0]
    assert Invitation.objects.get(token_hash=token_hash_for(token)) == invitation


def test_the_token_is_stored_nowhere_only_its_hash(admin, sweden):
    invitation, _ = invitation_create(
        by=admin, email="new@example.org", role=Role.REVIEWER, country=sweden
    )
    token = sent_token(Message.objects.get())
    assert len(token) >= 43
    assert invitation.token_hash == token_hash_for(token) != token
    stored = [str(value) for value in Invitation.objects.values().get().values()]
    stored += [str(Message.objects.values().get())]
    assert not any(token in value for value in stored)


def test_the_email_is_in_the_language_of_the_account_that_owns_the_address(
    admin, sweden, the_call, sent
):
    sweden.name_sv = "Sverige"
    sweden.save()
    person = UserFactory(username="swede")
    Preference.objects.create(user=person, language="sv")
    invitation, _ = sent(
        invitation_create,
        by=admin,
        email=person.email,
        role=Role.REVIEWER,
        country=sweden,
        call=the_call,
        language="fr",  # the inviter's choice gives way to the person's own
    )
    assert invitation.language == "sv"
    message = Message.objects.get()
    assert message.language == "sv"
    text, html = render_email(message)
    assert "Sverige" in text
    assert 'lang="sv"' in html
    months = ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti"]
    months += ["september", "oktober", "november", "december"]
    assert any(month in text for month in months)


def test_without_an_account_the_inviter_chooses_the_language_or_gets_their_own(admin, sweden):
    Preference.objects.create(user=admin, language="lv")
    chosen, _ = invitation_create(
        by=admin, email="a@example.org", role=Role.REVIEWER, country=sweden, language="es"
    )
    default, _ = invitation_create(
        by=admin, email="b@example.org", role=Role.REVIEWER, country=sweden
    )
    assert (chosen.language, default.language) == ("es", "lv")


# Accepting, declining, once and for its address -------------------------------------


def test_an_existing_account_gains_the_role_and_no_one_new_is_made(admin, the_call):
    person = UserFactory(username="future-lead")
    invitation, _ = invitation_create(
        by=admin, email=person.email.upper(), role=Role.LEAD, call=the_call
    )
    users = get_user_model().objects.count()
    invitation_accept(invitation=invitation, user=person)
    invitation.refresh_from_db()
    assert list(the_call.leads.all()) == [person]
    assert (invitation.status, invitation.accepted_by) == (Status.ACCEPTED, person)
    assert get_user_model().objects.count() == users


def test_a_reviewer_invitation_makes_a_profile_from_the_invitation_country(coordinator, sweden):
    person = UserFactory(username="future-reviewer")
    invitation, _ = invitation_create(
        by=coordinator, email=person.email, role=Role.REVIEWER, country=sweden, language="sv"
    )
    invitation_accept(invitation=invitation, user=person, organisation="Malmö stad")
    profile = ReviewerProfile.objects.get(user=person)
    assert (profile.country, profile.organisation) == (sweden, "Malmö stad")


def test_the_invitation_works_once(admin, sweden):
    person = UserFactory(username="someone")
    invitation, _ = invitation_create(
        by=admin, email=person.email, role=Role.COORDINATOR, country=sweden
    )
    invitation_accept(invitation=invitation, user=person)
    with pytest.raises(InvitationError) as again:
        invitation_accept(invitation=invitation, user=person)
    assert again.value.code == "closed"
    with pytest.raises(InvitationError):
        invitation_decline(invitation=invitation, reason="changed my mind")
    invitation.refresh_from_db()
    assert (invitation.status, invitation.decline_reason) == (Status.ACCEPTED, "")


def test_the_invitation_works_only_for_its_address(admin, sweden):
    invitation, _ = invitation_create(
        by=admin, email="invited@example.org", role=Role.COORDINATOR, country=sweden
    )
    stranger = UserFactory(username="stranger")
    with pytest.raises(InvitationError) as refused:
        invitation_accept(invitation=invitation, user=stranger)
    assert refused.value.code == "other_address"
    invitation.refresh_from_db()
    assert invitation.status == Status.PENDING
    assert list(sweden.coordinators.all()) == []


def test_an_account_accepts_with_another_verified_address_of_its_own(admin, sweden):
    person = UserFactory(username="two-addresses")
    EmailAddress.objects.create(user=person, email="work@example.org", verified=True)
    invitation, _ = invitation_create(
        by=admin, email="Work@example.org", role=Role.COORDINATOR, country=sweden
    )
    invitation_accept(invitation=invitation, user=person)
    assert list(sweden.coordinators.all()) == [person]


def test_an_expired_invitation_cannot_be_accepted(admin, sweden):
    person = UserFactory(username="late")
    invitation, _ = invitation_create(
        by=admin, email=person.email, role=Role.COORDINATOR, country=sweden
    )
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    with pytest.raises(InvitationError) as refused:
        invitation_accept(invitation=invitation, user=person)
    assert refused.value.code == "expired"
    assert list(sweden.coordinators.all()) == []


def test_a_declined_invitation_keeps_its_reason(admin, sweden):
    invitation, _ = invitation_create(
        by=admin, email="no@example.org", role=Role.REVIEWER, country=sweden
    )
    invitation_decline(invitation=invitation, reason="  No time this year. ")
    invitation.refresh_from_db()
    assert (invitation.status, invitation.decline_reason) == (
        Status.DECLINED,
        "No time this year.",
    )


# Resend and withdraw -----------------------------------------------------------------


def test_resending_sends_a_new_link_and_kills_the_old_one(coordinator, sweden, sent):
    invitation, _ = sent(
        invitation_create, by=coordinator, email="r@example.org", role=Role.REVIEWER, country=sweden
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() + timedelta(days=2), reminded_at=timezone.now()
    )
    sent(invitation_resend, invitation=invitation, by=coordinator)
    first, second = (link_token(email.body) for email in mail.outbox)
    invitation.refresh_from_db()
    assert first != second
    assert invitation.token_hash == token_hash_for(second)
    assert not Invitation.objects.filter(token_hash=token_hash_for(first)).exists()
    assert (invitation.sent_count, invitation.reminded_at) == (2, None)
    assert invitation.resent_at is not None
    assert invitation.expires_at > timezone.now() + timedelta(days=13)


@pytest.mark.parametrize(
    ("who", "may"),
    [
        ("admin", True),
        ("coordinator", True),
        ("lead", True),
        ("other_coordinator", False),
        ("other_lead", False),
        ("nominator", False),
    ],
)
def test_who_may_resend_and_withdraw(request, who, may, admin, sweden, the_call):
    by = UserFactory(username="nominator") if who == "nominator" else request.getfixturevalue(who)
    invitation, _ = invitation_create(
        by=admin, email="r@example.org", role=Role.REVIEWER, country=sweden, call=the_call
    )
    if may:
        invitation_resend(invitation=invitation, by=by)
        invitation_withdraw(invitation=invitation, by=by)
        invitation.refresh_from_db()
        assert (invitation.sent_count, invitation.status) == (2, Status.WITHDRAWN)
    else:
        for action in (invitation_resend, invitation_withdraw):
            with pytest.raises(InvitationError) as refused:
                action(invitation=invitation, by=by)
            assert refused.value.code == "forbidden"
        invitation.refresh_from_db()
        assert (invitation.sent_count, invitation.status) == (1, Status.PENDING)


def test_a_withdrawn_invitation_cannot_be_accepted_or_resent(admin, sweden):
    person = UserFactory(username="withdrawn")
    invitation, _ = invitation_create(
        by=admin, email=person.email, role=Role.COORDINATOR, country=sweden
    )
    invitation_withdraw(invitation=invitation, by=admin)
    for attempt in (
        lambda: invitation_accept(invitation=invitation, user=person),
        lambda: invitation_resend(invitation=invitation, by=admin),
    ):
        with pytest.raises(InvitationError) as refused:
            attempt()
        assert refused.value.code == "closed"
    assert list(sweden.coordinators.all()) == []


# The daily job: one reminder, then expiry ----------------------------------------------


def test_a_timeline_of_reminders_and_expiry(settings, admin, sweden, sent):
    settings.INVITATION_VALID_DAYS = 14
    settings.INVITATION_REMINDER_DAYS = 3
    start = timezone.now()
    answered, _ = invitation_create(
        by=admin, email="answered@example.org", role=Role.REVIEWER, country=sweden
    )
    silent, _ = sent(
        invitation_create, by=admin, email="silent@example.org", role=Role.REVIEWER, country=sweden
    )
    invitation_decline(invitation=answered, reason="")

    def run(days):
        return sent(invitations_remind_and_expire, now=start + timedelta(days=days))

    assert run(1) == (0, 0)
    assert run(10.9) == (0, 0)
    assert run(11.1) == (1, 0)
    assert run(11.2) == (0, 0)  # once only
    assert run(13.9) == (0, 0)
    assert run(14.1) == (0, 1)
    assert run(15) == (0, 0)
    silent.refresh_from_db()
    answered.refresh_from_db()
    assert (silent.status, answered.status) == (Status.EXPIRED, Status.DECLINED)
    assert [
        m.kind for m in Message.objects.filter(to_email="silent@example.org").order_by("pk")
    ] == [
        Message.Kind.INVITATION,
        Message.Kind.INVITATION_REMINDER,
    ]
    invitation_email, reminder = mail.outbox[-2:]
    # The reminder carries the same link as the invitation: both work until the end.
    assert link_token(reminder.body) == link_token(invitation_email.body)
    assert reminder.subject.startswith("Reminder: your invitation to Nomflow expires on")


def test_a_short_invitation_is_not_reminded_right_after_it_is_sent(settings, admin, sweden):
    settings.INVITATION_VALID_DAYS = 2
    invitation_create(by=admin, email="s@example.org", role=Role.REVIEWER, country=sweden)
    assert invitations_remind_and_expire(now=timezone.now() + timedelta(hours=1)) == (0, 0)
    assert invitations_remind_and_expire(now=timezone.now() + timedelta(days=1.5)) == (1, 0)


# Sending again from the staff outbox ---------------------------------------------------


@pytest.mark.parametrize(
    ("since", "live"),
    [("nothing", True), ("resent", False), ("withdrawn", False), ("accepted", False)],
)
def test_the_outbox_sends_an_invitation_again_only_while_its_link_still_works(
    client, admin, coordinator, sweden, sent, since, live
):
    invitation, _ = sent(
        invitation_create, by=coordinator, email="r@example.org", role=Role.REVIEWER, country=sweden
    )
    first = Message.objects.get(kind=Message.Kind.INVITATION)
    if since == "resent":
        sent(invitation_resend, invitation=invitation, by=coordinator)
    elif since == "withdrawn":
        invitation_withdraw(invitation=invitation, by=coordinator)
    elif since == "accepted":
        invitation_accept(invitation=invitation, user=UserFactory(email="r@example.org"))
    client.force_login(admin)
    mail.outbox.clear()

    page = sent(client.post, path=reverse("notifications:resend", args=[first.pk]), follow=True)

    first.refresh_from_db()
    shown = [str(m) for m in page.context["messages"]]
    if live:
        assert shown == ["The message is queued to be sent again."]
        (email,) = mail.outbox
        assert link_token(email.body) == sent_token(first)
        assert Invitation.objects.filter(token_hash=token_hash_for(sent_token(first))).exists()
    else:
        assert first.status == Message.Status.SENT
        assert mail.outbox == []
        assert len(shown) == 1
        assert "link no longer works" in shown[0]
