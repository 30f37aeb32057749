"""The English addresses of the first versions, sent on to their French ones.

Links in mails already sent, notifications already written, bookmarks and feed readers keep working: each old
address answers a permanent redirect (308, which keeps the method and the body of a form) to the new one,
query string included. The new-thread page also took `kind` and `dataset`, now `type` and `jeu`.
"""

from __future__ import annotations

import re

from flask import Flask, redirect, request, url_for

# (old rule, new rule): the converters of the old rule are those of the new one, same names.
MOVED = [
    ("/threads", "/fils"),
    ("/threads/preview", "/fils/apercu"),
    ("/threads/similar", "/fils/similaires"),
    ("/threads/feed.atom", "/fils/flux.atom"),
    ("/threads/<int:thread_id>", "/fils/<thread_id>"),
    ("/threads/<int:thread_id>/feed.atom", "/fils/<thread_id>/flux.atom"),
    ("/threads/<int:thread_id>/messages", "/fils/<thread_id>/messages"),
    ("/threads/<int:thread_id>/messages/<int:message_id>/edit", "/fils/<thread_id>/messages/<message_id>/modifier"),
    ("/threads/<int:thread_id>/status", "/fils/<thread_id>/statut"),
    ("/threads/<int:thread_id>/details", "/fils/<thread_id>/precisions"),
    ("/threads/<int:thread_id>/transfer", "/fils/<thread_id>/transfert"),
    ("/threads/<int:thread_id>/extend", "/fils/<thread_id>/prolongation"),
    ("/threads/<int:thread_id>/assign", "/fils/<thread_id>/assignation"),
    ("/threads/<int:thread_id>/reclassify", "/fils/<thread_id>/reclassement"),
    ("/threads/<int:thread_id>/vote", "/fils/<thread_id>/soutien"),
    ("/threads/<int:thread_id>/follow", "/fils/<thread_id>/suivi"),
    ("/threads/<int:thread_id>/withdraw", "/fils/<thread_id>/retrait"),
    ("/threads/<int:thread_id>/reopen", "/fils/<thread_id>/reouverture"),
    ("/inbox", "/boite-de-reception"),
    ("/datasets", "/jeux-de-donnees"),
    ("/datasets/autocomplete", "/jeux-de-donnees/suggestions"),
    ("/datasets/<identifier>", "/jeux-de-donnees/<identifier>"),
    ("/datasets/<identifier>/feed.atom", "/jeux-de-donnees/<identifier>/flux.atom"),
    ("/datasets/<identifier>/follow", "/jeux-de-donnees/<identifier>/suivi"),
    ("/organisations/<slug>/feed.atom", "/organisations/<slug>/flux.atom"),
    ("/organisations/<slug>/follow", "/organisations/<slug>/suivi"),
    ("/notifications/<int:notification_id>/read", "/notifications/<notification_id>/lue"),
    ("/notifications/read-all", "/notifications/tout-lu"),
    ("/reports", "/rapports"),
    ("/reports/new", "/rapports/nouveau"),
    ("/reports/new/restitution", "/rapports/nouveau/restitution"),
    ("/reports/<slug>", "/rapports/<slug>"),
    ("/reports/<slug>.json", "/rapports/<slug>.json"),
    ("/reports/<slug>.md", "/rapports/<slug>.md"),
    ("/reports/<slug>.csv.zip", "/rapports/<slug>.csv.zip"),
    ("/reports/<slug>/impression", "/rapports/<slug>/impression"),
    ("/reports/<slug>/publish", "/rapports/<slug>/publication"),
    ("/reports/<slug>/regenerate", "/rapports/<slug>/regeneration"),
    ("/reports/<slug>/recommendations", "/rapports/<slug>/recommandations"),
    ("/reports/<slug>/recommendations/<int:recommendation_id>", "/rapports/<slug>/recommandations/<recommendation_id>"),
    (
        "/reports/<slug>/recommendations/<int:recommendation_id>/delete",
        "/rapports/<slug>/recommandations/<recommendation_id>/suppression",
    ),
    (
        "/reports/<slug>/recommendations/<int:recommendation_id>/move",
        "/rapports/<slug>/recommandations/<recommendation_id>/deplacement",
    ),
]

# The query arguments of the new-thread page, renamed.
RENAMED_ARGUMENTS = {"kind": "type", "dataset": "jeu"}


def _new_thread():
    """/threads/new?kind=…&dataset=… → /fils/nouveau?type=…&jeu=… (a form posted there goes on too)."""
    args = {RENAMED_ARGUMENTS.get(key, key): value for key, value in request.args.items()}
    return redirect(url_for("threads.new_thread_choice", **args), code=308)


def _moved_to(new: str):
    def moved(**values):
        path = re.sub(r"<(\w+)>", lambda found: str(values[found.group(1)]), new)
        query = request.query_string.decode("utf-8", "replace")
        return redirect(path + ("?" + query if query else ""), code=308)

    return moved


def register(app: Flask) -> None:
    for number, (old, new) in enumerate(MOVED):
        app.add_url_rule(old, f"legacy_{number}", _moved_to(new), methods=["GET", "POST"])
    app.add_url_rule("/threads/new", "legacy_new_thread", _new_thread, methods=["GET", "POST"])
