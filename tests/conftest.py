"""Fixtures shared by the whole suite.

The schema is built once per run by the real migrations, on SQLite (a temporary file) or on the
PostgreSQL database named by `TEST_DATABASE_URL`. Reference lists (territories, themes) are loaded
once; every other table is emptied after each test, so tests never see each other's rows.
"""

from __future__ import annotations

import os
from datetime import UTC
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g
from flask_migrate import upgrade

from feedback import clock, create_app
from feedback.catalogue.models import Territory, Theme
from feedback.catalogue.reference import load_reference
from feedback.extensions import db as _db
from feedback.extensions import limiter
from feedback.models import SEARCH_INDEXES

from . import factories

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = Path(os.environ.get("FEEDBACK_SHARED_DATA", ROOT.parent / "shared" / "data"))
KEPT_TABLES = {Territory.__tablename__, Theme.__tablename__}


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def make_app(tmp_path_factory, **overrides):
    instance = tmp_path_factory.mktemp("instance")
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path_factory),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "FEEDBACK_HOME_FIGURE_SECONDS": 0,  # each test counts its own threads
        "FEEDBACK_LONG_COUNT_SECONDS": 0,  # and the lists and menus of the data it makes
        "FEEDBACK_REFERENCE_LISTS_SECONDS": 0,
        "FEEDBACK_PAGE_CACHE_SECONDS": 0,  # a test's anonymous client reads the page of this very moment
        "FEEDBACK_SHARED_DATA": SHARED_DATA,
        "SERVER_NAME": None,
    }
    config.update(overrides)
    return create_app(config)


def build_app(app, tmp_path_factory, **overrides):
    return make_app(tmp_path_factory, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], **overrides)


@pytest.fixture
def limited_app(app, tmp_path_factory):
    """An app with the real rate limits. The limiter is one object shared by every app of the process:
    put it back as it was, or the other tests would be rate limited too."""
    previous = limiter.enabled
    limited = build_app(app, tmp_path_factory, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    try:
        yield limited
    finally:
        limiter.reset()
        limiter.enabled = previous
        with limited.app_context():
            _db.engine.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = make_app(tmp_path_factory)

    @app.teardown_request
    def forget_logged_in_user(exception=None):
        # The `db` fixture keeps one app context for the whole test, which every request of the test client
        # reuses: without this, Flask-Login's cached user would outlive the request as it never does in use.
        g.pop("_login_user", None)

    with app.app_context():
        if _db.engine.dialect.name == "postgresql":
            with _db.engine.begin() as connection:
                connection.execute(sa.text("DROP SCHEMA public CASCADE"))
                connection.execute(sa.text("CREATE SCHEMA public"))
        upgrade()
        load_reference()
        _db.session.commit()
    return app


@pytest.fixture
def db(app):
    with app.app_context():
        yield _db
        _db.session.rollback()
        _empty_tables()


def _empty_tables() -> None:
    if _db.engine.dialect.name == "sqlite":
        for index in SEARCH_INDEXES:
            _db.session.execute(sa.text(f"INSERT INTO {index.fts_table}({index.fts_table}) VALUES ('delete-all')"))
    for table in reversed(_db.metadata.sorted_tables):
        if table.name not in KEPT_TABLES:
            _db.session.execute(table.delete())
    _db.session.commit()


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def moment(monkeypatch):
    """`moment(t)`: from then on in the test, the platform's clock (`feedback.clock.now`) reads `t`."""

    def set_moment(instant):
        monkeypatch.setattr(clock, "_frozen_at", instant.astimezone(UTC))

    return set_moment


@pytest.fixture
def login(client):
    """`login(user)` signs the test client in as `user` (created with the factories' password)."""

    def sign_in(user, password: str = factories.PASSWORD):
        response = client.post("/connexion", data={"email": user.email, "password": password})
        assert response.status_code == 303, response.get_data(as_text=True)
        return response

    return sign_in


@pytest.fixture
def small_export() -> Path:
    return FIXTURES / "export-dataset-sample-small.csv"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data folder not found at {SHARED_DATA} (set FEEDBACK_SHARED_DATA)")
    return SHARED_DATA


class SmtpServer:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it accepts; `stop()` and `start()` take it
    down and bring it back on the same port; `refuse` makes it answer the DATA command with that reply."""

    def __init__(self):
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.messages = []
        self.refuse: str | None = None
        self._controller = None

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return self.refuse
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def start(self):
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list:
        return [m for m in self.messages if address.lower() in m["To"].lower()]


@pytest.fixture
def smtp_server(app, monkeypatch):
    """A loopback SMTP server that the application sends its mails to, for the length of one test."""
    server = SmtpServer()
    server.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    monkeypatch.setitem(app.config, "MAIL_SECURITY", "none")
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 5.0)
    yield server
    server.stop()
