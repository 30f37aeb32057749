"""The deployment end to end: gunicorn with deploy/gunicorn.conf.py and 4 workers, in production mode, on
PostgreSQL and Redis, behind a simulated proxy (X-Forwarded-For, X-Forwarded-Proto: https). A person signs in,
posts a question, finds it in the list and signs out; the request log names the forwarded client; the sign-up
limit counts the attempts of one client whichever worker serves them."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.conftest import ROOT

from .conftest import REDIS_URL

GUNICORN = Path(sys.executable).parent / "gunicorn"
FLASK = Path(sys.executable).parent / "flask"
PASSWORD = "un-mot-de-passe-de-production-2026"
CLIENT = "203.0.113.50"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def producer(migrated_postgresql, db, tmp_path_factory) -> str:
    """A producer service in the served database (its slug), to which the question is put."""
    from feedback.extensions import db as database
    from tests import factories
    from tests.conftest import make_app

    with make_app(tmp_path_factory, SQLALCHEMY_DATABASE_URI=migrated_postgresql).app_context():
        marker = uuid.uuid4().hex
        slug = factories.create_organisation(name=f"DDT du Loiret {marker[:6]}", datagouv_id=marker[:24]).slug
        database.session.remove()
        database.engine.dispose()
    return slug


@pytest.fixture
def production(migrated_postgresql, producer, db, tmp_path):
    """gunicorn serving the application as production does; yields (port, environment, log file)."""
    port = _free_port()
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "FEEDBACK_ENV": "production",
        "SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        "DATABASE_URL": migrated_postgresql,
        "FEEDBACK_BASE_URL": "https://retours.exemple.gouv.fr",
        "FEEDBACK_PROXY_HOPS": "1",
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": f"feedback-e2e-{uuid.uuid4().hex[:12]}",
        "GUNICORN_WORKERS": "4",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "FEEDBACK_UPLOAD_FOLDER": str(tmp_path / "uploads"),
    }
    log = tmp_path / "gunicorn.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(GUNICORN), "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60  # each of the 4 workers loads the application: slow on a busy machine
        while True:
            try:
                if _request(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, f"gunicorn stopped:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"gunicorn did not answer in 60 s:\n{log.read_text()}"
            time.sleep(0.2)
        yield port, environment, log
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def _request(port, method, path, *, body=None, cookies=None, client=CLIENT, headers=None):
    """One request on a connection of its own, as the proxy sends it; returns (status, headers, text)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    sent = {
        "X-Forwarded-For": client,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "retours.exemple.gouv.fr",
        "X-Forwarded-Port": "443",
        **(headers or {}),
    }
    if cookies:
        sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    if body is not None:  # a browser's form: over https, Flask-WTF wants the Referer of this very site
        sent["Content-Type"] = "application/x-www-form-urlencoded"
        sent.setdefault("Referer", f"https://retours.exemple.gouv.fr{path}")
        body = urlencode(body)
    connection.request(method, path, body=body, headers=sent)
    answer = connection.getresponse()
    text = answer.read().decode()
    connection.close()
    if cookies is not None:
        for header in answer.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            if value:
                cookies[name] = value
            else:
                cookies.pop(name, None)
    return answer.status, answer.headers, text


def _token(page: str) -> str:
    found = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, "the form carries its CSRF token"
    return found.group(1)


def test_a_journey_through_gunicorn_behind_the_proxy(production, producer):
    port, environment, log = production
    email = f"usager-{uuid.uuid4().hex[:8]}@exemple.fr"
    created = subprocess.run(
        [str(FLASK), "--app", "wsgi", "users", "create", "--email", email, "--name", "Camille Usager",
         "--password-stdin"],
        cwd=ROOT, env=environment, input=PASSWORD, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr

    cookies: dict[str, str] = {}
    status, headers, page = _request(port, "GET", "/connexion", cookies=cookies)
    assert status == 200
    assert "Werkzeug" not in headers["Server"] and "Python" not in headers["Server"]
    assert headers["Strict-Transport-Security"].startswith("max-age="), "the proxy's https is the request's"
    status, headers, _ = _request(
        port, "POST", "/connexion", cookies=cookies,
        body={"email": email, "password": PASSWORD, "csrf_token": _token(page)},
    )  # fmt: skip
    assert status == 303
    assert all("Secure" in header for header in headers.get_all("Set-Cookie"))

    title = f"Les données du PPRI sont-elles à jour ? {uuid.uuid4().hex[:6]}"
    status, _, page = _request(port, "GET", "/fils/nouveau?type=question", cookies=cookies)
    assert status == 200
    status, headers, page = _request(
        port, "POST", "/fils/nouveau?type=question", cookies=cookies,
        body={"title": title, "body": "Le plan de prévention date de 2012.", "organisation": producer,
              "csrf_token": _token(page)},
    )  # fmt: skip
    assert status == 303, re.findall(r'fr-(?:error|message--error)[^>]*>([^<]+)', page)
    thread_path = headers["Location"]
    assert re.search(r"/fils/\d+$", thread_path)
    status, _, listing = _request(port, "GET", "/fils", cookies=cookies)
    assert status == 200
    assert title.replace("'", "&#39;") in listing

    status, _, page = _request(port, "GET", "/", cookies=cookies)
    status, _, _ = _request(port, "POST", "/deconnexion", cookies=cookies, body={"csrf_token": _token(page)})
    assert status == 303
    status, headers, _ = _request(port, "GET", "/fils/nouveau?type=question", cookies=cookies)
    assert status == 302 and "/connexion" in headers["Location"], "signed out"

    # The sign-up form allows 10 attempts an hour per client: 10 at once, spread over the workers, then one more.
    status, _, page = _request(port, "GET", "/inscription", cookies=cookies)
    attempt = {"csrf_token": _token(page)}
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = pool.map(
            lambda _: _request(port, "POST", "/inscription", cookies=dict(cookies), body=attempt), range(10)
        )
        statuses = [status for status, _, _ in answers]
    assert statuses == [200] * 10
    assert _request(port, "POST", "/inscription", cookies=dict(cookies), body=attempt)[0] == 429
    assert _request(port, "POST", "/inscription", cookies=dict(cookies), body=attempt, client="203.0.113.51")[0] == 200

    time.sleep(0.3)  # the last lines reach the log
    lines = log.read_text().splitlines()
    sign_ups = [line for line in lines if "method=POST route=/inscription" in line and f"client={CLIENT} " in line]
    assert len(sign_ups) == 11
    workers = {re.search(r"pid=(\d+)", line).group(1) for line in sign_ups}
    assert len(workers) >= 2, "the attempts were served by several workers, which share their counters"
    assert any(re.search(rf"method=POST route=/connexion status=303 duration_ms=[\d.]+ client={CLIENT} ", line)
               for line in lines)  # fmt: skip
    assert any("route=/fils/nouveau status=303" in line and f"client={CLIENT} " in line for line in lines)
