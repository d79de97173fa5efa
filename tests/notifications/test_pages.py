"""The bell, the notifications list, the settings page and the staff outbox."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from notifications.models import Message, Notification, Preference
from notifications.services import MAX_ATTEMPTS, notify

from ..factories import UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

#: Queries every signed-in page makes besides its own: the session, the user,
#: whether a staff role has its second factor (config.signin), the navigation's roles
#: (coordinated countries, reviewer profile, led calls) and the bell's unread count
#: (as in tests/nominations/test_query_counts.py).
PAGE_OVERHEAD = 7
#: The page of notifications (read by cursor: no count).
NOTIFICATION_LIST_QUERIES = PAGE_OVERHEAD + 1
#: The failed messages' count; the page of messages with recipients (by cursor: no count);
#: the bouncing addresses with their people.
OUTBOX_QUERIES = PAGE_OVERHEAD + 3


@pytest.fixture
def staff(db):
    return UserFactory(username="staff", is_staff=True)


def notification(user, title, *, path="/tasks/1/", read=False):
    return Notification.objects.create(
        recipient=user, title=title, path=path, read_at=timezone.now() if read else None
    )


def message(user, *, status=Message.Status.SENT, attempts=1, last_error="", subject=None):
    return Message.objects.create(
        idempotency_key=f"test:{Message.objects.count()}:{user.pk}",
        kind=Message.Kind.DECIDED,
        recipient=user,
        to_email=user.email,
        language="en",
        subject=subject or f"Decision on “Practice {Message.objects.count()}”",
        context={
            "nomination_title": "Mentors",
            "message": "Well done",
            "outcome": "national",
            "path": "/nominations/1/",
            "url": "http://testserver/nominations/1/",
        },
        status=status,
        attempts=attempts,
        last_error=last_error,
    )


# --- the bell --------------------------------------------------------------------------


def test_the_bell_shows_the_unread_count_in_the_header(client, nominator):
    notification(nominator, "One")
    notification(nominator, "Two")
    notification(nominator, "Read already", read=True)
    notification(UserFactory(username="someone-else"), "Not mine")
    client.force_login(nominator)

    html = client.get(reverse("workflow:home")).content.decode()

    assert '<span class="badge unread-badge">2</span>' in html
    assert 'aria-label="Notifications: 2 unread"' in html


def test_the_bell_has_no_badge_when_everything_is_read(client, nominator):
    notification(nominator, "Read already", read=True)
    client.force_login(nominator)

    html = client.get(reverse("workflow:home")).content.decode()

    assert "unread-badge" not in html
    assert 'aria-label="Notifications: 0 unread"' in html


# --- the list --------------------------------------------------------------------------


def test_the_list_shows_only_the_persons_own_notifications(client, nominator):
    mine = [notification(nominator, "Mine, older"), notification(nominator, "Mine, newer")]
    notification(UserFactory(username="someone-else"), "Someone else's")
    client.force_login(nominator)

    response = client.get(reverse("notifications:list"))

    assert list(response.context["page"]) == mine[::-1]
    html = response.content.decode()
    assert "Mine, newer" in html
    assert "Someone else&#x27;s" not in html


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, nominator):
    opened = notification(nominator, "A task for you", path="/tasks/42/")
    other = notification(nominator, "Still unread")
    client.force_login(nominator)

    response = client.post(reverse("notifications:open", args=[opened.pk]))

    assert (response.status_code, response.url) == (302, "/tasks/42/")
    opened.refresh_from_db()
    other.refresh_from_db()
    assert opened.read_at is not None
    assert other.read_at is None


def test_opening_needs_a_post(client, nominator):
    opened = notification(nominator, "A task for you")
    client.force_login(nominator)

    assert client.get(reverse("notifications:open", args=[opened.pk])).status_code == 405
    opened.refresh_from_db()
    assert opened.read_at is None


def test_nobody_opens_someone_elses_notification(client, nominator):
    theirs = notification(UserFactory(username="someone-else"), "Theirs")
    client.force_login(nominator)

    response = client.post(reverse("notifications:open", args=[theirs.pk]))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize("path", ["https://evil.example/", "//evil.example/tasks/", ""])
def test_a_notification_never_sends_anyone_off_site(client, nominator, path):
    opened = notification(nominator, "Odd link", path=path)
    client.force_login(nominator)

    response = client.post(reverse("notifications:open", args=[opened.pk]))

    assert (response.status_code, response.url) == (302, reverse("notifications:list"))


def test_mark_all_read_reads_only_ones_own(client, nominator):
    mine = [notification(nominator, "One"), notification(nominator, "Two")]
    theirs = notification(UserFactory(username="someone-else"), "Theirs")
    client.force_login(nominator)

    response = client.post(reverse("notifications:mark_all_read"))

    assert (response.status_code, response.url) == (302, reverse("notifications:list"))
    assert Notification.objects.filter(pk__in=[n.pk for n in mine], read_at=None).count() == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None
    html = client.get(reverse("notifications:list")).content.decode()
    assert "unread-badge" not in html
    assert "Mark all as read" not in html


# --- settings --------------------------------------------------------------------------


def test_the_settings_page_saves_the_persons_choices(client, nominator):
    client.force_login(nominator)
    url = reverse("notifications:preferences")
    assert client.get(url).status_code == 200

    # An unticked checkbox is absent from the form data.
    response = client.post(url, {"language": "sv", "delivery": "daily"}, follow=True)

    assert response.redirect_chain == [(url, 302)]
    preference = Preference.objects.get(user=nominator)
    assert (preference.language, preference.email_non_essential, preference.delivery) == (
        "sv",
        False,
        Preference.Delivery.DAILY,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Your notification settings are saved."
    ]


def test_the_settings_page_refuses_an_unknown_choice(client, nominator):
    client.force_login(nominator)

    response = client.post(
        reverse("notifications:preferences"),
        {"language": "xx", "email_non_essential": "on", "delivery": "hourly"},
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"language", "delivery"}
    assert Preference.objects.get(user=nominator).language == ""


def test_the_settings_page_needs_a_signed_in_person(client):
    response = client.get(reverse("notifications:preferences"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


# --- the outbox ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["nominator", "coordinator", "reviewer", "lead"])
def test_the_outbox_is_for_staff_only(client, request, role, reviewers):
    person = reviewers[0] if role == "reviewer" else request.getfixturevalue(role)
    failed = message(person, status=Message.Status.FAILED, attempts=MAX_ATTEMPTS)
    client.force_login(person)

    bounced(person)

    page = client.get(reverse("notifications:outbox"))
    resend = client.post(reverse("notifications:resend", args=[failed.pk]))
    clear = client.post(reverse("notifications:bounce_clear", args=[person.pk]))

    for response in (page, resend, clear):
        assert response.status_code == 403
    assert "You are authenticated as" not in page.content.decode()
    assert page.templates[0].name == "403.html"
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (Message.Status.FAILED, MAX_ATTEMPTS)
    assert Preference.objects.get(user=person).bounced_at is not None
    home = client.get(reverse("workflow:home")).content.decode()
    assert reverse("notifications:outbox") not in home


def test_anonymous_people_are_sent_to_the_sites_sign_in_page_for_the_outbox(client):
    response = client.get(reverse("notifications:outbox"))

    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next={reverse('notifications:outbox')}"


def test_the_outbox_lists_status_attempts_and_last_error_for_staff(client, staff, nominator):
    sent = message(nominator, subject="Decision on “Sent”")
    failed = message(
        nominator,
        status=Message.Status.FAILED,
        attempts=MAX_ATTEMPTS,
        last_error="SMTPRecipientsRefused: 550 5.1.1 unknown user",
        subject="Decision on “Failed”",
    )
    client.force_login(staff)

    response = client.get(reverse("notifications:outbox"))

    assert response.status_code == 200
    assert list(response.context["page"]) == [failed, sent]
    assert response.context["failed_count"] == 1
    html = response.content.decode()
    assert "<td>Failed</td>" in html
    assert f"<td>{MAX_ATTEMPTS}</td>" in html
    assert "SMTPRecipientsRefused: 550 5.1.1 unknown user" in html
    assert "1 message failed and needs attention." in html

    only_failed = client.get(reverse("notifications:outbox"), {"status": "failed"})
    assert list(only_failed.context["page"]) == [failed]


def test_resending_a_failed_message_sends_it(
    client, staff, nominator, django_capture_on_commit_callbacks
):
    failed = message(
        nominator,
        status=Message.Status.FAILED,
        attempts=MAX_ATTEMPTS,
        last_error="SMTPServerDisconnected: Connection unexpectedly closed",
    )
    client.force_login(staff)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("notifications:resend", args=[failed.pk]))

    assert (response.status_code, response.url) == (302, reverse("notifications:outbox"))
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == (Message.Status.SENT, 1, "")
    assert [(email.to, email.subject) for email in mail.outbox] == [
        ([nominator.email], failed.subject)
    ]


def bounced(user, reason="bounced: 550 5.1.1 mailbox unavailable"):
    Preference.objects.update_or_create(
        user=user, defaults={"bounced_at": timezone.now(), "bounce_reason": reason}
    )


def test_the_outbox_shows_staff_the_addresses_that_bounce_and_lets_them_resume_email(
    client, staff, nominator, coordinator, django_capture_on_commit_callbacks
):
    bounced(nominator)
    client.force_login(staff)

    html = client.get(reverse("notifications:outbox")).content.decode()

    assert nominator.email in html
    assert "bounced: 550 5.1.1 mailbox unavailable" in html
    assert coordinator.email not in html

    response = client.post(reverse("notifications:bounce_clear", args=[nominator.pk]))

    assert (response.status_code, response.url) == (302, reverse("notifications:outbox"))
    preference = Preference.objects.get(user=nominator)
    assert (preference.bounced_at, preference.bounce_reason) == (None, "")
    assert "No address bounces." in client.get(reverse("notifications:outbox")).content.decode()
    # And email to the address goes out again.
    with django_capture_on_commit_callbacks(execute=True):
        message_after = notify(
            recipient=nominator,
            kind=Message.Kind.DECIDED,
            key="test:after-clear",
            context={"nomination_title": "Mentors", "message": "", "outcome": "national"},
        )
    message_after.refresh_from_db()
    assert message_after.status == Message.Status.SENT


def test_clearing_an_address_that_does_not_bounce_is_not_found(client, staff, nominator):
    client.force_login(staff)

    response = client.post(reverse("notifications:bounce_clear", args=[nominator.pk]))

    assert response.status_code == 404


def test_resending_needs_a_post(client, staff, nominator):
    failed = message(nominator, status=Message.Status.FAILED, attempts=MAX_ATTEMPTS)
    client.force_login(staff)

    assert client.get(reverse("notifications:resend", args=[failed.pk])).status_code == 405
    failed.refresh_from_db()
    assert failed.status == Message.Status.FAILED


# --- bounded reads ---------------------------------------------------------------------


def test_the_notifications_list_costs_the_same_queries_for_one_or_three_rows(
    client, django_assert_num_queries, nominator
):
    url = reverse("notifications:list")
    notification(nominator, "One")
    client.force_login(nominator)

    with django_assert_num_queries(NOTIFICATION_LIST_QUERIES):
        one = client.get(url)
    notification(nominator, "Two", read=True)
    notification(nominator, "Three")
    with django_assert_num_queries(NOTIFICATION_LIST_QUERIES):
        three = client.get(url)

    assert (len(one.context["page"]), len(three.context["page"])) == (1, 3)


def test_the_outbox_costs_the_same_queries_for_one_or_three_rows(
    client, django_assert_num_queries, staff, nominator, coordinator
):
    url = reverse("notifications:outbox")
    message(nominator)
    client.force_login(staff)

    with django_assert_num_queries(OUTBOX_QUERIES):
        one = client.get(url)
    message(coordinator, status=Message.Status.FAILED, attempts=MAX_ATTEMPTS, last_error="Boom")
    message(nominator, status=Message.Status.PENDING, attempts=0)
    with django_assert_num_queries(OUTBOX_QUERIES):
        three = client.get(url)

    assert (len(one.context["page"]), len(three.context["page"])) == (1, 3)
