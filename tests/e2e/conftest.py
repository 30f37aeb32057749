"""Browser tests: Debian's Chromium, driven by Playwright, against the application served on 127.0.0.1.

The server runs in a thread of the test process and serves the session `app` of `tests/conftest.py`, so
the browser and the test share one database. Each test creates its rows with `tests/factories.py`
(which commit) *before* it browses; the `db` fixture empties the tables after the test.

Playwright never downloads a browser here: it launches `/usr/bin/chromium` (Debian package `chromium`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from tests import factories

CHROMIUM = Path("/usr/bin/chromium")
# As root, in a sandbox without network: no Chromium sandbox, no GPU, and none of Chromium's own
# background connections (they are refused here, and slow every start).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
E2E_DIR = Path(__file__).resolve().parent
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config, items):
    # This hook sees every collected item of the run, not only this folder's.
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Chromium introuvable : installez le paquet Debian chromium (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class _QuietRequestHandler(WSGIRequestHandler):
    """No line per request (a page brings a dozen static files); errors are still logged."""

    def log_request(self, code="-", size="-"):
        pass


@pytest.fixture(scope="session")
def _server_url(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def live_server(_server_url, db) -> str:
    """The base URL of the running application; the test's rows are emptied after it (via `db`)."""
    return _server_url


@pytest.fixture
def new_page(browser, live_server):
    """`new_page(**context_options)`: a page in a fresh context (own cookies), closed after the test."""
    contexts = []

    def open_page(**options):
        context = browser.new_context(base_url=live_server, locale="fr-FR", **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    # Closed before `db` empties the tables, so that no request of the page is still being served.
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A page in a fresh browser context; relative URLs (`page.goto("/jeux-de-donnees")`) go to the live server."""
    return new_page()


def log_in(page, email: str, password: str = factories.PASSWORD) -> None:
    """Sign in through the log-in form, as a person would."""
    from playwright.sync_api import expect

    page.goto("/connexion")
    main = page.locator("main")
    main.get_by_label("Adresse électronique").fill(email)
    main.get_by_label("Mot de passe").fill(password)
    with page.expect_navigation():
        main.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("status")).to_contain_text("Vous êtes connecté·e")
