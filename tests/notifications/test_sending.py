"""Sending the outbox: one connection carries many messages, each still locked, sent and
marked on its own.

The messages here are written in the test's transaction, which never commits, so nothing
dispatches them: each test sends them itself, to the in-process SMTP sink of
``conftest.py`` or to a provider's API answered at its HTTP edge.
"""

import json
import re
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import responses
from django.core import mail
from django.db import DatabaseError, transaction
from django.utils import timezone

from notifications.models import Message, Preference
from notifications.sending import EmailSession
from notifications.services import (
    _email_build,
    _message_locked,
    message_send,
    messages_send,
    messages_sweep,
    notify,
    notify_address,
)

from ..factories import UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

WAIT = 30


def pending(count, *, people=None):
    """``count`` pending messages, the i-th to ``people[i]`` (or to a new person each)."""
    people = people or [UserFactory(username=f"person{i}") for i in range(count)]
    return [
        notify(
            recipient=person,
            kind=Message.Kind.DECIDED,
            key=f"test:sending:{i}",
            context={"nomination_title": f"Practice {i}", "outcome": "selected"},
            path=f"/nominations/{i}/",
        )
        for i, person in enumerate(people)
    ]


def ids(messages):
    return [message.pk for message in messages]


def outbox_rows(messages):
    return [
        Message.objects.values_list("status", "attempts").get(pk=message.pk) for message in messages
    ]


def test_a_batch_goes_out_on_one_smtp_connection_each_message_once(smtp_sink, smtp_settings):
    messages = pending(3)

    assert messages_send(message_ids=ids(messages)) == 3

    received = smtp_sink.wait_for_count(3, timeout=WAIT)
    assert [(email.key, email.connection) for email in received] == [
        (message.idempotency_key, 1) for message in messages
    ]
    assert outbox_rows(messages) == [(Message.Status.SENT, 1)] * 3
    # Sent and marked: a second run sends nothing.
    assert messages_send(message_ids=ids(messages)) == 0
    assert len(smtp_sink.still(3, for_seconds=0.5)) == 3


def test_a_session_opens_a_fresh_connection_after_its_message_limit(smtp_sink, smtp_settings):
    messages = pending(5)

    with EmailSession(max_messages=2) as session:
        assert messages_send(message_ids=ids(messages), session=session) == 5

    received = smtp_sink.wait_for_count(5, timeout=WAIT)
    assert [email.connection for email in received] == [1, 1, 2, 2, 3]
    assert session.opened == 3


def test_a_session_reconnects_after_being_idle(smtp_sink, smtp_settings):
    messages = pending(2)

    # Idle for longer than zero seconds: every send finds the connection stale.
    with EmailSession(idle_seconds=0) as session:
        messages_send(message_ids=ids(messages), session=session)

    assert [email.connection for email in smtp_sink.wait_for_count(2, timeout=WAIT)] == [1, 2]


def test_a_refused_message_is_retried_later_and_the_next_goes_out_on_a_new_connection(
    smtp_sink, smtp_settings
):
    messages = pending(3)
    refused = messages[1]
    smtp_sink.refuse(refused.to_email, "451 4.3.0 Provider temporarily unavailable")
    before = timezone.now()

    assert messages_send(message_ids=ids(messages)) == 2

    received = smtp_sink.wait_for_count(2, timeout=WAIT)
    assert [(email.key, email.connection) for email in received] == [
        (messages[0].idempotency_key, 1),
        (messages[2].idempotency_key, 2),
    ]
    assert outbox_rows(messages) == [
        (Message.Status.SENT, 1),
        (Message.Status.PENDING, 1),
        (Message.Status.SENT, 1),
    ]
    refused.refresh_from_db()
    assert refused.last_error == ("SMTPDataError: (451, b'4.3.0 Provider temporarily unavailable')")
    assert before + timedelta(minutes=1) <= refused.next_attempt_at
    assert refused.next_attempt_at <= timezone.now() + timedelta(minutes=1)


def test_a_relay_that_cannot_be_reached_fails_each_attempt_and_sends_nothing(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # discard: nothing listens there
    messages = pending(2)

    assert messages_send(message_ids=ids(messages)) == 0

    assert outbox_rows(messages) == [(Message.Status.PENDING, 1)] * 2
    assert all(
        error.startswith("ConnectionRefusedError")
        for error in Message.objects.values_list("last_error", flat=True)
    )


def test_the_sweep_sends_every_due_message_on_one_connection(smtp_sink, smtp_settings):
    messages = pending(3)

    assert messages_sweep() == 3

    received = smtp_sink.wait_for_count(3, timeout=WAIT)
    assert {email.connection for email in received} == {1}
    assert outbox_rows(messages) == [(Message.Status.SENT, 1)] * 3


@pytest.mark.parametrize("count", [1, 3])
def test_each_message_costs_the_same_four_statements_however_many_are_sent(
    count, django_assert_num_queries
):
    messages = pending(count)

    # Per message: a savepoint (the test's transaction stands in for BEGIN), the locking
    # read with the recipient and their preference, the update, the release (COMMIT).
    with django_assert_num_queries(4 * count):
        assert messages_send(message_ids=ids(messages)) == count

    assert len(mail.outbox) == count


def _fields(instance):
    if instance is None:
        return None
    return {name: value for name, value in vars(instance).items() if name != "_state"}


def _as_read(message):
    """The message, its recipient and their preference, as ``_undeliverable`` reads them."""
    recipient = message.recipient
    preference = getattr(recipient, "notification_preference", None) if recipient else None
    return [_fields(message), _fields(recipient), _fields(preference)]


def test_the_send_reads_a_pending_message_with_its_recipient_and_preference_as_the_orm_does(
    django_assert_num_queries,
):
    with_preference, without_preference = pending(2)
    Preference.objects.filter(user=without_preference.recipient).delete()
    to_an_address = notify_address(
        to_email="invited@example.org",
        language="sv",
        kind=Message.Kind.INVITATION,
        key="test:sending:address",
        context={"nonce": "n1", "role": "reviewer"},
    )
    done = notify(
        recipient=with_preference.recipient,
        kind=Message.Kind.DECIDED,
        key="test:sending:done",
        context={"nomination_title": "Practice", "outcome": "selected"},
    )
    Message.objects.filter(pk=done.pk).update(status=Message.Status.SENT)

    reads = []
    for message in (with_preference, without_preference, to_an_address):
        expected = Message.objects.select_related(
            "recipient", "recipient__notification_preference"
        ).get(pk=message.pk)
        with transaction.atomic(), django_assert_num_queries(1):
            read = _as_read(_message_locked(message.pk))
        assert read == _as_read(expected)
        reads.append(read)
    # Each case as it should be: a preference, none, no recipient at all.
    assert [(r[0]["status"], r[1] is None, r[2] is None) for r in reads] == [
        (Message.Status.PENDING, False, False),
        (Message.Status.PENDING, False, True),
        (Message.Status.PENDING, True, True),
    ]
    with transaction.atomic():
        assert _message_locked(done.pk) is None
        assert _message_locked(-1) is None


def test_an_address_that_bounced_after_the_message_was_written_is_skipped_not_emailed():
    [message] = pending(1)
    Preference.objects.filter(user=message.recipient).update(bounced_at=timezone.now())

    assert message_send(message_id=message.pk) == Message.Status.SKIPPED

    assert mail.outbox == []
    assert outbox_rows([message]) == [(Message.Status.SKIPPED, 0)]


def test_an_account_deactivated_after_the_message_was_written_is_not_emailed():
    [message] = pending(1)
    type(message.recipient).objects.filter(pk=message.recipient_id).update(is_active=False)

    assert messages_send(message_ids=ids([message])) == 0

    assert mail.outbox == []
    assert outbox_rows([message]) == [(Message.Status.SKIPPED, 0)]


def test_each_email_of_a_batch_is_in_its_recipients_language():
    people = [UserFactory(username="sv-reader"), UserFactory(username="fr-reader")]
    Preference.objects.create(user=people[0], language="sv")
    Preference.objects.create(user=people[1], language="fr")
    messages = pending(2, people=people)

    messages_send(message_ids=ids(messages))

    assert [
        (
            email.to,
            email.alternatives[0][0].count('<html lang="'),
            'lang="' + language + '"' in email.alternatives[0][0],
        )
        for email, language in zip(mail.outbox, ["sv", "fr"], strict=True)
    ] == [([person.email], 1, True) for person in people]


POSTMARK_API = "https://api.postmarkapp.com/email"


@responses.activate
def test_an_anymail_provider_gets_one_http_session_for_a_batch_and_each_message_its_id(settings):
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "test-server-token"}
    messages = pending(3)
    replies = iter(["pm-1", "pm-2", "pm-3"])

    def postmark_accepts(request):
        body = {
            "To": json.loads(request.body)["To"],
            "SubmittedAt": "2030-01-31T10:00:00Z",
            "MessageID": next(replies),
            "ErrorCode": 0,
            "Message": "OK",
        }
        return 200, {}, json.dumps(body)

    responses.add_callback(responses.POST, POSTMARK_API, callback=postmark_accepts)

    with EmailSession() as session:
        assert messages_send(message_ids=ids(messages), session=session) == 3

    assert session.opened == 1
    assert len(responses.calls) == 3
    assert list(
        Message.objects.filter(pk__in=ids(messages))
        .order_by("pk")
        .values_list("status", "provider_message_id")
    ) == [
        (Message.Status.SENT, "pm-1"),
        (Message.Status.SENT, "pm-2"),
        (Message.Status.SENT, "pm-3"),
    ]


def _parts(raw):
    parsed = message_from_bytes(raw, policy=policy.default)
    return parsed.get_boundary(), [
        (part.get_content_type(), part.get_content().replace("\r\n", "\n"))
        for part in parsed.iter_parts()
    ]


def test_an_email_parses_back_to_its_text_and_html_parts_neither_holding_its_boundary():
    [message] = pending(1)

    email = _email_build(message)
    boundary, parts = _parts(email.message().as_bytes(linesep="\r\n"))

    assert parts == [("text/plain", email.body), ("text/html", email.alternatives[0][0])]
    assert boundary and all(boundary not in content for _type, content in parts)
    # The outbox's own boundary, drawn before the email package would draw one.
    assert re.fullmatch(r"={15}\d{19}==", email.message().get_boundary())


def test_an_email_with_an_attachment_has_its_boundary_drawn_by_the_email_package():
    [message] = pending(1)
    email = _email_build(message)
    email.attach("notes.txt", "Some notes", "text/plain")

    built = email.message()

    assert built.get_boundary() is None  # left for the package to draw as it writes
    written = message_from_bytes(built.as_bytes(), policy=policy.default)
    assert [part.get_content_type() for part in written.iter_parts()] == [
        "multipart/alternative",
        "text/plain",
    ]


def test_a_boundary_drawn_that_a_text_holds_is_left_for_the_email_package_to_draw(monkeypatch):
    [message] = pending(1)
    drawn = f"{'=' * 15}{7:019d}=="
    monkeypatch.setattr("notifications.services.secrets.randbelow", lambda _limit: 7)
    monkeypatch.setattr(
        "notifications.services.render_email",
        lambda _message: (f"A text that holds --{drawn} by chance", "<p>html</p>"),
    )

    boundary, parts = _parts(_email_build(message).message().as_bytes(linesep="\r\n"))

    assert boundary != drawn
    assert parts == [
        ("text/plain", f"A text that holds --{drawn} by chance"),
        ("text/html", "<p>html</p>"),
    ]


def test_a_message_whose_row_is_gone_when_it_is_marked_is_an_error_not_sent():
    """As ``save()`` raised, the compiled mark raises when it updates no row (on SQLite,
    which has no row lock, a deletion can come between the read and the mark)."""
    [message] = pending(1)

    class RowRemovingSession:
        def send(self, email):
            Message.objects.filter(pk=message.pk).delete()

    with pytest.raises(DatabaseError, match="was not marked sent"):
        message_send(message_id=message.pk, session=RowRemovingSession())
