"""Addresses speak French, as the interface does; the English addresses of the first versions (in mails already
sent, notifications, bookmarks, feed readers) are sent on to the French ones."""

from __future__ import annotations

import re

import pytest
from werkzeug.exceptions import MethodNotAllowed

from feedback.legacy_urls import MOVED

# Words of the first, English addresses: no route of the application may use one any more.
ENGLISH = {
    "threads", "datasets", "reports", "inbox", "new", "preview", "similar", "feed.atom", "status", "details",
    "transfer", "extend", "assign", "reclassify", "vote", "follow", "withdraw", "reopen", "edit", "autocomplete",
    "read", "read-all", "publish", "recommendations", "delete", "move", "regenerate",
}  # fmt: skip


def test_no_route_speaks_english(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("legacy") or rule.endpoint == "static":
            continue
        if rule.rule.startswith(("/api/", "/embed/", "/badge/")):
            continue  # read by programs and other sites: in English, as data.gouv.fr's and udata's addresses are
        segments = {segment for segment in re.split(r"[/]", rule.rule) if segment and not segment.startswith("<")}
        assert not segments & ENGLISH, rule.rule


@pytest.mark.parametrize(("old", "new"), MOVED)
def test_every_old_address_leads_to_a_route(app, client, old, new):
    path = re.sub(r"<(?:int:)?(\w+)>", lambda m: "12" if "int:" in m.group(0) else "loiret", old)

    response = client.get(path + "?page=2")

    assert response.status_code == 308
    target = response.headers["Location"]
    assert target == re.sub(r"<(\w+)>", lambda m: "12" if m.group(1).endswith("_id") else "loiret", new) + "?page=2"
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(target.split("?")[0], method="GET")
    except MethodNotAllowed:
        endpoint, _ = adapter.match(target.split("?")[0], method="POST")
    assert not endpoint.startswith("legacy")


def test_an_old_link_keeps_its_query_and_an_old_form_its_method(client):
    listed = client.get("/threads?statut=new&page=2")
    posted = client.post("/threads/12/status", data={"status": "resolved"})

    assert listed.status_code == 308
    assert listed.headers["Location"].endswith("/fils?statut=new&page=2")
    assert posted.status_code == 308  # the browser posts the same form again to the new address
    assert posted.headers["Location"].endswith("/fils/12/statut")


def test_the_old_new_thread_address_renames_its_arguments(client):
    response = client.get("/threads/new?kind=quality_issue&dataset=abc000000000000000000aef")

    assert response.status_code == 308
    assert response.headers["Location"] == "/fils/nouveau?type=quality_issue&jeu=abc000000000000000000aef"


def test_following_an_old_address_shows_the_page(client):
    response = client.get("/datasets", follow_redirects=True)

    assert response.status_code == 200
    assert response.request.path == "/jeux-de-donnees"
