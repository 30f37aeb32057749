"""Every error under /api/v1 is JSON, `{error, message, fields}`, with its status: an unknown address, a method
not allowed, a missing CSRF token of a browser session, a rate limit (with Retry-After), an exception."""

from __future__ import annotations

import pytest

from feedback.extensions import db as _db
from feedback.input_limits import NUL_IN_REQUEST

from .. import factories
from ..conftest import build_app
from ..threads.conftest import question


def _error(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error", "message", "fields"}
    return body


def test_an_unknown_address_and_a_wrong_method_answer_json(client):
    unknown = client.get("/api/v1/inconnue/1")
    wrong = client.delete("/api/v1/threads")

    assert unknown.status_code == 404 and _error(unknown)["error"] == "not_found"
    assert wrong.status_code == 405 and _error(wrong)["error"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]
    assert client.get("/page-inconnue").mimetype == "text/html"  # elsewhere, the HTML page as before


@pytest.fixture
def csrf_app(app, tmp_path_factory):
    protected = build_app(app, tmp_path_factory, WTF_CSRF_ENABLED=True)
    yield protected
    with protected.app_context():
        _db.engine.dispose()


def test_a_browser_session_sends_its_csrf_token_and_a_bearer_call_needs_none(csrf_app, scene, bearer):
    thread = question(scene)
    headers = bearer(scene.other_user)
    browser = csrf_app.test_client()
    page = browser.get("/connexion").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    signed_in = browser.post(
        "/connexion", data={"email": scene.other_user.email, "password": factories.PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 303
    url = f"/api/v1/threads/{thread.id}/follow"

    refused = browser.post(url)
    accepted = browser.post(url, headers={"X-CSRFToken": token})
    program = csrf_app.test_client().post(url, headers=headers)

    assert refused.status_code == 400 and "X-CSRFToken" in _error(refused)["message"]
    assert accepted.status_code == 200
    assert program.status_code == 200


def test_a_rate_limit_answers_429_with_retry_after(app, tmp_path_factory, scene, bearer):
    from feedback.extensions import limiter

    previous = limiter.enabled
    limited = build_app(
        app,
        tmp_path_factory,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        FEEDBACK_API_RATE_LIMIT="2/minute",
    )
    try:
        client = limited.test_client()
        headers = bearer(scene.author)
        answers = [client.get("/api/v1/threads", headers=headers) for _ in range(3)]
        other = client.get("/api/v1/threads", headers=bearer(scene.other_user))
    finally:
        limiter.reset()
        limiter.enabled = previous
        with limited.app_context():
            _db.engine.dispose()

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert _error(answers[2])["error"] == "too_many_requests"
    assert 0 < int(answers[2].headers["Retry-After"]) <= 61
    assert other.status_code == 200  # counted per token, not for everyone


def test_an_exception_is_a_500_in_json(app, tmp_path_factory):
    failing = build_app(app, tmp_path_factory, TESTING=False)

    def broken():
        raise RuntimeError("panne")

    failing.add_url_rule("/api/v1/panne", "broken", broken)
    try:
        answer = failing.test_client().get("/api/v1/panne")
    finally:
        with failing.app_context():
            _db.engine.dispose()

    assert answer.status_code == 500
    assert _error(answer)["error"] == "server_error"
    assert "panne" not in answer.get_data(as_text=True)


def test_a_nul_character_is_refused_with_the_platform_s_french_sentence(client, scene):
    answer = client.get("/api/v1/threads?q=a%00b")

    assert answer.status_code == 400
    assert _error(answer)["message"] == NUL_IN_REQUEST
