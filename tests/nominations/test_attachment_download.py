"""Attachments are read only through the view that checks who may see the nomination."""

import importlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import Resolver404, clear_url_caches, resolve, reverse

import config.urls
from nominations.services import nomination_attach

from ..factories import NominationFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def attachment(draft):
    return nomination_attach(
        nomination=draft,
        by=draft.nominator,
        upload=SimpleUploadedFile("Évidence “final”.pdf", PDF, "application/pdf"),
        content_type="application/pdf",
    )


def download_url(attachment):
    return reverse("nominations:attachment", args=[attachment.nomination_id, attachment.pk])


def fetch(client, user, url):
    client.force_login(user)
    response = client.get(url)
    body = response.getvalue() if response.streaming else response.content
    return response, body


@pytest.fixture
def urls_loaded_with_debug():
    """config.urls as it is built when DEBUG is on, put back as it was afterwards."""
    with override_settings(DEBUG=True):
        importlib.reload(config.urls)
        clear_url_caches()
        yield
    importlib.reload(config.urls)
    clear_url_caches()


def test_media_files_have_no_address_of_their_own_even_in_debug(
    client, attachment, urls_loaded_with_debug
):
    path = f"/media/{attachment.file.name}"

    with pytest.raises(Resolver404):
        resolve(path)
    client.force_login(attachment.nomination.nominator)
    assert client.get(path).status_code == 404


def test_the_nominator_downloads_the_file_under_its_original_name(client, attachment):
    response, body = fetch(client, attachment.nomination.nominator, download_url(attachment))

    assert response.status_code == 200
    assert body == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%C3%89vidence%20%E2%80%9Cfinal%E2%80%9D.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "X-Accel-Redirect" not in response


@pytest.mark.parametrize("serve", ["django", "x-accel"])
def test_someone_who_may_not_see_the_nomination_gets_nothing(client, attachment, serve):
    stranger = UserFactory(username="stranger")
    other_nominator = NominationFactory().nominator

    with override_settings(ATTACHMENT_SERVE=serve):
        for user in [stranger, other_nominator]:
            response, body = fetch(client, user, download_url(attachment))
            assert (response.status_code, "X-Accel-Redirect" in response) == (404, False)
            assert PDF not in body


@override_settings(ATTACHMENT_SERVE="x-accel")
def test_behind_nginx_the_view_only_says_which_file_to_send(client, attachment):
    response, body = fetch(client, attachment.nomination.nominator, download_url(attachment))

    assert response.status_code == 200
    assert body == b""
    assert response["X-Accel-Redirect"] == f"/protected-media/{attachment.file.name}"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%C3%89vidence%20%E2%80%9Cfinal%E2%80%9D.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
