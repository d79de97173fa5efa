"""Emails written for their reader: in their language, with dates as they read them.

The password-reset email follows the person's language preference, not the browser of
whoever asked; due dates are the site's calendar day (Europe/Brussels) in the reader's
words; subjects name the nomination when there is only one.
"""

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from notifications.models import Message, Preference
from notifications.services import message_send, notify

from ..factories import UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

#: 23:30 in UTC is already the next day in Brussels.
DUE = datetime(2031, 3, 1, 23, 30, tzinfo=UTC)


@pytest.fixture
def reader(db):
    user = UserFactory(username="reader")
    Preference.objects.create(user=user, language="fr")
    return user


def sent_to(user, *, kind, context, path="/tasks/"):
    message = notify(recipient=user, kind=kind, key=f"{kind}-{user.pk}", context=context, path=path)
    message_send(message_id=message.pk)
    (email,) = mail.outbox
    return email


def test_the_password_reset_email_follows_the_persons_language_not_the_browsers(client, reader):
    client.post(
        reverse("account_reset_password"), {"email": reader.email}, HTTP_ACCEPT_LANGUAGE="sv"
    )

    (email,) = mail.outbox
    with translation.override("fr"):
        french = gettext("Password Reset Email")
    assert french != "Password Reset Email"
    assert french in email.subject


def test_a_due_date_is_the_sites_day_in_the_readers_words(reader):
    email = sent_to(
        reader,
        kind=Message.Kind.TASK_ASSIGNED,
        context={
            "node": "review",
            "nomination_title": "Neighbourhood mentors",
            "due_at": DUE.isoformat(),
        },
        path="/tasks/1/",
    )

    assert "2 mars 2031" in email.body
    assert "2031-03-01" not in email.body
    assert "2 mars 2031" in email.alternatives[0][0]


def task(title, **extra):
    return {
        "node": "review",
        "nomination_title": title,
        "due_at": DUE.isoformat(),
        "overdue": False,
        **extra,
    }


def test_a_reminder_of_one_task_names_its_nomination_and_dates_it_for_the_reader(reader):
    email = sent_to(reader, kind=Message.Kind.REMINDER, context={"tasks": [task("Mentors")]})

    with translation.override("fr"):
        expected = gettext("Reminder: “%(title)s” waits for your review") % {"title": "Mentors"}
    assert email.subject == expected
    assert "2 mars 2031" in email.body


def test_a_reminder_of_several_tasks_counts_them():
    user = UserFactory(username="english-reader")
    email = sent_to(user, kind=Message.Kind.REMINDER, context={"tasks": [task("One"), task("Two")]})

    assert email.subject == "Reminder: 2 tasks wait for you"
    assert "due March 2, 2031" in email.body


def test_an_escalation_of_one_task_names_its_nomination():
    user = UserFactory(username="english-reader")
    email = sent_to(
        user,
        kind=Message.Kind.ESCALATION,
        context={"tasks": [task("Mentors", overdue=True, nomination_path="", holders=[])]},
    )

    assert email.subject == "Overdue: “Mentors” needs your follow-up"
    assert "overdue since March 2, 2031" in email.body


def test_a_digest_of_one_update_names_it():
    user = UserFactory(username="english-reader")
    email = sent_to(
        user,
        kind=Message.Kind.DIGEST,
        context={"items": [{"subject": "Decision on “Mentors”", "path": "/nominations/1/"}]},
    )

    assert email.subject == "Your Nomflow digest: Decision on “Mentors”"


def test_a_due_date_is_the_calls_day_when_the_message_names_the_calls_time_zone(reader):
    email = sent_to(
        reader,
        kind=Message.Kind.TASK_ASSIGNED,
        context={
            "node": "review",
            "nomination_title": "Neighbourhood mentors",
            "due_at": DUE.isoformat(),
            # Still 1 March in Lisbon when it is 2 March in Brussels.
            "time_zone": "Europe/Lisbon",
        },
        path="/tasks/1/",
    )

    assert "1 mars 2031" in email.body
    assert "2 mars 2031" not in email.body
