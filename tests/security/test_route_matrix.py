"""Every rule of the URL map answers each role as this table says (DESIGN.md §3: a restricted thread and an
internal note never leak; only producers of the thread's service and curators act on it; only curators write
reports). The table is checked against `app.url_map` both ways: a new route without its line fails, and so
does a line whose route is gone.

Each rule is requested once per role, with no form data, on objects built for that request alone
(`routes.fill`): a thread id is a restricted data request of another user to the Loiret (so `user` and
`other_producer` must not learn it exists), a message id is the internal note of the Loiret's member, a
report slug is a draft. Statuses: "login" is a redirect to the log-in page; 200 on a POST is the form shown
again with its errors (nothing done); 308 the English addresses of the first versions, sent on.
"""

from __future__ import annotations

import pytest

from feedback.accounts.models import UserSession
from feedback.extensions import db

from .. import factories
from .routes import ROLES, Route, fill, routes, user_of

L = "login"
ALL_308 = (308, 308, 308, 308, 308)

# "METHOD rule": (anonymous, user, other_producer, member, curator)
EXPECTED: dict[str, tuple] = {
    "GET /": (200, 200, 200, 200, 200),
    "GET /accessibilite": (200, 200, 200, 200, 200),
    # The JSON API (feedback/api): 401 asks for a token or a session; a POST of a form (no JSON body) that passes
    # the permission checks is refused as 415; a restricted thread is 404 to whoever may not see it.
    # The udata-compatible reading shows public threads only, to everyone alike: the restricted thread to no one.
    "GET /api/1/discussions/": (200, 200, 200, 200, 200),
    "GET /api/1/discussions/<discussion_id>/": (404, 404, 404, 404, 404),
    "GET /api/v1/datasets/<path:identifier>": (200, 200, 200, 200, 200),
    "GET /api/v1/datasets/<path:identifier>/threads": (200, 200, 200, 200, 200),
    "GET /api/v1/docs": (200, 200, 200, 200, 200),
    "GET /api/v1/exports/messages.csv": (200, 200, 200, 200, 200),
    "GET /api/v1/exports/threads.csv": (200, 200, 200, 200, 200),
    "GET /api/v1/notifications": (401, 200, 200, 200, 200),
    "GET /api/v1/openapi.json": (200, 200, 200, 200, 200),
    "GET /api/v1/organisations/<slug>": (200, 200, 200, 200, 200),
    "GET /api/v1/organisations/<slug>/indicators": (200, 200, 200, 200, 200),
    "GET /api/v1/reports": (200, 200, 200, 200, 200),
    "GET /api/v1/reports/<slug>": (404, 404, 404, 404, 404),
    "GET /api/v1/threads": (200, 200, 200, 200, 200),
    "POST /api/v1/threads": (401, 422, 422, 422, 422),
    "GET /api/v1/threads/<int:thread_id>": (404, 404, 404, 200, 200),
    "POST /api/v1/threads/<int:thread_id>/assignment": (401, 404, 404, 415, 415),
    "POST /api/v1/threads/<int:thread_id>/details-request": (401, 404, 404, 415, 415),
    "POST /api/v1/threads/<int:thread_id>/extension": (401, 404, 404, 415, 415),
    "GET /api/v1/threads/<int:thread_id>/files/<int:attachment_id>": (404, 404, 404, 200, 200),
    "POST /api/v1/threads/<int:thread_id>/follow": (401, 404, 404, 200, 200),
    "POST /api/v1/threads/<int:thread_id>/messages": (401, 404, 404, 415, 415),
    "POST /api/v1/threads/<int:thread_id>/reclassification": (401, 404, 404, 415, 415),
    "POST /api/v1/threads/<int:thread_id>/reopening": (401, 404, 404, 403, 403),
    "POST /api/v1/threads/<int:thread_id>/routing": (401, 404, 404, 403, 415),
    "POST /api/v1/threads/<int:thread_id>/status": (401, 404, 404, 415, 415),
    "POST /api/v1/threads/<int:thread_id>/transfer": (401, 404, 404, 415, 415),
    "POST /api/v1/threads/<int:thread_id>/vote": (401, 404, 404, 403, 200),
    "POST /api/v1/threads/<int:thread_id>/withdrawal": (401, 404, 404, 403, 415),
    "GET /boite-de-reception": (L, 200, 200, 200, 200),
    "GET /capitalisation": (200, 200, 200, 200, 200),
    'GET /capitalisation/<any(services, qualite, demande, "demandes-similaires"):table>': (200, 200, 200, 200, 200),
    "GET /compte": (L, 200, 200, 200, 200),
    "POST /compte/adresse": (L, 200, 200, 200, 200),
    "GET /compte/adresse/<token>": (L, 303, 303, 303, 303),
    "POST /compte/confirmation": (L, 303, 303, 303, 303),
    "POST /compte/jetons": (L, 303, 303, 303, 303),
    "POST /compte/jetons/<int:token_id>/revocation": (L, 303, 303, 303, 303),
    "GET /compte/confirmer/<token>": (L, 303, 303, 303, 303),
    "POST /compte/deconnexion-partout": (L, 303, 303, 303, 303),
    "GET /compte/mes-donnees": (L, 200, 200, 200, 200),
    "GET /compte/mes-donnees.json": (L, 200, 200, 200, 200),
    "POST /compte/mot-de-passe": (L, 200, 200, 200, 200),
    "POST /compte/profil": (L, 200, 200, 200, 200),
    "POST /compte/sessions/<int:session_id>/fin": (L, 303, 303, 303, 303),
    "GET /compte/supprimer": (L, 200, 200, 200, 200),
    "POST /compte/supprimer": (L, 200, 200, 200, 200),
    "GET /connexion": (200, 302, 302, 302, 302),
    "POST /connexion": (200, 302, 302, 302, 302),
    "POST /deconnexion": (303, 303, 303, 303, 303),
    "GET /donnees-personnelles": (200, 200, 200, 200, 200),
    "GET /fils": (200, 200, 200, 200, 200),
    "GET /fils/<int:thread_id>": (404, 404, 404, 200, 200),
    "POST /fils/<int:thread_id>/assignation": (401, 404, 404, 303, 303),
    "GET /fils/<int:thread_id>/fichiers/<int:attachment_id>": (404, 404, 404, 200, 200),
    "GET /fils/<int:thread_id>/fichiers/<int:attachment_id>/<name>": (404, 404, 404, 200, 200),
    "GET /fils/<int:thread_id>/flux.atom": (404, 404, 404, 404, 404),
    "POST /fils/<int:thread_id>/messages": (401, 404, 404, 200, 200),
    "GET /fils/<int:thread_id>/messages/<int:message_id>/modifier": (L, 404, 404, 200, 403),
    "POST /fils/<int:thread_id>/messages/<int:message_id>/modifier": (L, 404, 404, 303, 403),
    "POST /fils/<int:thread_id>/precisions": (401, 404, 404, 200, 200),
    "POST /fils/<int:thread_id>/prolongation": (401, 404, 404, 200, 200),
    "POST /fils/<int:thread_id>/reclassement": (401, 404, 404, 200, 200),
    "POST /fils/<int:thread_id>/reouverture": (401, 404, 404, 403, 403),
    "POST /fils/<int:thread_id>/retrait": (401, 404, 404, 403, 200),
    "POST /fils/<int:thread_id>/soutien": (401, 404, 404, 403, 303),
    "POST /fils/<int:thread_id>/statut": (401, 404, 404, 200, 200),
    "POST /fils/<int:thread_id>/suivi": (401, 404, 404, 303, 303),
    "POST /fils/<int:thread_id>/transfert": (401, 404, 404, 200, 200),
    "POST /fils/apercu": (200, 200, 200, 200, 200),
    "GET /fils/flux.atom": (200, 200, 200, 200, 200),
    "GET /fils/nouveau": (200, 200, 200, 200, 200),
    "POST /fils/nouveau": (L, 400, 400, 400, 400),
    "GET /fils/similaires": (200, 200, 200, 200, 200),
    "GET /healthz": (200, 200, 200, 200, 200),
    "GET /inscription": (200, 302, 302, 302, 302),
    "POST /inscription": (200, 302, 302, 302, 302),
    "GET /inscription/envoyee": (200, 200, 200, 200, 200),
    "GET /badge/datasets/<path:identifier>.svg": (200, 200, 200, 200, 200),
    "GET /embed/datasets/<path:identifier>": (200, 200, 200, 200, 200),
    "GET /exports/messages.csv": (200, 200, 200, 200, 200),
    "GET /exports/threads.csv": (200, 200, 200, 200, 200),
    "GET /jeux-de-donnees": (200, 200, 200, 200, 200),
    "GET /jeux-de-donnees/<identifier>": (200, 200, 200, 200, 200),
    "GET /jeux-de-donnees/<identifier>/flux.atom": (200, 200, 200, 200, 200),
    "POST /jeux-de-donnees/<identifier>/suivi": (L, 303, 303, 303, 303),
    "GET /jeux-de-donnees/suggestions": (200, 200, 200, 200, 200),
    "GET /mentions-legales": (200, 200, 200, 200, 200),
    "GET /mes-fils": (L, 200, 200, 200, 200),
    "GET /mot-de-passe/nouveau/<token>": (200, 200, 200, 200, 200),
    "POST /mot-de-passe/nouveau/<token>": (200, 200, 200, 200, 200),
    "GET /mot-de-passe/oubli": (200, 200, 200, 200, 200),
    "POST /mot-de-passe/oubli": (200, 200, 200, 200, 200),
    "GET /mot-de-passe/oubli/envoye": (200, 200, 200, 200, 200),
    "GET /notifications": (L, 200, 200, 200, 200),
    # Moderation: the report forms follow the thread's visibility; the queue and its actions are the curators'.
    "GET /fils/<int:thread_id>/signaler": (L, 404, 404, 200, 200),
    "POST /fils/<int:thread_id>/signaler": (L, 404, 404, 200, 200),
    "GET /fils/<int:thread_id>/messages/<int:message_id>/signaler": (L, 404, 404, 200, 200),
    "POST /fils/<int:thread_id>/messages/<int:message_id>/signaler": (L, 404, 404, 200, 200),
    "GET /moderation": (L, 403, 403, 403, 200),
    "POST /moderation/fils/<int:thread_id>/masquer": (L, 403, 403, 403, 303),
    "POST /moderation/fils/<int:thread_id>/retablir": (L, 403, 403, 403, 303),
    "POST /moderation/fils/<int:thread_id>/classer": (L, 403, 403, 403, 303),
    "POST /moderation/fils/<int:thread_id>/messages/<int:message_id>/masquer": (L, 403, 403, 403, 303),
    "POST /moderation/fils/<int:thread_id>/messages/<int:message_id>/retablir": (L, 403, 403, 403, 303),
    "POST /moderation/fils/<int:thread_id>/messages/<int:message_id>/classer": (L, 403, 403, 403, 303),
    "POST /moderation/comptes/<int:user_id>/suspendre": (L, 403, 403, 403, 303),
    "POST /moderation/comptes/<int:user_id>/reactiver": (L, 403, 403, 403, 303),
    "POST /moderation/fils/<int:thread_id>/publier": (L, 403, 403, 403, 303),
    "POST /moderation/fils/<int:thread_id>/refuser": (L, 403, 403, 403, 303),
    "POST /moderation/fils/<int:thread_id>/messages/<int:message_id>/publier": (L, 403, 403, 403, 303),
    "POST /moderation/fils/<int:thread_id>/messages/<int:message_id>/refuser": (L, 403, 403, 403, 303),
    "POST /notifications/<int:notification_id>/lue": (L, 404, 404, 303, 404),
    "GET /notifications/desabonnement/<token>": (200, 200, 200, 200, 200),
    "POST /notifications/desabonnement/<token>": (200, 200, 200, 200, 200),
    "GET /notifications/preferences": (L, 200, 200, 200, 200),
    "POST /notifications/preferences": (L, 303, 303, 303, 303),
    "POST /notifications/tout-lu": (L, 303, 303, 303, 303),
    "GET /organisations": (200, 200, 200, 200, 200),
    "GET /organisations/<slug>": (200, 200, 200, 200, 200),
    "GET /organisations/<slug>/flux.atom": (200, 200, 200, 200, 200),
    "GET /organisations/<slug>/siret": (L, 403, 403, 403, 200),
    "POST /organisations/<slug>/siret": (L, 403, 403, 403, 303),
    "POST /organisations/<slug>/demandes-de-rattachement/<int:request_id>/<any(acceptation, refus):decision>": (
        L,
        403,
        403,
        403,
        303,
    ),
    "POST /organisations/<slug>/membres": (L, 403, 403, 403, 200),
    "POST /organisations/<slug>/membres/<int:membership_id>/retrait": (L, 403, 403, 403, 303),
    "POST /organisations/<slug>/suivi": (L, 303, 303, 303, 303),
    # ProConnect is not configured here: its addresses answer 404 (tests/auth signs in with a real provider).
    "GET /proconnect/connexion": (404, 404, 404, 404, 404),
    "GET /proconnect/deconnectee": (404, 404, 404, 404, 404),
    "GET /proconnect/deconnexion": (404, 404, 404, 404, 404),
    "GET /proconnect/rejoindre": (L, 404, 404, 404, 404),
    "POST /proconnect/rejoindre": (L, 404, 404, 404, 404),
    "GET /proconnect/retour": (404, 404, 404, 404, 404),
    "GET /rapports": (200, 200, 200, 200, 200),
    "GET /rapports/<slug>": (404, 404, 404, 404, 200),
    "GET /rapports/<slug>.csv.zip": (404, 404, 404, 404, 200),
    "GET /rapports/<slug>.json": (404, 404, 404, 404, 200),
    "GET /rapports/<slug>.md": (404, 404, 404, 404, 200),
    "GET /rapports/<slug>.pdf": (404, 404, 404, 404, 200),
    "GET /rapports/<slug>/impression": (404, 404, 404, 404, 200),
    "POST /rapports/<slug>/publication": (401, 403, 403, 403, 303),
    "POST /rapports/<slug>/recommandations": (401, 403, 403, 403, 200),
    "POST /rapports/<slug>/recommandations/<int:recommendation_id>": (401, 403, 403, 403, 200),
    "POST /rapports/<slug>/recommandations/<int:recommendation_id>/deplacement": (401, 403, 403, 403, 400),
    "POST /rapports/<slug>/recommandations/<int:recommendation_id>/suppression": (401, 403, 403, 403, 303),
    "POST /rapports/<slug>/regeneration": (401, 403, 403, 403, 303),
    "GET /rapports/nouveau": (L, 403, 403, 403, 200),
    "POST /rapports/nouveau": (L, 403, 403, 403, 200),
    "POST /rapports/nouveau/restitution": (L, 403, 403, 403, 303),
    "GET /static/<path:filename>": (200, 200, 200, 200, 200),
    "GET /triage": (L, 403, 403, 403, 200),
    "POST /triage": (L, 403, 403, 403, 200),
    # The English addresses of the first versions, sent on to their French ones (legacy_urls.py).
    "GET /datasets": ALL_308,
    "POST /datasets": ALL_308,
    "GET /datasets/<identifier>": ALL_308,
    "POST /datasets/<identifier>": ALL_308,
    "GET /datasets/<identifier>/feed.atom": ALL_308,
    "POST /datasets/<identifier>/feed.atom": ALL_308,
    "GET /datasets/<identifier>/follow": ALL_308,
    "POST /datasets/<identifier>/follow": ALL_308,
    "GET /datasets/autocomplete": ALL_308,
    "POST /datasets/autocomplete": ALL_308,
    "GET /inbox": ALL_308,
    "POST /inbox": ALL_308,
    "GET /notifications/<int:notification_id>/read": ALL_308,
    "POST /notifications/<int:notification_id>/read": ALL_308,
    "GET /notifications/read-all": ALL_308,
    "POST /notifications/read-all": ALL_308,
    "GET /organisations/<slug>/feed.atom": ALL_308,
    "POST /organisations/<slug>/feed.atom": ALL_308,
    "GET /organisations/<slug>/follow": ALL_308,
    "POST /organisations/<slug>/follow": ALL_308,
    "GET /reports": ALL_308,
    "POST /reports": ALL_308,
    "GET /reports/<slug>": ALL_308,
    "POST /reports/<slug>": ALL_308,
    "GET /reports/<slug>.csv.zip": ALL_308,
    "POST /reports/<slug>.csv.zip": ALL_308,
    "GET /reports/<slug>.json": ALL_308,
    "POST /reports/<slug>.json": ALL_308,
    "GET /reports/<slug>.md": ALL_308,
    "POST /reports/<slug>.md": ALL_308,
    "GET /reports/<slug>/impression": ALL_308,
    "POST /reports/<slug>/impression": ALL_308,
    "GET /reports/<slug>/publish": ALL_308,
    "POST /reports/<slug>/publish": ALL_308,
    "GET /reports/<slug>/recommendations": ALL_308,
    "POST /reports/<slug>/recommendations": ALL_308,
    "GET /reports/<slug>/recommendations/<int:recommendation_id>": ALL_308,
    "POST /reports/<slug>/recommendations/<int:recommendation_id>": ALL_308,
    "GET /reports/<slug>/recommendations/<int:recommendation_id>/delete": ALL_308,
    "POST /reports/<slug>/recommendations/<int:recommendation_id>/delete": ALL_308,
    "GET /reports/<slug>/recommendations/<int:recommendation_id>/move": ALL_308,
    "POST /reports/<slug>/recommendations/<int:recommendation_id>/move": ALL_308,
    "GET /reports/<slug>/regenerate": ALL_308,
    "POST /reports/<slug>/regenerate": ALL_308,
    "GET /reports/new": ALL_308,
    "POST /reports/new": ALL_308,
    "GET /reports/new/restitution": ALL_308,
    "POST /reports/new/restitution": ALL_308,
    "GET /threads": ALL_308,
    "POST /threads": ALL_308,
    "GET /threads/<int:thread_id>": ALL_308,
    "POST /threads/<int:thread_id>": ALL_308,
    "GET /threads/<int:thread_id>/assign": ALL_308,
    "POST /threads/<int:thread_id>/assign": ALL_308,
    "GET /threads/<int:thread_id>/details": ALL_308,
    "POST /threads/<int:thread_id>/details": ALL_308,
    "GET /threads/<int:thread_id>/extend": ALL_308,
    "POST /threads/<int:thread_id>/extend": ALL_308,
    "GET /threads/<int:thread_id>/feed.atom": ALL_308,
    "POST /threads/<int:thread_id>/feed.atom": ALL_308,
    "GET /threads/<int:thread_id>/follow": ALL_308,
    "POST /threads/<int:thread_id>/follow": ALL_308,
    "GET /threads/<int:thread_id>/messages": ALL_308,
    "POST /threads/<int:thread_id>/messages": ALL_308,
    "GET /threads/<int:thread_id>/messages/<int:message_id>/edit": ALL_308,
    "POST /threads/<int:thread_id>/messages/<int:message_id>/edit": ALL_308,
    "GET /threads/<int:thread_id>/reclassify": ALL_308,
    "POST /threads/<int:thread_id>/reclassify": ALL_308,
    "GET /threads/<int:thread_id>/reopen": ALL_308,
    "POST /threads/<int:thread_id>/reopen": ALL_308,
    "GET /threads/<int:thread_id>/status": ALL_308,
    "POST /threads/<int:thread_id>/status": ALL_308,
    "GET /threads/<int:thread_id>/transfer": ALL_308,
    "POST /threads/<int:thread_id>/transfer": ALL_308,
    "GET /threads/<int:thread_id>/vote": ALL_308,
    "POST /threads/<int:thread_id>/vote": ALL_308,
    "GET /threads/<int:thread_id>/withdraw": ALL_308,
    "POST /threads/<int:thread_id>/withdraw": ALL_308,
    "GET /threads/feed.atom": ALL_308,
    "POST /threads/feed.atom": ALL_308,
    "GET /threads/new": ALL_308,
    "POST /threads/new": ALL_308,
    "GET /threads/preview": ALL_308,
    "POST /threads/preview": ALL_308,
    "GET /threads/similar": ALL_308,
    "POST /threads/similar": ALL_308,
}


def observed_status(response) -> int | str:
    if response.status_code in (301, 302, 303) and response.headers["Location"].startswith("/connexion"):
        return L
    return response.status_code


def answer(app, scene, route: Route, role: str):
    client = app.test_client()
    user = user_of(scene, role)
    with app.app_context():
        if user is not None:
            signed_in = client.post("/connexion", data={"email": user.email, "password": factories.PASSWORD})
            assert signed_in.status_code == 303
        url = fill(route, scene)
        return client.open(url, method=route.method, data=scene.form_data if route.method != "GET" else None)


def test_every_rule_of_the_url_map_has_its_line_in_the_table(app):
    keys = {route.key for route in routes(app)}

    assert sorted(keys - EXPECTED.keys()) == [], "routes without a line in EXPECTED"
    assert sorted(EXPECTED.keys() - keys) == [], "lines of EXPECTED whose route is gone"


@pytest.mark.parametrize("key", sorted(key for key, answers in EXPECTED.items() if answers != ALL_308))
def test_each_role_gets_the_answer_of_the_table(app, routed_scene, key):
    route = next(route for route in routes(app) if route.key == key)

    observed = tuple(observed_status(answer(app, routed_scene, route, role)) for role in ROLES)

    assert dict(zip(ROLES, observed, strict=True)) == dict(zip(ROLES, EXPECTED[key], strict=True))


def test_the_english_addresses_send_every_role_on_as_the_table_says(app, routed_scene):
    observed = {
        route.key: tuple(observed_status(answer(app, routed_scene, route, role)) for role in ROLES)
        for route in routes(app)
        if EXPECTED.get(route.key) == ALL_308
    }

    assert len(observed) == sum(answers == ALL_308 for answers in EXPECTED.values())
    assert {key: answers for key, answers in observed.items() if answers != ALL_308} == {}


@pytest.mark.parametrize("role", ["user", "other_producer", "curator"])
def test_nobody_ends_the_browser_session_of_someone_else(app, routed_scene, role):
    route = Route("POST", "/compte/sessions/<int:session_id>/fin", "accounts.end_session")

    response = answer(app, routed_scene, route, role)

    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(UserSession, routed_scene.member_session_id).ended_at is None
