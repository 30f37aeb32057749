"""The OpenAPI 3.1 document is generated from the views, readable on its page, and the API keeps to it:
schemathesis sends each operation generated requests (valid and not), anonymous and with a curator's token, on a
seeded database, and checks that nothing answers a 5xx or a response outside the document."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from feedback.api import tokens
from feedback.capitalisation import services as reports
from feedback.capitalisation.scope import Scope
from feedback.extensions import db
from feedback.threads import services

from ..threads.conftest import data_request, page_text, question


def test_the_document_is_openapi_3_1_and_names_every_operation(client, scene):
    document = client.get("/api/v1/openapi.json").get_json()

    assert document["openapi"] == "3.1.0"
    assert {"/api/v1/threads", "/api/v1/threads/{thread_id}/status", "/api/v1/datasets/{identifier}"} <= set(
        document["paths"]
    )
    assert document["components"]["securitySchemes"]["jeton"]["scheme"] == "bearer"
    page = page_text(client.get("/api/v1/docs"))
    assert "POST /api/v1/threads/{thread_id}/status" in page and "ThreadSummary" in page


def _seed(scene) -> str:
    """Threads of every visibility, a reply, an internal note, a published report; the token of a curator (who may
    try every action)."""
    thread = data_request(scene)
    services.post_message(thread, scene.member, "Nous regardons.")
    services.post_message(thread, scene.member, "Note interne.", internal=True)
    data_request(scene, restricted=True, title="Demande restreinte")
    question(scene)
    report = reports.create_report(scene.curator, "Bilan", Scope())
    reports.publish_report(report, scene.curator)
    created = tokens.create_token(scene.curator, "schemathesis")
    db.session.commit()
    return created.secret


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def test_the_api_keeps_to_its_document(app, scene):
    secret = _seed(scene)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    answered = []

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def keeps_to_the_document(case):
            answered.append(case.call_and_validate(checks=CHECKS).status_code)
            answered.append(
                case.call_and_validate(checks=CHECKS, headers={"Authorization": f"Bearer {secret}"}).status_code
            )

        keeps_to_the_document()

    assert len(answered) >= 4 * len(operations)
    assert {200, 401, 404, 422} <= set(answered)  # the generated requests reach the views, not only the checks
