"""Every link Nomflow sends points at the configured ``SITE_URL``, as it is when sent.

A message stores paths; the email is made absolute when it is rendered. Account emails
(allauth) and the hub's Atom feed follow the same setting, whatever the request's host
or the ``Site`` row say.
"""

import re

import pytest
from django.contrib.sites.models import Site
from django.core import mail
from django.urls import reverse

from notifications.models import Message
from notifications.services import message_send, notify, render_email
from workflow.reminders import digests_send

from ..factories import UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

WRITTEN_ON = "http://127.0.0.1:8000"
SENT_FROM = "https://nomflow.example.org"


def links_in(text):
    return re.findall(r"https?://[^\s\"<>]+", text)


@pytest.fixture
def nominator(db):
    return UserFactory(username="nominator")


def decided(nominator, **extra_context):
    return notify(
        recipient=nominator,
        kind=Message.Kind.DECIDED,
        key="decided-links",
        context={
            "nomination_title": "Neighbourhood mentors",
            "outcome": "national",
            **extra_context,
        },
        path="/nominations/7/",
    )


def test_an_email_written_on_one_host_links_to_the_site_configured_when_it_is_sent(
    settings, nominator
):
    settings.SITE_URL = WRITTEN_ON
    message = decided(nominator)
    settings.SITE_URL = SENT_FROM

    message_send(message_id=message.pk)

    (email,) = mail.outbox
    html = email.alternatives[0][0]
    assert links_in(email.body)[0] == f"{SENT_FROM}/nominations/7/"
    assert links_in(html)[0] == f"{SENT_FROM}/nominations/7/"
    assert not [link for link in links_in(email.body + html) if link.startswith(WRITTEN_ON)]
    assert "url" not in Message.objects.get(pk=message.pk).context


def test_an_old_message_with_a_path_is_sent_with_the_path_on_todays_site(settings, nominator):
    message = decided(nominator)
    Message.objects.filter(pk=message.pk).update(
        context={**message.context, "url": f"{WRITTEN_ON}/nominations/7/"}
    )
    settings.SITE_URL = SENT_FROM

    text, _html = render_email(Message.objects.get(pk=message.pk))

    assert links_in(text)[0] == f"{SENT_FROM}/nominations/7/"


def test_an_old_message_without_a_path_keeps_its_absolute_link(settings, nominator):
    message = decided(nominator)
    context = {k: v for k, v in message.context.items() if k != "path"}
    Message.objects.filter(pk=message.pk).update(
        context={**context, "url": "https://old.example.org/nominations/7/"}
    )
    settings.SITE_URL = SENT_FROM

    text, _html = render_email(Message.objects.get(pk=message.pk))

    assert links_in(text)[0] == "https://old.example.org/nominations/7/"


def test_a_digest_links_each_update_on_the_site_configured_when_it_is_sent(
    settings, nominator, django_capture_on_commit_callbacks
):
    from notifications.models import Preference

    Preference.objects.create(user=nominator, delivery=Preference.Delivery.DAILY)
    settings.SITE_URL = WRITTEN_ON
    notify(
        recipient=nominator,
        kind=Message.Kind.SUBMISSION_RECEIVED,
        key="received-links",
        context={"nomination_title": "Neighbourhood mentors"},
        path="/nominations/7/",
    )
    settings.SITE_URL = SENT_FROM

    with django_capture_on_commit_callbacks(execute=True):
        digests_send()

    (email,) = mail.outbox
    assert f"{SENT_FROM}/nominations/7/" in links_in(email.body)
    assert not [link for link in links_in(email.body) if link.startswith(WRITTEN_ON)]


def test_the_atom_feed_links_to_the_configured_site_not_the_site_row_or_the_request(
    settings, client
):
    Site.objects.filter(pk=settings.SITE_ID).update(domain="127.0.0.1:8000")
    settings.SITE_URL = SENT_FROM

    feed = client.get(reverse("hub:feed")).content.decode()

    assert f'href="{SENT_FROM}/hub/"' in feed
    assert f'href="{SENT_FROM}/hub/feed/"' in feed
    assert "127.0.0.1" not in feed
    assert "testserver" not in feed


def test_the_password_reset_email_links_to_the_configured_site(settings, client, nominator):
    Site.objects.filter(pk=settings.SITE_ID).update(domain="127.0.0.1:8000")
    settings.SITE_URL = SENT_FROM

    client.post(reverse("account_reset_password"), {"email": nominator.email})

    (email,) = mail.outbox
    links = links_in(email.body)
    assert links, email.body
    assert all(link.startswith(f"{SENT_FROM}/") for link in links), links
    assert "nomflow.example.org" in email.body
    assert "127.0.0.1" not in email.body
    assert "testserver" not in email.body


def test_the_footer_links_to_the_notification_settings_on_the_configured_site(settings, nominator):
    message = decided(nominator)
    settings.SITE_URL = SENT_FROM

    message_send(message_id=message.pk)

    (email,) = mail.outbox
    settings_link = f"{SENT_FROM}/notifications/settings/"
    assert links_in(email.body)[-1] == settings_link
    assert f'<a href="{settings_link}">notification settings</a>' in email.alternatives[0][0]
