"""Bad input gets a clear message and loses nothing that was typed."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from nominations.models import Nomination
from nominations.services import NominationError
from workflow.services import nomination_submit

from ..workflow.test_pages import nomination_post_data

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def create_url(call):
    return reverse("nominations:create", args=[call.pk])


def test_missing_fields_on_submit_are_named_and_the_typed_text_stays(client, call, nominator):
    client.force_login(nominator)
    response = client.post(
        create_url(call), {"title": "Half a nomination", "summary": "So far", "submit": "1"}
    )

    assert response.status_code == 200
    assert Nomination.objects.count() == 0
    form = response.context["form"]
    assert "country" in form.errors
    assert "This field is required." in form.errors["organisation"]
    assert b"So far" in response.content
    assert b"Half a nomination" in response.content


def test_a_half_filled_draft_can_be_saved(client, call, nominator):
    client.force_login(nominator)
    response = client.post(
        create_url(call), {"title": "Half a nomination", "summary": "So far", "save": "1"}
    )

    nomination = Nomination.objects.get()
    assert response.status_code == 302
    assert (nomination.title, nomination.summary, nomination.stage) == (
        "Half a nomination",
        "So far",
        "draft",
    )


def test_closed_call_refuses_new_nominations_with_a_message(client, call, nominator):
    call.closes_at = timezone.now() - timedelta(minutes=1)
    call.opens_at = call.closes_at - timedelta(days=10)
    call.save()
    client.force_login(nominator)

    response = client.get(create_url(call), follow=True)

    assert response.redirect_chain[-1][0] == reverse("nominations:calls")
    assert "This call is closed" in str(next(iter(response.context["messages"])))


def test_draft_in_a_call_that_has_closed_cannot_be_submitted(call, draft):
    call.closes_at = timezone.now() - timedelta(minutes=1)
    call.opens_at = call.closes_at - timedelta(days=10)
    call.save()

    with pytest.raises(NominationError, match="This call is closed"):
        nomination_submit(nomination=draft, by=draft.nominator)
    draft.refresh_from_db()
    assert draft.stage == Nomination.Stage.DRAFT


@override_settings(ATTACHMENT_MAX_BYTES=1000)
def test_oversized_attachment_is_refused_and_the_form_keeps_its_text(client, call, nominator):
    client.force_login(nominator)
    upload = SimpleUploadedFile(
        "evidence.pdf", b"%PDF" + b"x" * 2000, content_type="application/pdf"
    )

    response = client.post(
        create_url(call),
        {"title": "My practice", "summary": "Typed text", "attachment": upload, "save": "1"},
    )

    assert response.status_code == 200
    assert Nomination.objects.count() == 0
    assert "the largest allowed is 1000" in " ".join(response.context["form"].errors["attachment"])
    assert b"Typed text" in response.content


def test_attachment_of_a_wrong_type_is_refused(client, call, nominator):
    client.force_login(nominator)
    upload = SimpleUploadedFile("tool.exe", b"MZ...", content_type="application/octet-stream")

    response = client.post(
        create_url(call), {"title": "My practice", "attachment": upload, "save": "1"}
    )

    assert response.status_code == 200
    assert "cannot be attached" in " ".join(response.context["form"].errors["attachment"])


def test_a_valid_attachment_is_stored_with_the_draft(client, call, nominator):
    client.force_login(nominator)
    upload = SimpleUploadedFile("evidence.pdf", b"%PDF-1.4 small", content_type="application/pdf")

    client.post(create_url(call), {"title": "My practice", "attachment": upload, "save": "1"})

    attachment = Nomination.objects.get().attachments.get()
    assert (attachment.original_name, attachment.content_type, attachment.size) == (
        "evidence.pdf",
        "application/pdf",
        14,
    )


def test_the_same_form_posted_twice_creates_one_nomination(client, call, nominator):
    client.force_login(nominator)
    token = client.get(create_url(call)).context["form"].initial["client_token"]
    data = {"title": "Once only", "client_token": str(token), "save": "1"}

    first = client.post(create_url(call), data)
    second = client.post(create_url(call), data, follow=True)

    assert Nomination.objects.count() == 1
    assert first.status_code == 302
    assert "This nomination was already saved." in [str(m) for m in second.context["messages"]]


def test_submitting_twice_starts_one_process_and_says_so(call, draft):
    nomination_submit(nomination=draft, by=draft.nominator)

    with pytest.raises(NominationError, match="already been submitted"):
        nomination_submit(nomination=draft, by=draft.nominator)
    assert draft.events.filter(action="submitted").count() == 1


def test_a_submitted_nomination_is_frozen(client, call, draft, countries, theme):
    nomination_submit(nomination=draft, by=draft.nominator)
    client.force_login(draft.nominator)

    response = client.post(
        reverse("nominations:edit", args=[draft.pk]),
        nomination_post_data(call, countries, theme, title="Changed behind the flow's back"),
        follow=True,
    )

    draft.refresh_from_db()
    assert draft.title != "Changed behind the flow's back"
    assert "can no longer be edited" in str(next(iter(response.context["messages"])))


def test_a_nomination_not_in_english_needs_an_english_summary(
    client, call, nominator, countries, theme
):
    client.force_login(nominator)
    data = nomination_post_data(call, countries, theme, language="sv", summary="På svenska")

    response = client.post(create_url(call), {**data, "submit": "1"})

    assert response.status_code == 200
    assert "summary in English" in " ".join(response.context["form"].errors["english_summary"])


def test_a_link_that_is_not_a_web_address_is_named(client, call, nominator, countries, theme):
    client.force_login(nominator)
    data = nomination_post_data(call, countries, theme, links="https://example.org\nnot a link")

    response = client.post(create_url(call), {**data, "save": "1"})

    assert "“not a link” is not a web address" in " ".join(response.context["form"].errors["links"])
