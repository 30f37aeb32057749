"""`/healthz` and the one log line of each request."""

from __future__ import annotations

import logging
import re

from tests.conftest import build_app


def test_healthz_answers_ok_without_cookie(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json == {"status": "ok"}
    assert "Set-Cookie" not in answer.headers
    assert answer.headers["Cache-Control"] == "no-store"


def test_healthz_is_not_rate_limited(app, db, tmp_path_factory, restore_limiter):
    limited = build_app(app, tmp_path_factory, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                        RATELIMIT_DEFAULT="2 per hour")  # fmt: skip
    client = limited.test_client()
    assert all(client.get("/healthz").status_code == 200 for _ in range(5))
    assert [client.get("/accessibilite").status_code for _ in range(3)] == [200, 200, 429], "other pages are limited"


def test_each_request_logs_one_line_with_its_id_route_status_duration_and_client(
    app, db, tmp_path_factory, caplog
):
    proxied = build_app(app, tmp_path_factory, FEEDBACK_PROXY_HOPS=1)
    client = proxied.test_client()
    with caplog.at_level(logging.INFO, logger="feedback.requests"):
        answer = client.get("/fils/123456", headers={"X-Forwarded-For": "203.0.113.7", "X-Request-Id": "abc-123"})
        answer.close()
        second = client.get("/healthz")
        second.close()
    lines = [record.getMessage() for record in caplog.records if record.name == "feedback.requests"]
    assert len(lines) == 2
    assert re.fullmatch(
        r"request id=abc-123 method=GET route=/fils/<int:thread_id> status=404 duration_ms=\d+\.\d "
        r"client=203\.0\.113\.7 pid=\d+",
        lines[0],
    ), lines[0]
    assert answer.headers["X-Request-Id"] == "abc-123"
    generated = second.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert f"id={generated} method=GET route=/healthz status=200" in lines[1]


def test_a_request_id_that_does_not_look_like_one_is_replaced(client):
    answer = client.get("/healthz", headers={"X-Request-Id": "x" * 200})
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-Id"])
    answer = client.get("/healthz", headers={"X-Request-Id": "a b<script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-Id"])
