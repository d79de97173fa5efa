"""An attachment is accepted for what its bytes are, and only when its name agrees."""

import io
import re
import struct
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from nominations.models import Attachment, Nomination

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def png_1x1():
    """A valid one-pixel PNG, built by hand."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte, one red pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def zipped(members):
    """A ZIP archive of ``members`` (name, bytes), in that order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            compression = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=compression)
    return buffer.getvalue()


def docx(*, word=True, parts_before_word=0):
    members = [
        ("[Content_Types].xml", b'<?xml version="1.0"?><Types/>'),
        ("_rels/.rels", b'<?xml version="1.0"?><Relationships/>'),
        *((f"customXml/item{n}.xml", b"<item/>") for n in range(parts_before_word)),
    ]
    if word:
        members.append(("word/document.xml", b'<?xml version="1.0"?><w:document/>'))
    return zipped(members)


def odt():
    return zipped(
        [
            ("mimetype", ODT.encode()),
            ("content.xml", b'<?xml version="1.0"?><office:document-content/>'),
            ("META-INF/manifest.xml", b'<?xml version="1.0"?><manifest:manifest/>'),
        ]
    )


def post_with_attachment(client, call, name, content, browser_type="application/octet-stream"):
    return client.post(
        reverse("nominations:create", args=[call.pk]),
        {
            "title": "Neighbourhood mentors",
            "summary": "Text the nominator typed",
            "attachment": SimpleUploadedFile(name, content, content_type=browser_type),
            "save": "1",
        },
    )


def attachment_errors(response):
    return response.context["form"].errors["attachment"]


@pytest.fixture
def signed_in(client, nominator):
    client.force_login(nominator)
    return client


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("logo.png", png_1x1(), "image/png"),
        ("photo.jpg", JPEG, "image/jpeg"),
        ("photo.JPEG", JPEG, "image/jpeg"),
        ("evidence.pdf", PDF, "application/pdf"),
        ("report.docx", docx(), DOCX),
        # Word's own part comes late in the archive: past what filetype's first bytes show.
        ("long.docx", docx(parts_before_word=6), DOCX),
        ("report.odt", odt(), ODT),
    ],
    ids=["png", "jpg", "jpeg", "pdf", "docx", "docx-word-part-late", "odt"],
)
def test_real_files_of_the_allowed_kinds_are_stored_with_the_type_of_their_content(
    signed_in, call, name, content, content_type
):
    response = post_with_attachment(signed_in, call, name, content, browser_type="text/html")

    assert response.status_code == 302
    attachment = Nomination.objects.get().attachments.get()
    assert (attachment.original_name, attachment.content_type, attachment.size) == (
        name,
        content_type,
        len(content),
    )


def test_a_web_page_named_like_an_image_is_refused_and_the_typed_text_stays(signed_in, call):
    response = post_with_attachment(signed_in, call, "page.png", HTML, browser_type="image/png")

    assert response.status_code == 200
    assert Nomination.objects.count() == 0
    assert attachment_errors(response) == [
        "“page.png” cannot be attached: its content is none of the kinds allowed "
        "(.docx, .jpeg, .jpg, .odt, .pdf, .png), regardless of its file name.",
        "Please choose the file again.",
    ]
    assert b"Text the nominator typed" in response.content
    assert b"Neighbourhood mentors" in response.content


@pytest.mark.parametrize(
    ("name", "content", "actual"),
    [
        ("x.png", PDF, ".pdf"),
        ("scan.pdf", png_1x1(), ".png"),
        ("report.docx", odt(), ".odt"),
        ("report.odt", docx(), ".docx"),
    ],
    ids=["pdf-as-png", "png-as-pdf", "odt-as-docx", "docx-as-odt"],
)
def test_a_file_whose_name_disagrees_with_its_content_is_refused(
    signed_in, call, name, content, actual
):
    response = post_with_attachment(signed_in, call, name, content)

    assert Nomination.objects.count() == 0
    suffix = name[name.rindex(".") :]
    assert attachment_errors(response)[0] == (
        f"“{name}” holds a {actual} file but its name ends in {suffix}. "
        f"Rename it to end in {actual} and choose it again."
    )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("report.docx", docx(word=False)),
        ("report.docx", zipped([("word/document.xml", b"<w:document/>")])),
        ("report.odt", zipped([("mimetype", b"application/zip"), ("content.xml", b"<x/>")])),
        ("report.docx", b"PK\x03\x04 not really a zip"),
    ],
    ids=["docx-without-word", "docx-without-content-types", "odt-of-another-type", "broken-zip"],
)
def test_archives_that_are_not_really_documents_are_refused(signed_in, call, name, content):
    response = post_with_attachment(signed_in, call, name, content)

    assert Nomination.objects.count() == 0
    assert "cannot be attached" in attachment_errors(response)[0]


def test_the_stored_file_name_is_random_and_owes_nothing_to_the_uploaded_name(signed_in, call):
    post_with_attachment(signed_in, call, "Secret plan of Anna.pdf", PDF)

    attachment = Attachment.objects.get()
    assert re.fullmatch(r"attachments/\d{4}/\d{2}/[0-9a-f]{32}", attachment.file.name)
    assert not {"secret", "plan", "anna", ".pdf"} & set(
        re.split(r"[/ ]", attachment.file.name.lower())
    )
    assert "pdf" not in attachment.file.name.lower()
