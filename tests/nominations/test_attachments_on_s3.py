"""With ATTACHMENT_STORAGE=s3, attachments live in a private bucket that every node shares.

The bucket is on moto's S3 server, started in the test process on a free port of 127.0.0.1
and reached over HTTP exactly as AWS S3 or MinIO would be. The storage is built by the
same function the settings use, from the same environment variables.
"""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from config.env import env
from config.settings.storage import attachment_storage
from nominations.models import Attachment
from nominations.services import nomination_attach

from ..factories import NominationFactory, UserFactory
from .test_attachment_download import download_url, fetch
from .test_attachment_upload import PDF, post_with_attachment

moto_server = pytest.importorskip(
    "moto.server", reason='moto is not installed (pip install -e ".[dev]")'
)
boto3 = pytest.importorskip("boto3", reason='boto3 is not installed (pip install -e ".[s3]")')
pytest.importorskip("storages", reason='django-storages is not installed (pip install -e ".[s3]")')
requests = pytest.importorskip("requests", reason='requests is not installed (".[dev]")')

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

REGION = "eu-west-1"
PREFIX = "nomflow"


@pytest.fixture(scope="module")
def s3_endpoint():
    """The address of an S3 server of this module's own, stopped when the module is done."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, monkeypatch):
    """A client of that server as an operator's tools would use it; any key is accepted."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "nomflow-test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "nomflow-test-secret")
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)


@pytest.fixture
def bucket(s3, request):
    """A new, empty bucket for each test, made as the operator would make it."""
    name = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:50].strip("-")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


@pytest.fixture
def on_s3(settings, monkeypatch, s3_endpoint, bucket):
    """Attachments stored as the settings store them with these variables set."""
    monkeypatch.setenv("ATTACHMENT_STORAGE", "s3")
    monkeypatch.setenv("AWS_STORAGE_BUCKET_NAME", bucket)
    monkeypatch.setenv("AWS_S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_S3_REGION_NAME", REGION)
    monkeypatch.setenv("AWS_LOCATION", PREFIX)
    settings.ATTACHMENT_SERVE = "django"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": attachment_storage(env, serve=settings.ATTACHMENT_SERVE),
    }
    return bucket


def stored_objects(s3, bucket):
    """Every object in the bucket, as {key: bytes}."""
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


@pytest.fixture
def attachment(on_s3, draft):
    return nomination_attach(
        nomination=draft,
        by=draft.nominator,
        upload=SimpleUploadedFile("Évidence “final”.pdf", PDF, "application/pdf"),
        content_type="application/pdf",
    )


def test_an_uploaded_attachment_is_stored_in_the_bucket_under_its_random_name(
    client, nominator, call, s3, on_s3
):
    client.force_login(nominator)

    response = post_with_attachment(client, call, "Secret plan of Anna.pdf", PDF)

    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert re.fullmatch(r"attachments/\d{4}/\d{2}/[0-9a-f]{32}", attachment.file.name)
    assert stored_objects(s3, on_s3) == {f"{PREFIX}/{attachment.file.name}": PDF}


def test_the_nominator_downloads_the_same_bytes_through_the_checked_view(client, attachment):
    response, body = fetch(client, attachment.nomination.nominator, download_url(attachment))

    assert response.status_code == 200
    assert body == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%C3%89vidence%20%E2%80%9Cfinal%E2%80%9D.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"


def test_someone_who_may_not_see_the_nomination_gets_nothing_from_the_bucket(client, attachment):
    for user in [UserFactory(username="stranger"), NominationFactory().nominator]:
        response, body = fetch(client, user, download_url(attachment))

        assert response.status_code == 404
        assert PDF not in body


def test_the_stored_object_cannot_be_read_without_a_signature(s3, s3_endpoint, on_s3, attachment):
    key = f"{PREFIX}/{attachment.file.name}"
    # The same request for an object its uploader made public succeeds: the 403 below is
    # the attachment's privacy, not a server that turns every unsigned request away.
    s3.put_object(Bucket=on_s3, Key="public", Body=b"x", ACL="public-read")

    attachment_answer = requests.get(f"{s3_endpoint}/{on_s3}/{key}", timeout=10)
    public_answer = requests.get(f"{s3_endpoint}/{on_s3}/public", timeout=10)

    assert (attachment_answer.status_code, public_answer.status_code) == (403, 200)
    assert PDF not in attachment_answer.content
    grants = s3.get_object_acl(Bucket=on_s3, Key=key)["Grants"]
    assert [(grant["Grantee"]["Type"], grant["Permission"]) for grant in grants] == [
        ("CanonicalUser", "FULL_CONTROL")  # the bucket's owner, and no one else
    ]


def test_an_address_made_by_the_storage_is_signed_and_expires(attachment):
    url = attachment.file.url

    assert "X-Amz-Signature=" in url
    assert "X-Amz-Expires=3600" in url
    assert requests.get(url, timeout=10).content == PDF
