"""Zero execution, proved in Chromium: a sample of the pages that show the XSS corpus, opened with a hook that
records any call of `__xss()`, any dialog (`alert`, `confirm`, `prompt`) and any script the page's policy had
to block; every element is then sent the events that inline handlers of the corpus listen to. Here with the other
browser tests, which share one browser for the whole run (the corpus itself: tests/security)."""

from __future__ import annotations

import pytest

from ..security.conftest import hostile  # noqa: F401 — the pages that show the corpus
from ..threads.conftest import scene  # noqa: F401
from .conftest import log_in

pytestmark = pytest.mark.e2e

HOOK = """
window.__xssCalls = [];
window.__xss = function () { window.__xssCalls.push(location.href); };
window.__blocked = [];
document.addEventListener('securitypolicyviolation', function (event) {
  if (event.effectiveDirective.indexOf('script-src') === 0) {
    window.__blocked.push(event.effectiveDirective + ' ' + event.blockedURI + ' ' + (event.sample || ''));
  }
});
"""
EVENTS = """
() => {
  for (const element of document.querySelectorAll('body *')) {
    for (const type of ['mouseover', 'pointerenter', 'focus', 'load', 'error', 'toggle', 'animationstart']) {
      element.dispatchEvent(new Event(type));
    }
  }
}
"""


def test_no_payload_runs_in_the_browser(new_page, scene, hostile):  # noqa: F811
    page = new_page()
    page.add_init_script(HOOK)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, scene.curator.email)
    urls = ["/", "/fils", "/fils?q=script", "/jeux-de-donnees", "/organisations"]
    urls += [f"/fils/{thread.id}" for thread in hostile[::7]]
    urls += [f"/jeux-de-donnees/{hostile[4].dataset.catalogue_id}", f"/organisations/{hostile[10].organisation.slug}"]

    seen = {}
    for url in urls:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        page.evaluate(EVENTS)
        page.wait_for_timeout(50)
        seen[url] = (page.evaluate("window.__xssCalls"), page.evaluate("window.__blocked"))
        assert page.locator("h1").count() >= 1, url

    assert {url: found for url, found in seen.items() if found != ([], [])} == {}
    assert dialogs == []


def _serve(page, path: str, body: str, headers: dict | None = None) -> None:
    page.route(f"**{path}", lambda route: route.fulfill(content_type="text/html", body=body, headers=headers or {}))


def test_the_hook_sees_a_payload_that_runs_or_that_the_policy_blocks(new_page, live_server):
    """The check can fail: the corpus's image payload, in a page without the platform's escaping, calls the
    hook; under the platform's policy, the attempt is recorded as blocked."""
    page = new_page()
    page.add_init_script(HOOK)
    payload = "<!doctype html><title>t</title><img src=x onerror=__xss()>"
    _serve(page, "/sans-protection", payload)
    _serve(page, "/avec-politique", payload, {"Content-Security-Policy": "script-src 'self'"})

    page.goto("/sans-protection")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__xssCalls") == [f"{live_server}/sans-protection"]

    page.goto("/avec-politique")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__xssCalls") == []
    assert page.evaluate("window.__blocked") != []
