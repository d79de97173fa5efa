"""Postmark's delivery and bounce webhooks, through anymail, update what staff see.

The payloads are Postmark's documented tracking webhooks (RecordType "Delivery" and
"Bounce"), posted with the HTTP basic auth anymail checks against WEBHOOK_SECRET.
"""

import base64
import json
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.core.checks import run_checks
from django.test import override_settings
from django.urls import NoReverseMatch, reverse

from notifications.models import DeliveryEvent, Message, Preference
from workflow.flows import NominationFlow
from workflow.services import ScreeningDecision, nomination_screen, nomination_submit

from ..factories import UserFactory
from ..workflow.helpers import open_task

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

SECRET = "user:pass"
URL = "/anymail/postmark/tracking/"
PROVIDER_ID = "883953f4-6105-42a2-a16a-77a8eac79483"
AT = "2026-03-02T10:15:30.9070259Z"
AT_PARSED = datetime(2026, 3, 2, 10, 15, 30, 907025, tzinfo=UTC)
BOUNCE_DESCRIPTION = (
    "The server was unable to deliver your message (ex: unknown user, mailbox not found)."
)


@pytest.fixture(autouse=True)
def webhook_secret():
    with override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET}):
        yield


@pytest.fixture
def receipt(draft, nominator, django_capture_on_commit_callbacks):
    """The nominator's "we received your nomination", sent, with Postmark's message id."""
    with django_capture_on_commit_callbacks(execute=True):
        nomination_submit(nomination=draft, by=nominator)
    message = Message.objects.get(recipient=nominator)
    Message.objects.filter(pk=message.pk).update(provider_message_id=PROVIDER_ID)
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    return message


def delivery(recipient, message_id=PROVIDER_ID):
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": message_id,
        "Recipient": recipient,
        "Tag": "",
        "DeliveredAt": AT,
        "Details": "smtp;250 2.0.0 OK",
        "Metadata": {},
    }


def bounce(recipient, message_id=PROVIDER_ID, bounce_id=4323372036854775807):
    return {
        "RecordType": "Bounce",
        "ID": bounce_id,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Name": "Hard bounce",
        "Tag": "",
        "MessageID": message_id,
        "Metadata": {},
        "ServerID": 23,
        "MessageStream": "outbound",
        "Description": BOUNCE_DESCRIPTION,
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": recipient,
        "From": "nomflow@example.org",
        "BouncedAt": AT,
        "DumpAvailable": False,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "We received your nomination",
    }


def post(client, payload, *, secret=SECRET):
    credentials = base64.b64encode(secret.encode()).decode()
    return client.post(
        URL,
        data=json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {credentials}",
    )


def test_the_webhook_is_anymails_postmark_tracking_url():
    assert reverse("anymail:postmark_tracking_webhook") == URL


def test_delivered_marks_the_message_delivered(client, receipt, nominator):
    response = post(client, delivery(nominator.email))

    assert response.status_code == 200
    receipt.refresh_from_db()
    assert (receipt.delivery_status, receipt.delivery_updated_at) == ("delivered", AT_PARSED)
    event = DeliveryEvent.objects.get()
    assert (event.event_type, event.message, event.recipient, event.occurred_at) == (
        "delivered",
        receipt,
        nominator.email,
        AT_PARSED,
    )
    assert Preference.objects.get(user=nominator).bounced_at is None


def test_a_bounce_marks_the_message_and_the_address(client, receipt, nominator):
    response = post(client, bounce(nominator.email))

    assert response.status_code == 200
    receipt.refresh_from_db()
    assert receipt.delivery_status == "bounced"
    preference = Preference.objects.get(user=nominator)
    assert preference.bounced_at == AT_PARSED
    assert preference.bounce_reason == f"bounced: {BOUNCE_DESCRIPTION}"
    assert DeliveryEvent.objects.get().message == receipt


def test_after_a_bounce_the_next_message_is_not_emailed(
    client, receipt, draft, nominator, coordinator, reviewers, django_capture_on_commit_callbacks
):
    post(client, bounce(nominator.email))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        nomination_screen(
            task_id=open_task(draft, NominationFlow.screen).pk,
            by=coordinator,
            decision=ScreeningDecision.ACCEPT,
        )

    accepted = Message.objects.get(kind=Message.Kind.ACCEPTED_FOR_REVIEW)
    assert (accepted.recipient, accepted.status) == (nominator, Message.Status.SKIPPED)
    assert nominator.email not in {address for email in mail.outbox for address in email.to}
    assert len(mail.outbox) == 2  # the two reviewers still hear of their tasks


def test_staff_see_the_bounce_in_the_outbox_and_the_admin(
    client, receipt, draft, nominator, coordinator, reviewers, django_capture_on_commit_callbacks
):
    post(client, bounce(nominator.email))
    with django_capture_on_commit_callbacks(execute=True):
        nomination_screen(
            task_id=open_task(draft, NominationFlow.screen).pk,
            by=coordinator,
            decision=ScreeningDecision.ACCEPT,
        )
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))

    outbox = client.get(reverse("notifications:outbox"))
    rows = {message.pk: message for message in outbox.context["page"]}
    assert rows[receipt.pk].delivery_status == "bounced"
    accepted = Message.objects.get(kind=Message.Kind.ACCEPTED_FOR_REVIEW)
    assert rows[accepted.pk].status == Message.Status.SKIPPED
    html = outbox.content.decode()
    assert "<td>bounced</td>" in html
    assert "Not emailed (preference or bounced address)" in html

    admin = client.get(
        reverse("admin:notifications_preference_changelist"), {"bounced_at__isnull": "False"}
    )
    assert admin.status_code == 200
    assert [p.user for p in admin.context["cl"].result_list] == [nominator]


def test_a_soft_bounce_does_not_stop_the_emails(client, receipt, nominator):
    payload = {
        **bounce(nominator.email),
        "Type": "SoftBounce",
        "TypeCode": 4096,
        "Name": "Soft bounce",
        "Description": "The server was unable to deliver your message (mailbox full).",
        "Inactive": False,
    }

    assert post(client, payload).status_code == 200

    assert DeliveryEvent.objects.count() == 1
    assert Preference.objects.get(user=nominator).bounced_at is None


@pytest.mark.parametrize("payload", [delivery, bounce], ids=["delivered", "bounced"])
def test_a_replayed_event_is_applied_once(client, receipt, nominator, payload):
    assert post(client, payload(nominator.email)).status_code == 200
    Preference.objects.filter(user=nominator).update(bounced_at=None, bounce_reason="")
    Message.objects.filter(pk=receipt.pk).update(delivery_status="")

    assert post(client, payload(nominator.email)).status_code == 200

    assert DeliveryEvent.objects.count() == 1
    # The replay changed nothing: what staff reset after the first stays reset.
    receipt.refresh_from_db()
    assert receipt.delivery_status == ""
    assert Preference.objects.get(user=nominator).bounced_at is None


def test_a_bounce_of_a_message_nomflow_never_sent_changes_nothing(client, nominator):
    """A forged or misrouted bounce is kept for staff to read, and stops nobody's email."""
    response = post(client, bounce(nominator.email.upper(), message_id="not-ours"))

    assert response.status_code == 200
    event = DeliveryEvent.objects.get()
    assert (event.event_type, event.message) == ("bounced", None)
    assert not Preference.objects.filter(bounced_at__isnull=False).exists()


def test_a_bounce_naming_another_address_than_the_message_went_to_changes_nothing(
    client, receipt, coordinator
):
    response = post(client, bounce(coordinator.email))

    assert response.status_code == 200
    receipt.refresh_from_db()
    assert receipt.delivery_status == ""
    assert DeliveryEvent.objects.get().message is None
    assert not Preference.objects.filter(bounced_at__isnull=False).exists()


def test_without_a_secret_the_webhooks_are_off_and_a_forged_bounce_is_refused(
    client, receipt, nominator
):
    with override_settings(ANYMAIL={}):
        anonymous = client.post(
            URL, data=json.dumps(bounce(nominator.email)), content_type="application/json"
        )
        with_any_credentials = post(client, bounce(nominator.email), secret="anyone:at-all")

    assert (anonymous.status_code, with_any_credentials.status_code) == (404, 404)
    assert DeliveryEvent.objects.count() == 0
    assert not Preference.objects.filter(bounced_at__isnull=False).exists()


def test_check_deploy_warns_while_the_webhooks_are_off():
    with override_settings(ANYMAIL={}):
        off = [message.id for message in run_checks(include_deployment_checks=True)]
    on = [message.id for message in run_checks(include_deployment_checks=True)]

    assert "nomflow.W001" in off
    assert "nomflow.W001" not in on


@pytest.mark.parametrize(
    "body",
    ["not json", "[]", '{"RecordType": "Bounce", "BouncedAt": 7}'],
)
def test_an_unreadable_payload_with_the_right_secret_is_a_client_error(client, body):
    client.raise_request_exception = False
    credentials = base64.b64encode(SECRET.encode()).decode()
    response = client.post(
        URL, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Basic {credentials}"
    )

    assert 400 <= response.status_code < 500
    assert DeliveryEvent.objects.count() == 0


@pytest.mark.parametrize("authorization", ["Basic !!!", "Bearer token", "Basic //79Ong="])
def test_malformed_credentials_are_a_client_error(client, nominator, authorization):
    client.raise_request_exception = False
    response = client.post(
        URL,
        data=json.dumps(bounce(nominator.email)),
        content_type="application/json",
        HTTP_AUTHORIZATION=authorization,
    )

    assert 400 <= response.status_code < 500
    assert DeliveryEvent.objects.count() == 0


def test_only_the_tracking_webhooks_are_exposed():
    with pytest.raises(NoReverseMatch):
        reverse("anymail:postmark_inbound_webhook")


@pytest.mark.parametrize("secret", ["user:wrong", "other:pass"])
def test_a_wrong_secret_is_refused_and_nothing_recorded(client, receipt, nominator, secret):
    response = post(client, bounce(nominator.email), secret=secret)

    assert response.status_code == 400
    assert DeliveryEvent.objects.count() == 0
    receipt.refresh_from_db()
    assert receipt.delivery_status == ""
    assert not Preference.objects.filter(user=nominator, bounced_at__isnull=False).exists()


def test_no_credentials_are_refused(client, receipt, nominator):
    response = client.post(
        URL, data=json.dumps(delivery(nominator.email)), content_type="application/json"
    )

    assert response.status_code == 400
    assert DeliveryEvent.objects.count() == 0
