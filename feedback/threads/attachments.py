"""Files on messages: what a file is, told from its content (never from its name), whether it may be posted, and
where it is served.

Allowed: zip, GeoJSON, GeoPackage, CSV, OpenDocument and Office spreadsheets and texts, PDF, PNG and JPEG — what
a service answers a data request with. The detected type decides the stored content type and the extension of
the name the file is served under: a page renamed `.pdf` is refused, a PDF named `.txt` is served as `.pdf`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import quote

import filetype
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from feedback.extensions import db
from feedback.i18n import french_size
from feedback.storage import new_key, storage
from feedback.threads.models import Attachment, Message

SNIFF_BYTES = 8192
GEOPACKAGE_APPLICATION_ID = b"GPKG"


@dataclass(frozen=True)
class FileType:
    label: str
    content_type: str
    extension: str


PDF = FileType("PDF", "application/pdf", "pdf")
PNG = FileType("PNG", "image/png", "png")
JPEG = FileType("JPEG", "image/jpeg", "jpg")
ZIP = FileType("ZIP", "application/zip", "zip")
ODS = FileType("ODS", "application/vnd.oasis.opendocument.spreadsheet", "ods")
ODT = FileType("ODT", "application/vnd.oasis.opendocument.text", "odt")
XLSX = FileType("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
DOCX = FileType("DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
GPKG = FileType("GeoPackage", "application/geopackage+sqlite3", "gpkg")
GEOJSON = FileType("GeoJSON", "application/geo+json", "geojson")
CSV = FileType("CSV", "text/csv", "csv")
ALLOWED = (ZIP, GEOJSON, GPKG, CSV, ODS, XLSX, PDF, ODT, DOCX, PNG, JPEG)
ALLOWED_LABELS = ", ".join(file_type.label for file_type in ALLOWED)
GEOJSON_TYPES = {
    "FeatureCollection", "Feature", "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
    "MultiPolygon", "GeometryCollection",
}  # fmt: skip


class AttachmentError(Exception):
    """A file that may not be posted; the message is French, for the form's field."""


@dataclass
class Upload:
    """A file checked and ready to store."""

    name: str
    stream: BinaryIO
    size: int
    file_type: FileType


def _zip_type(stream: BinaryIO) -> FileType:
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
                for candidate in (ODS, ODT):
                    if mimetype == candidate.content_type:
                        return candidate
            if "[Content_Types].xml" in names:
                if any(name.startswith("xl/") for name in names):
                    return XLSX
                if any(name.startswith("word/") for name in names):
                    return DOCX
    except zipfile.BadZipFile:
        raise AttachmentError("ce fichier ZIP est illisible") from None
    return ZIP


def _text_type(stream: BinaryIO, size: int) -> FileType | None:
    stream.seek(0)
    head = stream.read(min(size, 4 * 1024 * 1024))
    if b"\0" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = head.decode("latin-1")
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        stream.seek(0)
        try:
            document = json.loads(stream.read().decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError):
            return None
        return GEOJSON if isinstance(document, dict) and document.get("type") in GEOJSON_TYPES else None
    if stripped.startswith("<"):  # HTML, XML, SVG: never served as a download of another type
        return None
    sample = "\n".join(stripped.splitlines()[:20])
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t|")
    except csv.Error:
        return None
    rows = list(csv.reader(io.StringIO(sample), dialect))
    return CSV if len(rows) >= 1 and all(len(row) > 1 for row in rows[:5]) else None


def detect(stream: BinaryIO, size: int) -> FileType | None:
    """The file's type, read from its content; None when it is none of the allowed types."""
    stream.seek(0)
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    if head.startswith(b"SQLite format 3\0") and head[68:72] == GEOPACKAGE_APPLICATION_ID:
        return GPKG
    kind = filetype.guess(head)
    if kind is not None:
        if kind.mime == "application/pdf":
            return PDF
        if kind.mime == "image/png":
            return PNG
        if kind.mime == "image/jpeg":
            return JPEG
        if kind.mime == "application/zip" or head.startswith(b"PK\x03\x04"):
            return _zip_type(stream)
        return None
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(stream)
    return _text_type(stream, size)


def safe_name(name: str, file_type: FileType) -> str:
    """A name to show and to serve under: the person's name without folders or control characters, with the
    extension of its detected type."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r"[\x00-\x1f\x7f\"<>:|?*]", "", name).strip(" .") or "fichier"
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem[:150]}.{file_type.extension}"


def check_uploads(files: Iterable) -> list[Upload]:
    """The files of a form (werkzeug `FileStorage`), checked: their number, each one's size and type. Raises
    `AttachmentError` on the first that may not be posted."""
    config = current_app.config
    max_bytes, max_files = config["FEEDBACK_UPLOAD_MAX_BYTES"], config["FEEDBACK_UPLOAD_MAX_FILES"]
    present = [f for f in files if f is not None and getattr(f, "filename", None)]
    if len(present) > max_files:
        raise AttachmentError(f"{max_files} fichiers au plus par message.")
    uploads = []
    for file in present:
        stream = file.stream
        stream.seek(0, io.SEEK_END)
        size = stream.tell()
        stream.seek(0)
        if size == 0:
            raise AttachmentError(f"« {file.filename} » est vide.")
        if size > max_bytes:
            raise AttachmentError(f"« {file.filename} » dépasse {french_size(max_bytes)} ({french_size(size)}).")
        try:
            file_type = detect(stream, size)
        except AttachmentError as error:
            raise AttachmentError(f"« {file.filename} » : {error}.") from None
        if file_type is None:
            raise AttachmentError(
                f"« {file.filename} » n'est pas d'un type accepté (d'après son contenu) : {ALLOWED_LABELS}."
            )
        stream.seek(0)
        uploads.append(Upload(safe_name(file.filename, file_type), stream, size, file_type))
    return uploads


def attachment_path(attachment: Attachment) -> str:
    """Where the file is served (`views.attachment`), ending with its name for those who read the link."""
    return f"/fils/{attachment.thread_id}/fichiers/{attachment.id}/{quote(attachment.name)}"


def attachment_links(message_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """Each message's files as (name, path of this site), in one query: what mails list as links."""
    links: dict[int, list[tuple[str, str]]] = {}
    if not message_ids:
        return links
    rows = db.session.scalars(
        sa.select(Attachment).where(Attachment.message_id.in_(set(message_ids))).order_by(Attachment.id)
    )
    for attachment in rows:
        links.setdefault(attachment.message_id, []).append((attachment.name, attachment_path(attachment)))
    return links


# Storing ----------------------------------------------------------------------------------------------------------

_STORED = "feedback.stored_files"


def store_uploads(message: Message, uploads: Sequence[Upload]) -> list[Attachment]:
    """Put each file in the storage and record it on `message`, in the caller's transaction. The files are
    written before the commit; if the transaction is rolled back, they are deleted (`register`)."""
    box = storage()
    attachments = []
    for upload in uploads:
        key = new_key()
        digest = hashlib.sha256()
        upload.stream.seek(0)
        for chunk in iter(lambda: upload.stream.read(1024 * 1024), b""):  # noqa: B023  (read at once, in the loop)
            digest.update(chunk)
        upload.stream.seek(0)
        box.put(key, upload.stream, upload.file_type.content_type)
        db.session.info.setdefault(_STORED, []).append(key)
        attachment = Attachment(
            message=message,
            thread_id=message.thread_id,
            storage_key=key,
            name=upload.name,
            content_type=upload.file_type.content_type,
            type_label=upload.file_type.label,
            size=upload.size,
            sha256=digest.hexdigest(),
        )
        db.session.add(attachment)
        attachments.append(attachment)
    return attachments


def _forget_stored(session) -> None:
    if not session.in_nested_transaction():  # a savepoint's release is not yet the commit
        session.info.pop(_STORED, None)


def _delete_uncommitted(session, transaction) -> None:
    if transaction.parent is not None:  # a savepoint: the files wait for the whole transaction
        return
    keys = session.info.pop(_STORED, None)  # what a commit has not taken (`_forget_stored`)
    if not keys:
        return
    box = storage()
    for key in keys:
        box.delete(key)


def register() -> None:
    """Called by the application factory: files written in a transaction that ends without a commit (rolled
    back, or the session closed after an error) are deleted."""
    if not sa.event.contains(Session, "after_commit", _forget_stored):
        sa.event.listen(Session, "after_commit", _forget_stored)
        sa.event.listen(Session, "after_transaction_end", _delete_uncommitted)
