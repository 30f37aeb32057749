"""FEEDBACK_ENV=production refuses one-machine settings; cookies are Secure; no Server header names Werkzeug."""

from __future__ import annotations

import http.client
import subprocess
import sys
import threading

import pytest
from werkzeug.serving import make_server

from feedback import create_app
from feedback.serving import UnsafeProductionSettings
from tests.conftest import ROOT, build_app

GOOD = {
    "FEEDBACK_ENV": "production",
    "SECRET_KEY": "0123456789abcdef" * 4,
    "DATABASE_URL": "postgresql+psycopg://feedback@127.0.0.1:5432/feedback",
    "FEEDBACK_BASE_URL": "https://retours.ecologie.gouv.fr",
}


def _start(monkeypatch, tmp_path, **environment):
    for name in ("SECRET_KEY", "DATABASE_URL", "FEEDBACK_BASE_URL", "SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return create_app({"INSTANCE_PATH": str(tmp_path)})


def test_production_starts_with_the_three_settings_and_secure_cookies(monkeypatch, tmp_path):
    app = _start(monkeypatch, tmp_path, **GOOD)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert not (tmp_path / "secret_key").exists(), "production never generates a key of its own"


@pytest.mark.parametrize(
    ("missing", "changed", "said"),
    [
        ("SECRET_KEY", {}, "SECRET_KEY doit être donnée"),
        (None, {"SECRET_KEY": "court"}, "SECRET_KEY doit être donnée"),
        ("DATABASE_URL", {}, "DATABASE_URL doit désigner une base PostgreSQL"),
        (None, {"DATABASE_URL": "sqlite:///instance/feedback.sqlite3"}, "DATABASE_URL doit désigner"),
        ("FEEDBACK_BASE_URL", {}, "FEEDBACK_BASE_URL doit donner l'adresse publique du service en https"),
        (None, {"FEEDBACK_BASE_URL": "http://retours.ecologie.gouv.fr"}, "FEEDBACK_BASE_URL doit donner"),
    ],
)
def test_production_refuses_to_start_without_what_it_needs(monkeypatch, tmp_path, missing, changed, said):
    environment = {name: value for name, value in {**GOOD, **changed}.items() if name != missing}
    with pytest.raises(UnsafeProductionSettings) as refusal:
        _start(monkeypatch, tmp_path, **environment)
    assert "FEEDBACK_ENV=production : la plateforme ne démarre pas." in str(refusal.value)
    assert said in str(refusal.value)


def test_the_refusal_stops_the_command_with_its_message(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "current"], cwd=ROOT, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "FEEDBACK_ENV": "production", "HOME": str(tmp_path)}, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "SECRET_KEY doit être donnée" in result.stderr
    assert "DATABASE_URL doit désigner une base PostgreSQL" in result.stderr


def test_development_needs_none_of_them(monkeypatch, tmp_path):
    monkeypatch.delenv("FEEDBACK_ENV", raising=False)
    app = _start(monkeypatch, tmp_path)
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["FEEDBACK_BASE_URL"].startswith("http://127.0.0.1:")


def _cookie_flags(response, name):
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    raise AssertionError(f"no {name} cookie in {response.headers.getlist('Set-Cookie')}")


def test_the_remember_me_cookie_is_secure_when_the_session_cookie_is(app, db, tmp_path_factory):
    from tests import factories

    secure = build_app(app, tmp_path_factory, SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=False)
    user = factories.create_user()
    client = secure.test_client()
    answer = client.post(
        "/connexion", data={"email": user.email, "password": factories.PASSWORD, "remember": "y"},
        base_url="https://localhost",
    )  # fmt: skip
    assert answer.status_code == 303
    assert {"secure", "httponly"} <= _cookie_flags(answer, "session")
    assert {"secure", "httponly"} <= _cookie_flags(answer, "remember_token")


def test_cookies_are_not_secure_on_a_development_machine(app, db, login):
    from tests import factories

    user = factories.create_user()
    client = app.test_client()
    answer = client.post("/connexion", data={"email": user.email, "password": factories.PASSWORD, "remember": "y"})
    assert "secure" not in _cookie_flags(answer, "remember_token")


def test_the_development_server_does_not_name_werkzeug_nor_python(app, db):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        connection.request("GET", "/healthz")
        answer = connection.getresponse()
        answer.read()
    finally:
        server.shutdown()
    assert answer.status == 200
    assert answer.headers.get_all("Server") == ["feedback"]
