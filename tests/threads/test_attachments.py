"""Files on messages: checked on their content, kept in the storage, listed under their message, served only to
those who may read the message, as downloads that cannot run in the site's origin."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from feedback.extensions import db
from feedback.storage import LocalStorage, new_key
from feedback.threads import services
from feedback.threads.models import Attachment, Message

from .conftest import count, data_request, field_errors, fresh, html, question

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" + b"\x00" * 16


def xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


def ods() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def gpkg(tmp_path: Path) -> bytes:
    path = tmp_path / "haies.gpkg"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA application_id = 1196444487")  # "GPKG"
    connection.execute("CREATE TABLE gpkg_contents (table_name TEXT)")
    connection.commit()
    connection.close()
    return path.read_bytes()


GEOJSON = json.dumps({"type": "FeatureCollection", "features": []}).encode()
CSV = b"commune;surface\nGien;12,5\nBriare;8\n"


def _reply(web, thread, files, body="Voici le fichier.", **data):
    return web.post(
        f"/fils/{thread.id}/messages",
        data={"body": body, "files": files, **data},
        content_type="multipart/form-data",
    )


def _attachments() -> list[Attachment]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Attachment).order_by(Attachment.id)))


@pytest.mark.parametrize(
    ("name", "content", "label", "served_as"),
    [
        ("extrait.pdf", PDF, "PDF", "extrait.pdf"),
        ("carte.png", PNG, "PNG", "carte.png"),
        ("tableau.xlsx", None, "XLSX", "tableau.xlsx"),
        ("tableau.ods", None, "ODS", "tableau.ods"),
        ("haies.gpkg", None, "GeoPackage", "haies.gpkg"),
        ("zones.geojson", GEOJSON, "GeoJSON", "zones.geojson"),
        ("surfaces.csv", CSV, "CSV", "surfaces.csv"),
        ("rapport.txt", PDF, "PDF", "rapport.pdf"),  # the content decides, and the served name follows it
    ],
)
def test_a_member_answers_with_a_file_and_the_requester_downloads_it(
    web, scene, tmp_path, name, content, label, served_as
):
    content = content or {"tableau.xlsx": xlsx, "tableau.ods": ods}.get(name, lambda: gpkg(tmp_path))()
    thread = data_request(scene)
    web.sign_in(scene.member)

    response = _reply(web, thread, [(io.BytesIO(content), name)])

    assert response.status_code == 303
    (attachment,) = _attachments()
    assert (attachment.type_label, attachment.name, attachment.size) == (label, served_as, len(content))
    assert attachment.message.as_organisation_id == scene.producer.id

    web.sign_in(scene.author)
    page = html(web.get(f"/fils/{thread.id}"))
    assert f'href="/fils/{thread.id}/fichiers/{attachment.id}"' in page
    assert served_as in page and label in page
    download = web.get(f"/fils/{thread.id}/fichiers/{attachment.id}")
    assert download.status_code == 200
    assert download.data == content
    assert download.headers["Content-Disposition"].startswith(f'attachment; filename="{served_as}"')
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert download.headers["Content-Type"].startswith(attachment.content_type)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ([(io.BytesIO(b"<html><script>alert(1)</script></html>"), "extrait.pdf")], "n'est pas d'un type accepté"),
        ([(io.BytesIO(b"MZ\x90\x00" + b"\x00" * 60), "outil.exe")], "n'est pas d'un type accepté"),
        ([(io.BytesIO(b"\x00\x01\x02binary"), "donnees.csv")], "n'est pas d'un type accepté"),
        ([(io.BytesIO(PDF + b"x" * 2000), "gros.pdf")], "dépasse 1 ko"),
        ([(io.BytesIO(PDF), f"f{n}.pdf") for n in range(6)], "5 fichiers au plus"),
        ([(io.BytesIO(b""), "vide.pdf")], "est vide"),
    ],
)
def test_a_refused_file_leaves_the_message_unposted_with_the_error_and_the_text_kept(
    web, scene, app, monkeypatch, files, expected
):
    monkeypatch.setitem(app.config, "FEEDBACK_UPLOAD_MAX_BYTES", 1024)
    thread = question(scene)
    web.sign_in(scene.author)
    before = count(Message)

    response = _reply(web, thread, files, body="Mon texte à garder")

    assert response.status_code == 200
    (error,) = field_errors(response, "files")
    assert expected in error
    assert "Mon texte à garder" in html(response)
    assert count(Message) == before
    assert _attachments() == []


def test_files_of_a_new_thread(web, scene):
    web.sign_in(scene.author)

    response = web.post(
        "/fils/nouveau?type=question",
        data={
            "title": "Avec une carte",
            "body": "Voir la carte.",
            "dataset": scene.dataset.catalogue_id,
            "files": [(io.BytesIO(PNG), "c.png")],
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 303, html(response)
    (attachment,) = _attachments()
    assert attachment.message.thread.title == "Avec une carte"


def test_a_file_is_served_only_to_those_who_may_read_its_message(web, scene):
    restricted = data_request(scene, title="Restreinte", restricted=True)
    web.sign_in(scene.author)
    assert _reply(web, restricted, [(io.BytesIO(PDF), "a.pdf")]).status_code == 303
    public = question(scene, title="Publique")
    web.sign_in(scene.member)
    assert _reply(web, public, [(io.BytesIO(PDF), "note.pdf")], internal="y").status_code == 303
    on_restricted, on_note = _attachments()
    assert on_note.message.internal

    for person, url, allowed in [
        (None, f"/fils/{restricted.id}/fichiers/{on_restricted.id}", False),
        (scene.other_user, f"/fils/{restricted.id}/fichiers/{on_restricted.id}", False),
        (scene.member, f"/fils/{restricted.id}/fichiers/{on_restricted.id}", True),
        (scene.author, f"/fils/{public.id}/fichiers/{on_note.id}", False),
        (scene.other_user, f"/fils/{public.id}/fichiers/{on_note.id}", False),
        (scene.coordinator, f"/fils/{public.id}/fichiers/{on_note.id}", True),
        (scene.member, f"/fils/{restricted.id}/fichiers/{on_note.id}", False),  # not this thread's file
    ]:
        web.sign_in(person)
        assert web.get(url).status_code == (200 if allowed else 404), (person and person.name, url)


def test_files_stored_for_a_message_that_is_not_committed_are_deleted(app, scene):
    thread = question(scene)
    folder = Path(app.config["FEEDBACK_UPLOAD_FOLDER"])
    before = set(folder.rglob("*")) if folder.exists() else set()
    from werkzeug.datastructures import FileStorage

    from feedback.threads.attachments import check_uploads

    uploads = check_uploads([FileStorage(io.BytesIO(PDF), "a.pdf")])
    services.post_message(thread, scene.member, "Avec un fichier.", files=uploads)
    db.session.flush()
    assert {p for p in folder.rglob("*") if p.is_file()} - before  # written before the commit
    db.session.rollback()

    assert {p for p in folder.rglob("*") if p.is_file()} - before == set()
    assert fresh(thread.id).messages_count == 1


def test_local_storage_keeps_files_under_random_keys_and_refuses_to_leave_its_folder(tmp_path):
    store = LocalStorage(tmp_path / "uploads")
    key = new_key()
    store.put(key, io.BytesIO(b"contenu"), "text/csv")
    with store.open(key) as handle:
        assert handle.read() == b"contenu"
    assert store.url(key, download_name="x") is None
    assert [p.name for p in (tmp_path / "uploads").rglob("*") if p.is_file()] == [key.rsplit("/", 1)[1]]
    with pytest.raises(ValueError):
        store.put("../../evasion", io.BytesIO(b"x"), "text/plain")
    store.delete(key)
    store.delete(key)  # deleting twice is harmless
    assert [p for p in (tmp_path / "uploads").rglob("*") if p.is_file()] == []
