"""Fixtures of the security tests: the threads domain's scene (producers, users, a curator) and its test client
that serves each request in its own application context."""

from __future__ import annotations

import pytest

from feedback.accounts.models import UserSession
from feedback.extensions import db

from .. import factories
from ..threads.conftest import scene, web  # noqa: F401 — fixtures shared with the threads tests


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
