"""What an uploaded file really is, read from its bytes.

Neither the file's name nor the type the browser sent with it is trusted.
"""

import zipfile
import zlib

import filetype

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
#: What ``filetype`` may call a ZIP container that is in fact one of our documents.
ZIP_CONTAINERS = frozenset({"application/zip", DOCX, ODT})


def detected_content_type(upload):
    """The MIME type of ``upload``'s content, or None when it is nothing we recognise.

    Word and OpenDocument files are ZIP archives: their type is confirmed from the archive's
    members (``[Content_Types].xml`` and ``word/``; the ``mimetype`` member), not only from
    the first bytes. ``upload`` is left at its start.
    """
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head) if head else None
    if kind is None:
        return None
    if kind.mime in ZIP_CONTAINERS:
        return _zipped_document_type(upload)
    return kind.mime


def _zipped_document_type(upload):
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                # The ODF spec has it stored first and uncompressed; read no more than needed.
                with archive.open("mimetype") as member:
                    return ODT if member.read(len(ODT) + 1) == ODT.encode() else None
            if "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
                return DOCX
            return None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, ValueError):
        # Damaged, encrypted or using a compression zipfile cannot read: not a document.
        return None
    finally:
        upload.seek(0)
