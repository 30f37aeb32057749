"""Failed log-ins are limited per address and per client; successful ones are not counted."""

from __future__ import annotations

import logging
import re
import uuid
from html import unescape

import pytest
import redis

from feedback.accounts import login_attempts
from feedback.accounts.login_attempts import ADDRESS_LOCKED
from feedback.extensions import db as _db
from feedback.extensions import limiter

from .. import factories
from ..conftest import build_app
from .test_auth import BAD_CREDENTIALS, fresh_get, signed_in_email

WRONG = "pas-le-bon-mot-de-passe"
REDIS_URL = "redis://127.0.0.1:6379/11"


def page_text(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def attempt(app, email: str, password: str, client_address: str):
    """One log-in from a new browser at `client_address`."""
    browser = app.test_client()
    response = browser.post(
        "/connexion", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": client_address}
    )
    return browser, response


def test_ten_failures_on_an_address_lock_its_password_log_in_whoever_tries(limited_app, db):
    user = factories.create_user(email="camille@exemple.fr")
    for number in range(10):
        _, response = attempt(limited_app, user.email, WRONG, f"198.51.100.{number + 1}")
        assert response.status_code == 200
        assert BAD_CREDENTIALS in page_text(response)

    browser, refused = attempt(limited_app, user.email, factories.PASSWORD, "192.0.2.1")

    assert refused.status_code == 429
    assert ADDRESS_LOCKED in page_text(refused)
    assert "<h1>Se connecter</h1>" in refused.get_data(as_text=True)
    assert signed_in_email(limited_app, browser) is None
    # Other addresses log in as usual from the same client.
    other = factories.create_user(email="dominique@exemple.fr")
    _, response = attempt(limited_app, other.email, factories.PASSWORD, "192.0.2.1")
    assert response.status_code == 303


def test_an_unknown_address_gets_the_same_refusal(limited_app, db):
    factories.create_user(email="camille@exemple.fr")
    for number in range(10):
        attempt(limited_app, "camille@exemple.fr", WRONG, f"198.51.100.{number + 1}")
        attempt(limited_app, "inconnu@exemple.fr", WRONG, f"203.0.113.{number + 1}")

    _, known = attempt(limited_app, "camille@exemple.fr", WRONG, "192.0.2.1")
    _, unknown = attempt(limited_app, "inconnu@exemple.fr", WRONG, "192.0.2.2")

    assert known.status_code == unknown.status_code == 429
    assert ADDRESS_LOCKED in page_text(known)
    assert ADDRESS_LOCKED in page_text(unknown)
    strip = re.compile(rb'("X-CSRFToken": "[^"]*"|name="csrf_token"[^>]*value="[^"]*"|value="[^"]*@exemple\.fr")')
    assert strip.sub(b"", known.get_data()) == strip.sub(b"", unknown.get_data())


def test_eleven_failures_from_one_client_on_many_addresses_are_refused_there_only(limited_app, db):
    user = factories.create_user(email="camille@exemple.fr")
    for number in range(10):
        _, response = attempt(limited_app, f"personne{number}@exemple.fr", WRONG, "192.0.2.7")
        assert response.status_code == 200

    _, refused = attempt(limited_app, user.email, factories.PASSWORD, "192.0.2.7")
    _, elsewhere = attempt(limited_app, user.email, factories.PASSWORD, "192.0.2.8")

    assert refused.status_code == 429
    assert "Trop de tentatives" in page_text(refused)
    assert elsewhere.status_code == 303


def test_sixty_successful_log_ins_in_a_row_all_succeed(limited_app, db):
    user = factories.create_user(email="camille@exemple.fr")

    for _ in range(60):
        browser, response = attempt(limited_app, user.email, factories.PASSWORD, "192.0.2.1")
        assert response.status_code == 303
    assert signed_in_email(limited_app, browser) == "camille@exemple.fr"

    # They used up no failure: the next wrong password is still an ordinary failure.
    _, response = attempt(limited_app, user.email, WRONG, "192.0.2.1")
    assert response.status_code == 200
    assert BAD_CREDENTIALS in page_text(response)


def test_a_reset_password_opens_the_account_while_its_log_in_is_locked(limited_app, db):
    """The lock holds back guessing, not the owner: the reset link still signs them in."""
    user = factories.create_user(email="camille@exemple.fr")
    for number in range(10):
        attempt(limited_app, user.email, WRONG, f"198.51.100.{number + 1}")
    with limited_app.app_context():
        from feedback.accounts import tokens

        token = tokens.password_reset_token(user)
    browser = limited_app.test_client()

    response = browser.post(
        f"/mot-de-passe/nouveau/{token}",
        data={"password": "un-tout-nouveau-mot-de-passe", "password_confirm": "un-tout-nouveau-mot-de-passe"},
    )

    assert response.status_code == 303
    assert signed_in_email(limited_app, browser) == "camille@exemple.fr"


@pytest.fixture
def redis_limited_app(app, tmp_path_factory):
    """An app whose rate-limit counters live in Redis (a database and a key prefix of this test alone)."""
    prefix = f"test-accounts-{uuid.uuid4().hex}"
    previous = limiter.enabled

    def build():
        return build_app(
            app,
            tmp_path_factory,
            RATELIMIT_ENABLED=True,
            RATELIMIT_STORAGE_URI=REDIS_URL,
            # As the configuration does from RATELIMIT_KEY_PREFIX: the storage's prefix. Flask-Limiter's own
            # RATELIMIT_KEY_PREFIX would stay on the limiter, which every app of the process shares.
            RATELIMIT_STORAGE_OPTIONS={"key_prefix": prefix},
        )

    connection = redis.Redis.from_url(REDIS_URL)
    try:
        yield build, connection, prefix
    finally:
        for key in connection.scan_iter(f"*{prefix}*"):
            connection.delete(key)
        limiter.enabled = previous
        with app.app_context():
            _db.engine.dispose()


def test_failure_counters_live_in_redis_for_every_worker(redis_limited_app, db):
    build, connection, prefix = redis_limited_app
    user = factories.create_user(email="camille@exemple.fr")
    first_worker = build()
    for number in range(10):
        attempt(first_worker, user.email, WRONG, f"198.51.100.{number + 1}")
    assert any(b"login-failures" in key for key in connection.scan_iter(f"*{prefix}*"))

    second_worker = build()  # a new storage connection: only Redis remembers the failures
    browser, refused = attempt(second_worker, user.email, factories.PASSWORD, "192.0.2.1")

    assert refused.status_code == 429
    assert ADDRESS_LOCKED in page_text(refused)
    assert fresh_get(second_worker, browser, "/compte").status_code == 302


def test_failures_per_address_fail_open_when_the_counters_storage_is_down(app, tmp_path_factory, db):
    """Redis unreachable (nothing listens on port 1): failures cannot be counted nor checked; the address stays
    open and the fault is logged, rather than a 500 on the log-in form. (The limiter's own per-client limit
    follows RATELIMIT_SWALLOW_ERRORS or RATELIMIT_IN_MEMORY_FALLBACK_ENABLED.)"""
    previous = limiter.enabled
    down = build_app(app, tmp_path_factory, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    logged: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: logged.append(record.getMessage())  # type: ignore[method-assign]
    down.logger.addHandler(handler)
    try:
        with down.test_request_context("/connexion", method="POST"):
            for _ in range(12):
                login_attempts.record_failure("camille@exemple.fr")
            assert not login_attempts.address_locked("camille@exemple.fr")
        assert any("Rate-limit storage unreachable" in message for message in logged)
    finally:
        down.logger.removeHandler(handler)
        limiter.enabled = previous
        with down.app_context():
            _db.engine.dispose()
