"""Fixtures of the threads domain: a scene of producers, users and a curator, and thread builders.

Threads are built through `feedback.threads.services`, the code path the application itself uses, and
committed, so that a request served by the test client sees them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from html import unescape

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from werkzeug.security import generate_password_hash

from feedback.accounts import models as accounts_models
from feedback.accounts.models import Organisation, Role, User
from feedback.catalogue.models import Dataset, Territory, Theme, ThemeScheme
from feedback.extensions import db as _db
from feedback.threads import services
from feedback.threads.models import Message, Subscription, Thread, ThreadEvent, ThreadKind, Vote

from .. import factories

FAST_HASH = "pbkdf2:sha256:1000"


@dataclass
class Scene:
    producer: Organisation  # the organisation the threads are addressed to (a DDT of the Loiret, D45)
    member: User
    coordinator: User
    other_producer: Organisation  # another producer (a DDT of the Nièvre, D58)
    other_member: User
    author: User
    other_user: User
    curator: User
    dataset: Dataset  # a dataset of `producer`

    def actor(self, name: str) -> User | None:
        """The person behind a name of the permission tables; None for "anonymous"."""
        return {
            "anonymous": None,
            "other_user": self.other_user,
            "author": self.author,
            "member": self.member,
            "coordinator": self.coordinator,
            "other_producer": self.other_member,
            "curator": self.curator,
        }[name]


@pytest.fixture
def scene(db, monkeypatch) -> Scene:
    # Seven accounts per test: hash their passwords with few iterations (still checked for real at login).
    monkeypatch.setattr(
        accounts_models, "generate_password_hash", lambda password: generate_password_hash(password, FAST_HASH)
    )
    producer = factories.create_organisation(name="DDT du Loiret", territory_code="D45")
    other_producer = factories.create_organisation(name="DDT de la Nièvre", territory_code="D58")
    return Scene(
        producer=producer,
        member=factories.create_user(name="Mathilde Membre", organisation=producer),
        coordinator=factories.create_user(name="Claude Coordinatrice", organisation=producer, coordinator=True),
        other_producer=other_producer,
        other_member=factories.create_user(name="Olivier Autreservice", organisation=other_producer),
        author=factories.create_user(name="Alice Autrice"),
        other_user=factories.create_user(name="Bruno Passant"),
        curator=factories.create_user(name="Céline Curatrice", role=Role.CURATOR),
        dataset=factories.create_dataset(title="Zones inondables du Loiret", organisation=producer),
    )


# Building threads ------------------------------------------------------------------------------------


def inspire_theme(code: str) -> Theme:
    return _db.session.scalars(sa.select(Theme).where(Theme.scheme == ThemeScheme.INSPIRE, Theme.code == code)).one()


def post_thread(
    author: User,
    kind: ThreadKind = ThreadKind.QUESTION,
    *,
    title: str = "Question sur les zones inondables",
    body: str = "Bonjour, pouvez-vous préciser la source de ces données ?",
    dataset: Dataset | None = None,
    organisation: Organisation | None = None,
    category: str | None = None,
    territory: str | None = None,
    themes: tuple[str, ...] = (),
    use_case: str | None = None,
    restricted: bool = False,
    created_at: datetime | None = None,
    commit: bool = True,
) -> Thread:
    """`services.create_thread` with defaults, committed."""
    thread = services.create_thread(
        author,
        services.NewThread(
            kind=kind,
            title=title,
            body=body,
            dataset=dataset,
            organisation=organisation,
            quality_category=category,
            territory=_db.session.get(Territory, territory) if territory else None,
            themes=[inspire_theme(code) for code in themes],
            use_case=use_case,
            restricted=restricted,
        ),
        created_at=created_at,
    )
    if commit:
        _db.session.commit()
    return thread


def data_request(scene: Scene, **overrides) -> Thread:
    """An open public data request of the scene's author on the scene's dataset."""
    author = overrides.pop("author", scene.author)
    values = {"title": "Demande des zones inondables au format GeoPackage", "dataset": scene.dataset}
    values.update(overrides)
    return post_thread(author, ThreadKind.DATA_REQUEST, **values)


def question(scene: Scene, **overrides) -> Thread:
    author = overrides.pop("author", scene.author)
    values = {"dataset": scene.dataset}
    values.update(overrides)
    return post_thread(author, ThreadKind.QUESTION, **values)


# Reading the database -----------------------------------------------------------------------------------


def count(model, *conditions) -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*conditions))


def events_of(thread_id: int) -> list[ThreadEvent]:
    return list(
        _db.session.scalars(sa.select(ThreadEvent).where(ThreadEvent.thread_id == thread_id).order_by(ThreadEvent.id))
    )


def fresh(thread_id: int) -> Thread:
    """The thread as committed (what requests served by the test client wrote)."""
    _db.session.rollback()
    return _db.session.get(Thread, thread_id)


def snapshot(thread_id: int) -> dict:
    """Everything a refused action must leave as it was."""
    thread = fresh(thread_id)
    return {
        "status": thread.status,
        "version": thread.version,
        "kind": thread.kind,
        "organisation_id": thread.organisation_id,
        "assignee_id": thread.assignee_id,
        "due_at": thread.due_at,
        "deadline_extended": thread.deadline_extended,
        "messages_count": thread.messages_count,
        "public_messages_count": thread.public_messages_count,
        "votes_count": thread.votes_count,
        "followers_count": thread.followers_count,
        "events": count(ThreadEvent, ThreadEvent.thread_id == thread_id),
        "messages": count(Message, Message.thread_id == thread_id),
        "message_bodies": sorted(_db.session.scalars(sa.select(Message.body).where(Message.thread_id == thread_id))),
        "votes": count(Vote, Vote.thread_id == thread_id),
        "subscriptions": count(Subscription, Subscription.thread_id == thread_id),
    }


# The web side --------------------------------------------------------------------------------------------


class Web:
    """The test client, each request served in its own application context, as in production: its own
    database session and its own `g`, so that nothing the test holds in memory answers in its place."""

    def __init__(self, app, client):
        self.app = app
        self.client = client

    def get(self, url: str, **kwargs):
        with self.app.app_context():
            return self.client.get(url, **kwargs)

    def post(self, url: str, **kwargs):
        with self.app.app_context():
            return self.client.post(url, **kwargs)

    def htmx_get(self, url: str, **kwargs):
        return self.get(url, headers={"HX-Request": "true"}, **kwargs)

    def htmx_post(self, url: str, **kwargs):
        return self.post(url, headers={"HX-Request": "true"}, **kwargs)

    def sign_in(self, user: User | None) -> None:
        """Sign in as `user` (None: stay anonymous), after signing out whoever was signed in."""
        self.post("/deconnexion")
        if user is None:
            return
        response = self.post("/connexion", data={"email": user.email, "password": factories.PASSWORD})
        assert response.status_code == 303, response.get_data(as_text=True)

    def count_queries(self, url: str, **kwargs) -> tuple[int, object]:
        """The number of SQL statements serving GET `url`, and the response."""
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        with self.app.app_context():
            engine = _db.engine
            event.listen(engine, "before_cursor_execute", record)
            try:
                response = self.client.get(url, **kwargs)
            finally:
                event.remove(engine, "before_cursor_execute", record)
        assert response.status_code == 200, response.status_code
        return len(statements), response


@pytest.fixture
def web(app, client) -> Web:
    return Web(app, client)


# Reading pages -------------------------------------------------------------------------------------------


def html(response) -> str:
    return response.get_data(as_text=True)


def page_text(response_or_html) -> str:
    source = response_or_html if isinstance(response_or_html, str) else html(response_or_html)
    source = re.sub(r"<(script|style)\b.*?</\1>", " ", source, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", source)).split())


def field_errors(response, field_id: str) -> list[str]:
    """The error messages shown next to a form field (its DSFR messages group)."""
    group = rf'<div class="fr-messages-group" id="{re.escape(field_id)}-messages"[^>]*>(.*?)</div>'
    found = re.search(group, html(response), re.S)
    assert found, f"no messages group for the field {field_id!r}"
    messages = re.findall(r'fr-message--error">(.*?)</p>', found.group(1), re.S)
    # Collapse the layout's white space only: French typography's narrow no-break spaces are meaningful.
    return [re.sub(r"[ \t\r\n]+", " ", unescape(message)).strip() for message in messages]


def results_section(response) -> str:
    found = re.search(r'<section id="results".*?</section>', html(response), re.S)
    assert found, "no results section"
    return found.group(0)


def listed_ids(response) -> list[int]:
    """The ids of the threads listed in the results of /threads, in order."""
    links = re.findall(r'<h3 class="fr-h6 fr-mb-1v"><a href="/fils/(\d+)"', results_section(response))
    return [int(i) for i in links]


def status_badge(response) -> str:
    """The text of the thread page's status badge."""
    found = re.search(r'<li id="thread-status">\s*<p [^>]*data-status="[a-z_]+">([^<]*)</p>', html(response))
    assert found, "no status badge"
    return found.group(1).strip()
