"""Static files: versioned URLs, cache headers, compressed copies."""

from __future__ import annotations

import gzip
import os
import re

from flask import Flask
from werkzeug.test import Client

from feedback.static_files import IMMUTABLE, StaticFiles, StaticVersions, compress


def test_pages_name_their_static_files_with_the_version_of_their_content(client, db):
    page = client.get("/").get_data(as_text=True)
    stylesheet = re.search(r'href="/static/app\.css\?v=([0-9a-f]{12})"', page)
    assert stylesheet, "app.css is linked with its version"
    answer = client.get(f"/static/app.css?v={stylesheet.group(1)}")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == IMMUTABLE
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_an_unversioned_or_outdated_address_is_revalidated(client, db):
    assert client.get("/static/app.css").headers["Cache-Control"] == "no-cache"
    assert client.get("/static/app.css?v=000000000000").headers["Cache-Control"] == "no-cache"
    first = client.get("/static/app.css")
    again = client.get("/static/app.css", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_the_files_of_a_versioned_vendor_folder_are_immutable(client, db):
    font = client.get("/static/vendor/dsfr-1.15.3/dsfr.min.css")
    assert font.status_code == 200
    assert "immutable" in font.headers["Cache-Control"]


def _static_app(tmp_path):
    (tmp_path / "style.css").write_text("body { color: #000091; }\n" * 400)
    versions = StaticVersions(tmp_path)

    def application(environ, start_response):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not here"]

    return versions, application


def test_a_compressed_copy_goes_to_clients_that_accept_it(tmp_path, app):
    versions, application = _static_app(tmp_path)
    flask_app = Flask("static-test", static_folder=str(tmp_path))
    result = flask_app.test_cli_runner().invoke(compress)
    assert result.exit_code == 0, result.output
    assert "1 fichier(s) compressé(s)" in result.output
    assert (tmp_path / "style.css.gz").exists()

    client = Client(StaticFiles(application, tmp_path, versions))
    version = versions.of("style.css")
    zipped = client.get(f"/static/style.css?v={version}", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.status_code == 200
    assert zipped.headers["Content-Encoding"] in ("gzip", "br")
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert zipped.headers["Cache-Control"] == IMMUTABLE
    if zipped.headers["Content-Encoding"] == "gzip":
        assert gzip.decompress(zipped.data) == (tmp_path / "style.css").read_bytes()
    plain = client.get("/static/style.css", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert plain.data == (tmp_path / "style.css").read_bytes()

    again = flask_app.test_cli_runner().invoke(compress)
    assert "0 fichier(s) compressé(s), 1 déjà à jour, 0 sans gain à la compression." in again.output


def test_a_compressed_copy_older_than_its_file_is_never_served(tmp_path):
    versions, application = _static_app(tmp_path)
    (tmp_path / "style.css.gz").write_bytes(gzip.compress(b"body { color: red; }"))
    source = tmp_path / "style.css"
    os.utime(tmp_path / "style.css.gz", (source.stat().st_mtime - 60, source.stat().st_mtime - 60))
    client = Client(StaticFiles(application, tmp_path, versions))
    answer = client.get("/static/style.css", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in answer.headers
    assert answer.data == source.read_bytes()


def test_the_version_follows_the_content(tmp_path):
    versions, _ = _static_app(tmp_path)
    before = versions.of("style.css")
    (tmp_path / "style.css").write_text("body { color: #e1000f; }\n")
    assert versions.of("style.css") != before
    assert versions.of("../etc/passwd") is None
    assert versions.of("missing.css") is None


def test_a_deployment_hashes_each_file_once_a_developer_at_each_change(tmp_path):
    (tmp_path / "style.css").write_text("body { color: #000091; }\n")
    deployed = StaticVersions(tmp_path, watch=False)
    before = deployed.of("style.css")
    (tmp_path / "style.css").write_text("body { color: #e1000f; }\n")
    assert deployed.of("style.css") == before  # until the workers restart with the new release
    assert StaticVersions(tmp_path, watch=True).of("style.css") != before
