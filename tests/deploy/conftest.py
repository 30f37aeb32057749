"""What the deployment tests share: a PostgreSQL database (the fault tests and the gunicorn journey need one, on
SQLite runs too) and a rate limiter put back as the rest of the suite expects it."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest
import sqlalchemy as sa

from feedback.extensions import limiter

# PostgreSQL is always there where the tests run (CI and development machines): never skipped.
SERVER = os.environ.get("DEPLOY_TEST_POSTGRESQL", "postgresql+psycopg://postgres@127.0.0.1:5432/")
DEDICATED_DATABASE = "feedback_deploy_tests"
REDIS_URL = "redis://127.0.0.1:6379/13"


def postgresql_url() -> str:
    """`TEST_DATABASE_URL` when it names PostgreSQL (its schema built by the suite's `app` fixture), else a
    dedicated database on the local server, created when missing."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url.startswith("postgresql"):
        return url
    server = sa.make_url(SERVER)
    try:
        with psycopg.connect(
            host=server.host, port=server.port or 5432, user=server.username, password=server.password,
            dbname="postgres", autocommit=True, connect_timeout=5,
        ) as connection:  # fmt: skip
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DEDICATED_DATABASE,)
            ).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{DEDICATED_DATABASE}"')
    except psycopg.OperationalError as error:
        pytest.fail(f"These tests need PostgreSQL at {SERVER} (DEPLOY_TEST_POSTGRESQL), which does not answer: {error}")
    return server.set(database=DEDICATED_DATABASE).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def migrated_postgresql(app, tmp_path_factory) -> str:
    """A PostgreSQL database at the migrations' head (the dedicated one built afresh on each run)."""
    url = postgresql_url()
    if url == app.config["SQLALCHEMY_DATABASE_URI"]:
        return url
    from flask_migrate import upgrade

    from feedback.extensions import db
    from tests.conftest import make_app

    other = make_app(tmp_path_factory, SQLALCHEMY_DATABASE_URI=url)
    with other.app_context():
        with db.engine.begin() as connection:  # built afresh, as the suite's own database
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def restore_limiter():
    """The limiter is one object shared by every app of the process: put it back as it was afterwards, its
    default limits too (an app given RATELIMIT_DEFAULT leaves them to every app created after it)."""
    previous = limiter.enabled
    defaults = list(limiter.limit_manager._default_limits)
    yield
    limiter.reset()
    limiter.enabled = previous
    limiter.limit_manager.set_default_limits(defaults)


@pytest.fixture
def redis_prefix() -> str:
    return f"feedback-test-{uuid.uuid4().hex[:12]}"
