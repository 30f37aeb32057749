"""The embed of a dataset in Chromium: framed by a page of an origin of FEEDBACK_EMBED_ORIGINS it shows the open
threads and the buttons, which open the platform's prefilled form in a new tab; a page of any other origin
cannot frame it (the browser refuses, as the policy's `frame-ancestors` says).

The catalogue's page is served by a small HTTP server of its own on 127.0.0.1, reached under two origins:
`http://localhost:<port>` (allowed) and `http://127.0.0.1:<port>` (not allowed). A page served from the
loopback keeps Chromium's checks of public pages framing local addresses out of the way."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from ..threads.conftest import post_thread, scene  # noqa: F401

pytestmark = pytest.mark.e2e


@pytest.fixture
def catalogue_page(live_server) -> Iterator[tuple[ThreadingHTTPServer, dict]]:
    """A server answering every path with the page of `content["html"]` (a dataset's sheet framing the embed)."""
    content = {"html": ""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = content["html"].encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="e2e-catalogue-page", daemon=True)
    thread.start()
    yield server, content
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_an_allowed_origin_frames_the_embed_and_another_cannot(
    new_page, live_server, app, monkeypatch, scene, catalogue_page  # noqa: F811
):
    server, content = catalogue_page
    allowed, other = f"http://localhost:{server.server_port}", f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setitem(app.config, "FEEDBACK_EMBED_ORIGINS", allowed)
    post_thread(scene.author, title="Source des zones inondables", dataset=scene.dataset)
    content["html"] = (
        '<!doctype html><html lang="fr"><head><title>Fiche du jeu de données</title></head><body><h1>Fiche</h1>'
        f'<iframe id="retours" title="Retours sur ce jeu de données" width="600" height="420"'
        f' src="{live_server}/embed/datasets/{scene.dataset.catalogue_id}"></iframe></body></html>'
    )

    page = new_page()
    page.goto(f"{allowed}/jeux/zones-inondables")
    frame = page.frame_locator("#retours")
    expect(frame.get_by_role("heading", name="Retours sur ce jeu de données")).to_be_visible()
    expect(frame.get_by_role("link", name="Source des zones inondables")).to_be_visible()
    with page.expect_popup() as opened:
        frame.get_by_role("link", name="Demander des données").click()
    form = opened.value
    form.wait_for_load_state()
    assert form.url.startswith(live_server) and "data_request" in form.url  # the prefilled form (or its log-in)
    assert page.url == f"{allowed}/jeux/zones-inondables"  # the catalogue's page stays where it was

    refused = new_page()
    violations: list[str] = []
    refused.on("console", lambda message: violations.append(message.text))
    refused.goto(f"{other}/jeux/zones-inondables")
    expect(refused.get_by_role("heading", name="Fiche")).to_be_visible()
    refused.wait_for_function("() => document.querySelector('#retours') !== null")
    expect(refused.frame_locator("#retours").get_by_role("link", name="Demander des données")).to_have_count(0)
    assert not refused.frames[1].url.startswith(live_server)
    assert any("frame-ancestors" in text for text in violations), violations
