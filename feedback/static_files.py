"""Static files: served by WhiteNoise in each worker, with versioned URLs, long-lived caching and compression.

- Every `url_for('static', filename=…)` carries `?v=<hash of the file's content>` (computed once per file and
  process, again when the file changes). A request whose `v` is the file's current hash is answered
  `Cache-Control: public, max-age=31536000, immutable`: the browser never asks again until the page names another
  version. The vendored libraries' folders carry their version in their name (`vendor/dsfr-1.15.3/…`), so the
  files the stylesheets load by relative address (fonts, icons) are immutable too. Any other request is answered
  `no-cache` (the browser revalidates, WhiteNoise answers 304).
- Compression: `flask --app wsgi static compress` writes a `.gz` (and a `.br` when the Brotli package is installed)
  beside each file worth compressing; WhiteNoise sends it to clients that accept it (`Vary: Accept-Encoding`). A
  compressed copy older than its file is ignored, so an edited file is never served in its former version.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import parse_qs
from wsgiref.headers import Headers

import click
from flask import Flask
from flask.cli import with_appcontext
from whitenoise import WhiteNoise  # type: ignore[import-untyped]
from whitenoise.responders import MissingFileError, StaticFile  # type: ignore[import-untyped]
from whitenoise.string_utils import decode_path_info  # type: ignore[import-untyped]

from feedback.request_log import ROUTE_KEY

ONE_YEAR = 365 * 24 * 60 * 60
IMMUTABLE = f"public, max-age={ONE_YEAR}, immutable"
REVALIDATE = "no-cache"
# A vendored library's folder names its version: vendor/dsfr-1.15.3/, vendor/htmx-2.0.11/.
_VERSIONED_FOLDER = re.compile(r"^/static/vendor/[A-Za-z0-9_.-]+-\d+(\.\d+)+/")


class StaticVersions:
    """The short content hash of each static file. With `watch`, kept while the file's size and time are unchanged
    (a developer's server, whose files change under it); without, computed once per process (a deployment's files
    change only with a new release, which restarts the workers): a page names some thirty files, and looking at
    each on disk was a tenth of its cost."""

    def __init__(self, root: Path, watch: bool = True) -> None:
        self.root = root.resolve()
        self.watch = watch
        self._known: dict[str, tuple[int, int, str]] = {}

    def of(self, filename: str) -> str | None:
        if not self.watch and filename in self._known:
            return self._known[filename][2]
        path = (self.root / filename).resolve()
        if not path.is_relative_to(self.root):
            return None
        try:
            status = path.stat()
        except OSError:
            return None
        known = self._known.get(filename)
        if known and known[0] == status.st_mtime_ns and known[1] == status.st_size:
            return known[2]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        self._known[filename] = (status.st_mtime_ns, status.st_size, digest)
        return digest


class StaticFiles(WhiteNoise):
    """WhiteNoise in front of the application, for the files of `static/` at `/static/…`."""

    def __init__(self, application: Callable, root: Path, versions: StaticVersions) -> None:
        self.versions = versions
        super().__init__(
            application,
            root=str(root),
            prefix="static/",
            max_age=None,
            allow_all_origins=False,
            immutable_file_test=lambda path, url: bool(_VERSIONED_FOLDER.match(url)),
        )

    def get_static_file(self, path, url, stat_cache=None):
        """As WhiteNoise's, but a compressed copy older than its file is left out."""
        if stat_cache is None and not os.path.exists(path):
            raise MissingFileError(path)
        headers = Headers([])
        self.add_mime_headers(headers, path, url)
        self.add_cache_headers(headers, path, url)
        _default_headers(headers, path, url)
        source_time = os.stat(path).st_mtime
        encodings = {
            encoding: path + suffix
            for encoding, suffix in (("gzip", ".gz"), ("br", ".br"))
            if os.path.exists(path + suffix) and os.stat(path + suffix).st_mtime >= source_time
        }
        return StaticFile(path, headers.items(), stat_cache=stat_cache, encodings=encodings)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = decode_path_info(environ.get("PATH_INFO", ""))
        static_file = self.files.get(path)
        if static_file is None:
            return self.application(environ, start_response)
        environ[ROUTE_KEY] = "/static/<path:filename>"
        asked = parse_qs(environ.get("QUERY_STRING", "")).get("v", [None])[0]
        if asked is None or asked != self.versions.of(path[len("/static/") :]):
            return self.serve(static_file, environ, start_response)

        def start_immutable(status: str, headers: list, exc_info=None):
            headers = [(name, value) for name, value in headers if name.lower() != "cache-control"]
            headers.append(("Cache-Control", IMMUTABLE))
            return start_response(status, headers, exc_info)

        return self.serve(static_file, environ, start_immutable)


def _default_headers(headers, path: str, url: str) -> None:
    if "Cache-Control" not in headers:
        headers["Cache-Control"] = REVALIDATE
    else:
        headers["Cache-Control"] = IMMUTABLE
    headers["X-Content-Type-Options"] = "nosniff"


def register(app: Flask) -> None:
    """Versioned URLs for `url_for('static', …)`, and WhiteNoise in front of the application."""
    assert app.static_folder is not None
    root = Path(app.static_folder)
    versions = StaticVersions(root, watch=app.debug or bool(app.config.get("TEMPLATES_AUTO_RELOAD")))

    @app.url_defaults
    def add_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values:
            version = versions.of(values.get("filename", ""))
            if version:
                values["v"] = version

    app.wsgi_app = StaticFiles(app.wsgi_app, root, versions)  # type: ignore[method-assign]
    app.cli.add_command(static)


@click.group(help="Fichiers statiques (static/).")
def static() -> None:
    pass


@static.command(
    "compress",
    help="Écrire à côté de chaque fichier statique qui s'y prête sa copie compressée (.gz, et .br si le paquet "
    "Brotli est installé), que les serveurs envoient aux navigateurs qui l'acceptent. Les copies à jour sont "
    "gardées ; à lancer après chaque installation ou mise à jour.",
)
@with_appcontext
def compress() -> None:
    from flask import current_app
    from whitenoise.compress import Compressor  # type: ignore[import-untyped]

    root = Path(current_app.static_folder or "")
    compressor = Compressor(quiet=True)
    written = kept = no_gain = 0
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix in (".gz", ".br") or not compressor.should_compress(path.name):
            continue
        copies = [Path(f"{path}.gz")] + ([Path(f"{path}.br")] if compressor.use_brotli else [])
        source_time = path.stat().st_mtime
        if all(copy.exists() and copy.stat().st_mtime >= source_time for copy in copies):
            kept += 1
            continue
        for copy in copies:
            copy.unlink(missing_ok=True)
        if compressor.compress(str(path)):
            written += 1
        else:
            no_gain += 1
    click.echo(f"{written} fichier(s) compressé(s), {kept} déjà à jour, {no_gain} sans gain à la compression.")
