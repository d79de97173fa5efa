"""Where uploaded attachments are kept, chosen by ATTACHMENT_STORAGE.

``filesystem`` (default) keeps them under MEDIA_ROOT, which only the machine that has that
folder can read: with several web nodes or workers on different machines, MEDIA_ROOT must
be one shared volume (NFS). ``s3`` keeps them in a bucket of an S3-compatible store (AWS
S3, MinIO, Scaleway, OVH…) that every node reaches; it needs the ``s3`` extra
(``pip install -e ".[s3]"``). docs/operations.md, "Attachments on shared storage".
"""

from django.core.exceptions import ImproperlyConfigured

ATTACHMENT_STORAGES = ("filesystem", "s3")

# Optional S3 settings, each passed on only when set so that boto3's own lookup (its
# environment variables, ~/.aws, an instance role) fills what is not.
_S3_OPTIONS_FROM_ENV = {
    "AWS_S3_ENDPOINT_URL": "endpoint_url",  # any store other than AWS itself
    "AWS_S3_REGION_NAME": "region_name",
    "AWS_ACCESS_KEY_ID": "access_key",
    "AWS_SECRET_ACCESS_KEY": "secret_key",
    "AWS_S3_ADDRESSING_STYLE": "addressing_style",  # "path" for MinIO without bucket DNS
}


def attachment_storage(env, *, serve):
    """STORAGES["default"] as the environment asks, refusing what cannot work.

    ``serve`` is ATTACHMENT_SERVE: "x-accel" hands nginx a path under MEDIA_ROOT, which a
    bucket does not have, so it is refused with s3 rather than failing every download.
    """
    kind = env.str("ATTACHMENT_STORAGE", default="filesystem")
    if kind not in ATTACHMENT_STORAGES:
        raise ImproperlyConfigured(
            f'ATTACHMENT_STORAGE must be "filesystem" or "s3", not "{kind}".'
        )
    if kind == "filesystem":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}

    bucket = env.str("AWS_STORAGE_BUCKET_NAME", default="")
    if not bucket:
        raise ImproperlyConfigured(
            "ATTACHMENT_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME, the private bucket that "
            "holds the attachments."
        )
    if serve == "x-accel":
        raise ImproperlyConfigured(
            "ATTACHMENT_SERVE=x-accel needs attachments on the filesystem (nginx sends them "
            "from MEDIA_ROOT); with ATTACHMENT_STORAGE=s3 set ATTACHMENT_SERVE=django."
        )
    options = {
        "bucket_name": bucket,
        # A prefix inside the bucket, so that one bucket may hold other things too.
        "location": env.str("AWS_LOCATION", default=""),
        # Attachments are personal data: objects stay private (no ACL granted, the bucket's
        # own policy applies), any URL the storage makes is signed and expires, and a name
        # already taken gets a new one rather than replacing someone else's file.
        "default_acl": None,
        "querystring_auth": True,
        "signature_version": "s3v4",  # what every current store accepts; v2 is retired
        "file_overwrite": False,
    }
    for variable, option in _S3_OPTIONS_FROM_ENV.items():
        value = env.str(variable, default="")
        if value:
            options[option] = value
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
