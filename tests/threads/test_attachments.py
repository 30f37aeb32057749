"""Files on messages: checked on their content, kept in the storage, listed under their message, served only to
those who may read the message, as downloads that cannot run in the site's origin."""

from __future__ import annotations

import hashlib
import io
import json
import re
import sqlite3
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from feedback.extensions import db
from feedback.threads import services
from feedback.threads.attachments import attachment_links, check_uploads
from feedback.threads.models import Attachment, Message

from .. import factories
from ..conftest import build_app
from .conftest import count, data_request, field_errors, fresh, html, page_text, question

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
    url = f"/fils/{thread.id}/fichiers/{attachment.id}/{served_as}"
    link = re.search(rf'<a class="fr-link fr-link--download" href="{re.escape(url)}" download>(.*?)</a>', page, re.S)
    assert link, page
    assert page_text(link.group(1)).startswith(f"{served_as} {label} – ")
    download = web.get(url)
    assert download.status_code == 200
    assert download.data == content
    assert download.headers["Content-Disposition"] == (
        f"attachment; filename=\"{served_as}\"; filename*=UTF-8''{served_as}"
    )
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert download.headers["Cache-Control"].startswith("private")
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
    uploads = check_uploads([FileStorage(io.BytesIO(PDF), "a.pdf")])
    services.post_message(thread, scene.member, "Avec un fichier.", files=uploads)
    db.session.flush()
    assert {p for p in folder.rglob("*") if p.is_file()} - before  # written before the commit
    db.session.rollback()

    assert {p for p in folder.rglob("*") if p.is_file()} - before == set()
    assert fresh(thread.id).messages_count == 1


def test_a_file_is_named_in_its_link_with_its_accents_and_served_under_that_name(web, scene):
    thread = question(scene)
    web.sign_in(scene.member)
    assert _reply(web, thread, [(io.BytesIO(CSV), "../../mes documents/Relevés été 2025.csv")]).status_code == 303
    (attachment,) = _attachments()
    assert attachment.name == "Relevés été 2025.csv"  # no folder of the sender's, no way out

    url = f"/fils/{thread.id}/fichiers/{attachment.id}/{quote(attachment.name)}"
    assert f'href="{url}"' in html(web.get(f"/fils/{thread.id}"))
    assert attachment_links([attachment.message_id]) == {attachment.message_id: [(attachment.name, url)]}
    download = web.get(url)
    assert download.data == CSV
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"Relevs t 2025.csv\"; filename*=UTF-8''Relev%C3%A9s%20%C3%A9t%C3%A9%202025.csv"
    )


def test_the_files_of_a_message_hidden_by_the_moderation_are_not_served(web, scene):
    thread = question(scene)
    web.sign_in(scene.member)
    assert _reply(web, thread, [(io.BytesIO(PDF), "a.pdf")]).status_code == 303
    (attachment,) = _attachments()
    url = f"/fils/{thread.id}/fichiers/{attachment.id}/a.pdf"
    assert web.get(url).status_code == 200

    attachment.message.hidden_at = attachment.created_at
    db.session.commit()

    for person in (scene.member, scene.author, scene.curator):
        web.sign_in(person)
        assert web.get(url).status_code == 404
        assert "a.pdf" not in html(web.get(f"/fils/{thread.id}"))


def test_an_internal_note_lists_its_files_only_to_those_who_read_internal_notes(web, scene):
    thread = question(scene)
    web.sign_in(scene.member)
    assert _reply(web, thread, [(io.BytesIO(PDF), "interne.pdf")], body="Pour le service.", internal="y").status_code
    (attachment,) = _attachments()
    assert attachment.message.internal

    for person, listed in [(scene.coordinator, True), (scene.curator, True), (scene.author, False), (None, False)]:
        web.sign_in(person)
        assert ("interne.pdf" in html(web.get(f"/fils/{thread.id}"))) is listed


def test_a_refused_file_on_a_new_thread_keeps_the_title_and_the_text(web, scene):
    web.sign_in(scene.author)

    response = web.post(
        "/fils/nouveau?type=question",
        data={
            "title": "Avec un faux PDF",
            "body": "Le texte que j'ai écrit.",
            "dataset": scene.dataset.catalogue_id,
            "files": [(io.BytesIO(b"<!doctype html><p>page</p>"), "faux.pdf")],
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 200
    (error,) = field_errors(response, "files")
    assert "« faux.pdf » n'est pas d'un type accepté" in error
    assert "Le texte que j'ai écrit." in page_text(response) and 'value="Avec un faux PDF"' in html(response)
    assert count(Message) == 0 and _attachments() == []


def test_the_file_field_says_the_limits_in_force_and_the_form_sends_files(web, scene, app, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
    monkeypatch.setitem(app.config, "FEEDBACK_UPLOAD_MAX_FILES", 3)
    thread = question(scene)
    web.sign_in(scene.author)

    for url, action in [
        (f"/fils/{thread.id}", f"/fils/{thread.id}/messages"),
        ("/fils/nouveau?type=question", "/fils/nouveau"),
    ]:
        page = html(web.get(url))
        form_tag = re.search(rf'<form method="post" action="{re.escape(action)}[^"]*"[^>]*>', page).group(0)
        assert 'enctype="multipart/form-data"' in form_tag
        group = re.search(r'<div class="fr-upload-group[^"]*">(.*?)</div>\s*</div>', page, re.S).group(1)
        assert page_text(group).startswith(
            "Fichiers joints (facultatif) 3 fichiers au plus, 5 Mo chacun. Formats : ZIP, GeoJSON, GeoPackage, CSV"
        )
        file_input = re.search(r'<input[^>]*name="files"[^>]*>', group).group(0)
        assert 'type="file"' in file_input and "multiple" in file_input and 'class="fr-upload"' in file_input


def test_the_thread_page_runs_as_many_queries_whatever_the_number_of_files(web, scene):
    thread = question(scene)
    web.sign_in(scene.member)
    assert _reply(web, thread, [(io.BytesIO(PDF), "un.pdf")]).status_code == 303
    web.sign_in(scene.author)
    few, _ = web.count_queries(f"/fils/{thread.id}")

    web.sign_in(scene.member)
    for index in range(6):
        files = [(io.BytesIO(PNG), f"carte-{index}-{n}.png") for n in range(3)]
        assert _reply(web, thread, files, body=f"Cartes n° {index}").status_code == 303
    web.sign_in(scene.author)
    many, response = web.count_queries(f"/fils/{thread.id}")

    assert html(response).count("fr-link--download") == 19
    assert many <= few


def test_files_stored_in_a_transaction_closed_without_a_commit_are_deleted(app, scene):
    """A request that fails after storing its files ends with its session closed, not rolled back."""
    thread = question(scene)
    folder = Path(app.config["FEEDBACK_UPLOAD_FOLDER"])
    before = {p for p in folder.rglob("*") if p.is_file()}
    uploads = check_uploads([FileStorage(io.BytesIO(PNG), "a.png"), FileStorage(io.BytesIO(CSV), "b.csv")])
    services.post_message(thread, scene.member, "Avec deux fichiers.", files=uploads)
    db.session.flush()
    assert len({p for p in folder.rglob("*") if p.is_file()} - before) == 2

    db.session.close()

    assert {p for p in folder.rglob("*") if p.is_file()} == before


def test_files_of_a_committed_message_stay(app, scene):
    thread = question(scene)
    folder = Path(app.config["FEEDBACK_UPLOAD_FOLDER"])
    uploads = check_uploads([FileStorage(io.BytesIO(PNG), "a.png")])
    (attachment,) = services.post_message(thread, scene.member, "Avec un fichier.", files=uploads).attachments
    attachment_id, key = attachment.id, attachment.storage_key
    db.session.commit()
    db.session.close()

    assert (folder / key).read_bytes() == PNG
    assert db.session.get(Attachment, attachment_id).sha256 == hashlib.sha256(PNG).hexdigest()


# The size of a request ----------------------------------------------------------------------------------------


def test_a_form_without_files_keeps_a_small_body_limit_with_a_french_page(web, scene):
    thread = question(scene)
    big = b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024)

    sign_in = web.post("/connexion", data={"email": "x@example.org", "file": (io.BytesIO(big), "a.pdf")})
    assert sign_in.status_code == 413
    assert "Envoi trop volumineux" in page_text(sign_in) and "limites sont indiquées" in page_text(sign_in)

    web.sign_in(scene.author)
    text_too_long = web.post(f"/fils/{thread.id}/messages", data={"body": "é" * 400_000})  # 2,4 MB encoded
    assert text_too_long.status_code == 413
    field_too_long = _reply(web, thread, [(io.BytesIO(PDF), "a.pdf")], body="é" * 300_000)  # 600 kB
    assert field_too_long.status_code == 413
    assert count(Message) == 1

    with_a_file = _reply(web, thread, [(io.BytesIO(big), "gros.pdf")])
    assert with_a_file.status_code == 303
    assert _attachments()[0].size == len(big)


def test_a_body_larger_than_the_files_allowed_is_refused(web, scene, app, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_UPLOAD_MAX_BYTES", 1024 * 1024)
    monkeypatch.setitem(app.config, "FEEDBACK_UPLOAD_MAX_FILES", 1)
    thread = question(scene)
    web.sign_in(scene.author)

    response = _reply(web, thread, [(io.BytesIO(PDF + b"0" * (4 * 1024 * 1024)), "gros.pdf")])

    assert response.status_code == 413
    assert count(Message) == 1 and _attachments() == []


def test_files_are_received_before_the_csrf_check_reads_the_form(app, tmp_path_factory, scene):
    """With the CSRF check on, as in production: the check reads the form, so the larger limit of the views
    that receive files must be in force before it."""
    protected = build_app(app, tmp_path_factory, WTF_CSRF_ENABLED=True)
    thread = question(scene)
    client = protected.test_client()
    big = PDF + b"0" * (3 * 1024 * 1024)

    def token(url: str) -> str:
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)

    try:
        with protected.app_context():
            credentials = {"email": scene.author.email, "password": factories.PASSWORD}
            signed_in = client.post("/connexion", data={**credentials, "csrf_token": token("/connexion")})
            assert signed_in.status_code == 303
            response = client.post(
                f"/fils/{thread.id}/messages",
                data={
                    "body": "Le gros fichier.",
                    "files": [(io.BytesIO(big), "gros.pdf")],
                    "csrf_token": token(f"/fils/{thread.id}"),
                },
                content_type="multipart/form-data",
            )
            assert response.status_code == 303, response.status_code
    finally:
        with protected.app_context():
            db.engine.dispose()
    assert [a.size for a in _attachments()] == [len(big)]
