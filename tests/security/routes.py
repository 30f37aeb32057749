"""Every rule of the URL map, filled with real ids: the rows the route × role table and the CSRF test walk.

For each test a scene is built (tests/threads/conftest.py): the Loiret DDT (`producer`) and its member, the
Nièvre DDT (`other_producer`) and its member, a user, the author of the threads, a curator. Each rule is filled
with objects built for it alone, so that one request's changes (a thread withdrawn, a report published) never
change another's answer: a restricted data request of the author to the Loiret, with an internal note of its
member, a file on its first message, a draft report and its recommendation, and tokens of the user.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask
from werkzeug.datastructures import FileStorage

from feedback.accounts import tokens
from feedback.accounts.models import Membership, Organisation
from feedback.api import tokens as api_tokens
from feedback.auth.models import JoinRequest
from feedback.capitalisation import services as reports
from feedback.capitalisation.scope import Scope
from feedback.extensions import db
from feedback.notifications.models import Notification
from feedback.notifications.unsubscribe import ALL_TOPICS, unsubscribe_token
from feedback.threads import services
from feedback.threads.attachments import check_uploads
from feedback.threads.models import Attachment, ThreadKind

from .. import factories
from ..threads.conftest import post_thread

ROLES = ("anonymous", "user", "other_producer", "member", "curator")
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Route:
    method: str
    rule: str
    endpoint: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.rule}"


def routes(app: Flask) -> list[Route]:
    """Every (method, rule) of the URL map, HEAD and OPTIONS aside."""
    found = {
        Route(method, rule.rule, rule.endpoint)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in IGNORED_METHODS
    }
    return sorted(found, key=lambda route: (route.rule, route.method))


def user_of(scene, role: str):
    return {
        "anonymous": None,
        "user": scene.other_user,
        "other_producer": scene.other_member,
        "member": scene.member,
        "curator": scene.curator,
    }[role]


_PLACEHOLDER = re.compile(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>")


def fill(route: Route, scene) -> str:
    """The rule's URL with real ids, built for this request alone; `scene.form_data` is then what the page's
    forms would send along whatever the person fills in (the thread's version)."""
    values: dict[str, str] = {}
    names = _PLACEHOLDER.findall(route.rule)
    scene.form_data = {}
    if {"thread_id", "message_id", "attachment_id", "notification_id", "discussion_id"} & set(names):
        thread = post_thread(
            scene.author,
            ThreadKind.DATA_REQUEST,
            title="Captages prioritaires du Loiret",
            dataset=scene.dataset,
            restricted=True,
        )
        upload = FileStorage(io.BytesIO(b"commune;captages\n45234;3\n"), filename="captages.csv")
        message = services.post_message(thread, scene.member, "Note pour le service.", internal=True)
        services.post_message(thread, scene.author, "Le tableau joint.", files=check_uploads([upload]))
        db.session.commit()
        values["thread_id"] = str(thread.id)
        values["discussion_id"] = str(thread.id)  # the udata-compatible API names a thread by its number
        scene.form_data = {"version": str(thread.version)}  # what every form of the thread's page carries
        values["message_id"] = str(message.id)
        values["attachment_id"] = str(
            db.session.scalars(sa.select(Attachment.id).where(Attachment.thread_id == thread.id)).one()
        )
        values["name"] = "captages.csv"
        notification = db.session.scalars(
            sa.select(Notification).where(Notification.recipient_id == scene.member.id).order_by(Notification.id.desc())
        ).first()
        values["notification_id"] = str(notification.id)
    if "slug" in names:
        if route.rule.startswith(("/rapports", "/reports")):
            report = reports.create_report(scene.curator, "Bilan du trimestre", Scope())
            recommendation = reports.add_recommendation(report, title="Publier les captages", text="Au format CSV.")
            db.session.commit()
            values["slug"] = report.slug
            values["recommendation_id"] = str(recommendation.id)
        else:
            values["slug"] = scene.producer.slug
    if "membership_id" in names:  # a colleague of the member, whom the request may remove
        producer = db.session.get(Organisation, scene.producer.id)  # in the session of the current context
        colleague = factories.create_user(name="Collègue du service", organisation=producer)
        membership = db.session.scalars(sa.select(Membership).where(Membership.user_id == colleague.id)).one()
        values["membership_id"] = str(membership.id)
    if "request_id" in names:  # an agent's request to join the member's service, which the request may decide
        producer = db.session.get(Organisation, scene.producer.id)
        agent = factories.create_user(name="Agent qui demande à rejoindre")
        join_request = JoinRequest(user=agent, organisation=producer, siret="13000548100010")
        db.session.add(join_request)
        db.session.commit()
        values["request_id"] = str(join_request.id)
        values["decision"] = "refus"
    if "user_id" in names:  # an account of its own, which the request may suspend or reactivate
        values["user_id"] = str(factories.create_user(name="Compte à modérer").id)
    if "token_id" in names:  # a personal API token of the user, which only they may revoke
        values["token_id"] = str(api_tokens.create_token(scene.other_user, "Script du passant").token.id)
        db.session.commit()
    if "session_id" in names:
        values["session_id"] = str(scene.member_session_id)
    if "identifier" in names:
        values["identifier"] = scene.dataset.catalogue_id
    if "table" in names:
        values["table"] = "services"
    if "filename" in names:
        values["filename"] = "app.css"
    if "token" in names:
        values["token"] = _token(route)
    return _PLACEHOLDER.sub(lambda found: values[found.group(1)], route.rule)


def _token(route: Route) -> str:
    """A valid token of a person of its own (following it may change their address or password)."""
    owner = factories.create_user(name="Titulaire du jeton")
    if "confirmer" in route.rule:
        return tokens.confirmation_token(owner)
    if "adresse" in route.rule:
        return tokens.email_change_token(owner, f"nouvelle-{owner.id}@exemple.fr")
    if "desabonnement" in route.rule:
        return unsubscribe_token(owner.id, ALL_TOPICS)
    return tokens.password_reset_token(owner)
