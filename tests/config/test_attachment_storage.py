"""ATTACHMENT_STORAGE picks where attachments are kept, and a setting that cannot work stops
the site from starting rather than failing the first upload."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env
from config.settings.storage import attachment_storage

pytestmark = [pytest.mark.unit]

REPO_DIR = Path(__file__).resolve().parents[2]
VARIABLES = [
    "ATTACHMENT_STORAGE",
    "ATTACHMENT_SERVE",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "AWS_S3_REGION_NAME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_LOCATION",
    "AWS_S3_ADDRESSING_STYLE",
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """None of the storage variables set, whatever a developer's .env holds."""
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def test_by_default_attachments_stay_on_the_filesystem():
    assert attachment_storage(env, serve="django") == {
        "BACKEND": "django.core.files.storage.FileSystemStorage"
    }


def test_s3_takes_the_bucket_and_the_store_from_the_environment(clean_environment):
    clean_environment.setenv("ATTACHMENT_STORAGE", "s3")
    clean_environment.setenv("AWS_STORAGE_BUCKET_NAME", "nomflow-attachments")
    clean_environment.setenv("AWS_S3_ENDPOINT_URL", "https://minio.example.org")
    clean_environment.setenv("AWS_S3_REGION_NAME", "fr-par")
    clean_environment.setenv("AWS_ACCESS_KEY_ID", "key-id")
    clean_environment.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    clean_environment.setenv("AWS_LOCATION", "nomflow")
    clean_environment.setenv("AWS_S3_ADDRESSING_STYLE", "path")

    assert attachment_storage(env, serve="django") == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "nomflow-attachments",
            "location": "nomflow",
            "default_acl": None,
            "querystring_auth": True,
            "signature_version": "s3v4",
            "file_overwrite": False,
            "endpoint_url": "https://minio.example.org",
            "region_name": "fr-par",
            "access_key": "key-id",
            "secret_key": "secret",
            "addressing_style": "path",
        },
    }


def test_on_aws_only_the_bucket_is_needed_and_boto3_finds_the_rest(clean_environment):
    clean_environment.setenv("ATTACHMENT_STORAGE", "s3")
    clean_environment.setenv("AWS_STORAGE_BUCKET_NAME", "nomflow-attachments")

    assert attachment_storage(env, serve="django")["OPTIONS"] == {
        "bucket_name": "nomflow-attachments",
        "location": "",
        "default_acl": None,
        "querystring_auth": True,
        "signature_version": "s3v4",
        "file_overwrite": False,
    }


def test_s3_without_a_bucket_is_refused(clean_environment):
    clean_environment.setenv("ATTACHMENT_STORAGE", "s3")

    with pytest.raises(ImproperlyConfigured) as refused:
        attachment_storage(env, serve="django")

    assert str(refused.value) == (
        "ATTACHMENT_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME, the private bucket that "
        "holds the attachments."
    )


def test_an_unknown_storage_is_refused(clean_environment):
    clean_environment.setenv("ATTACHMENT_STORAGE", "nfs")

    with pytest.raises(ImproperlyConfigured) as refused:
        attachment_storage(env, serve="django")

    assert str(refused.value) == 'ATTACHMENT_STORAGE must be "filesystem" or "s3", not "nfs".'


def test_nginx_cannot_send_attachments_from_a_bucket(clean_environment):
    clean_environment.setenv("ATTACHMENT_STORAGE", "s3")
    clean_environment.setenv("AWS_STORAGE_BUCKET_NAME", "nomflow-attachments")

    with pytest.raises(ImproperlyConfigured) as refused:
        attachment_storage(env, serve="x-accel")

    assert str(refused.value) == (
        "ATTACHMENT_SERVE=x-accel needs attachments on the filesystem (nginx sends them "
        "from MEDIA_ROOT); with ATTACHMENT_STORAGE=s3 set ATTACHMENT_SERVE=django."
    )


def production_settings(**variables):
    """Load config.settings.production in a new process with only these storage variables."""
    environment = {key: value for key, value in os.environ.items() if key not in VARIABLES}
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="production-settings-test",
        ALLOWED_HOSTS="nomflow.example.org",
        **variables,
    )
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, django; django.setup(); from django.conf import settings; "
            "print(json.dumps(settings.STORAGES))",
        ],
        cwd=REPO_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_keeps_whitenoise_and_takes_the_bucket_from_the_environment():
    run = production_settings(ATTACHMENT_STORAGE="s3", AWS_STORAGE_BUCKET_NAME="attachments")

    assert run.returncode == 0, run.stderr
    storages = json.loads(run.stdout)
    assert storages["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storages["default"]["OPTIONS"]["bucket_name"] == "attachments"
    assert storages["staticfiles"] == {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    }


def test_production_does_not_start_with_s3_and_no_bucket():
    run = production_settings(ATTACHMENT_STORAGE="s3")

    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: ATTACHMENT_STORAGE=s3 needs "
        "AWS_STORAGE_BUCKET_NAME, the private bucket that holds the attachments."
    )
