"""Fixtures of the security tests: the threads domain's scene (producers, users, a curator) and its test client
that serves each request in its own application context."""

from __future__ import annotations

import pytest

from feedback.accounts.models import UserSession
from feedback.extensions import db
from feedback.threads import services
from feedback.threads.models import ThreadKind

from .. import factories
from ..threads.conftest import post_thread, scene, web  # noqa: F401 — fixtures shared with the threads tests
from .xss_payloads import PAYLOADS


@pytest.fixture
def routed_scene(scene, app):  # noqa: F811
    """The scene, with a browser session of the Loiret's member that the session-ending route can name."""
    client = app.test_client()
    with app.app_context():
        client.post("/connexion", data={"email": scene.member.email, "password": factories.PASSWORD})
    scene.member_session_id = db.session.scalars(
        db.select(UserSession.id).where(UserSession.user_id == scene.member.id)
    ).first()
    return scene


@pytest.fixture
def hostile(scene, app, monkeypatch):  # noqa: F811
    """For each payload: a producer, a member and a user named with it, a dataset whose title and description
    are it, a thread of that user whose title and first message are it, the member's answer and internal note
    that are it too."""
    monkeypatch.setitem(app.config, "FEEDBACK_PAGE_SIZE", 500)
    threads = []
    for number, payload in enumerate(PAYLOADS):
        organisation = factories.create_organisation(name=f"{payload} {number}")
        member = factories.create_user(name=payload, organisation=organisation)
        author = factories.create_user(name=payload)
        dataset = factories.create_dataset(title=payload, description=payload, organisation=organisation)
        thread = post_thread(author, ThreadKind.QUESTION, title=payload, body=payload, dataset=dataset, commit=False)
        services.post_message(thread, member, payload)
        services.post_message(thread, member, payload, internal=True)
        threads.append(thread)
    db.session.commit()
    return threads
