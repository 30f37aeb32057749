"""The trusted proxy (FEEDBACK_PROXY_HOPS) and the rate-limit counters (memory, or Redis shared by processes)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import redis
from flask import request

from tests.conftest import ROOT, build_app

from .conftest import REDIS_URL


def _app_showing_the_client(app, tmp_path_factory, **settings):
    shown = build_app(app, tmp_path_factory, **settings)

    @shown.get("/test-client-address")
    def client_address():
        return {"address": request.remote_addr, "secure": request.is_secure, "host": request.host}

    return shown


def test_forwarded_headers_are_ignored_without_a_trusted_proxy(app, db, tmp_path_factory):
    direct = _app_showing_the_client(app, tmp_path_factory, FEEDBACK_PROXY_HOPS=0)
    answer = direct.test_client().get(
        "/test-client-address",
        headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"},
    )
    assert answer.json == {"address": "127.0.0.1", "secure": False, "host": "localhost"}


def test_one_trusted_proxy_gives_the_client_it_saw(app, db, tmp_path_factory):
    proxied = _app_showing_the_client(app, tmp_path_factory, FEEDBACK_PROXY_HOPS=1)
    answer = proxied.test_client().get(
        "/test-client-address",
        headers={
            # The client forged the first address; the proxy appended the one it saw.
            "X-Forwarded-For": "198.51.100.1, 203.0.113.7",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "retours.ecologie.gouv.fr",
        },
    )
    assert answer.json == {"address": "203.0.113.7", "secure": True, "host": "retours.ecologie.gouv.fr"}
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")


def _sign_up_attempt(client, address: str):
    return client.post("/inscription", data={}, headers={"X-Forwarded-For": address})


def test_two_clients_behind_the_proxy_have_their_own_counters(app, db, tmp_path_factory, restore_limiter):
    proxied = build_app(
        app, tmp_path_factory, FEEDBACK_PROXY_HOPS=1, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://"
    )
    client = proxied.test_client()
    for _ in range(10):  # the sign-up form: 10 an hour per client
        assert _sign_up_attempt(client, "203.0.113.7").status_code == 200
    assert _sign_up_attempt(client, "203.0.113.7").status_code == 429
    assert _sign_up_attempt(client, "203.0.113.8").status_code == 200


def test_redis_counters_are_shared_by_two_processes(app, db, tmp_path_factory, restore_limiter, redis_prefix):
    settings = {
        "FEEDBACK_PROXY_HOPS": 1,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": redis_prefix},
    }
    here = build_app(app, tmp_path_factory, **settings)
    client = here.test_client()
    for _ in range(9):
        assert _sign_up_attempt(client, "203.0.113.9").status_code == 200
    keys = redis.Redis.from_url(REDIS_URL).keys(f"{redis_prefix}:*")
    assert keys, "the counters are in Redis, under the configured prefix"

    # Another process (as another gunicorn worker would be) makes the tenth attempt, then the eleventh.
    other_process = textwrap.dedent(
        f"""
        from feedback import create_app
        app = create_app({{**{settings!r}, "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "x",
                           "SQLALCHEMY_DATABASE_URI": {app.config["SQLALCHEMY_DATABASE_URI"]!r},
                           "INSTANCE_PATH": {str(tmp_path_factory.mktemp("other"))!r}}})
        client = app.test_client()
        for _ in range(2):
            print(client.post("/inscription", data={{}}, headers={{"X-Forwarded-For": "203.0.113.9"}}).status_code)
        print(client.post("/inscription", data={{}}, headers={{"X-Forwarded-For": "203.0.113.10"}}).status_code)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", other_process], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200", "429", "200"]
