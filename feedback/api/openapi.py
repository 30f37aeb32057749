"""The OpenAPI 3.1 document of /api/v1, generated from the views' pydantic models by spectree.

spectree was chosen over flask-openapi3, APIFlask and flask-smorest: it decorates the views of an ordinary Flask
blueprint (the others want their own application or blueprint classes, or marshmallow), writes OpenAPI 3.1 with
pydantic 2's JSON Schema 2020-12, and checks requests against the same models it documents."""

from __future__ import annotations

from typing import Any

from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree
from spectree.models import SecureType

from feedback.api import schemas
from feedback.api.errors import ApiError

TITLE = "API de la plateforme d'échanges producteurs–usagers du catalogue Ecosphères"
DESCRIPTION = (
    "Les fils (demandes de données, signalements qualité, données manquantes, questions), les jeux de données, "
    "les services producteurs et leurs indicateurs, les rapports publiés et les notifications de l'appelant. "
    "Authentification : un jeton personnel (`Authorization: Bearer …`, créé depuis « Mon compte »), ou la "
    "session du navigateur avec l'en-tête `X-CSRFToken` pour les requêtes qui changent quelque chose. "
    "Erreurs : `{error, message, fields}`."
)

_FRENCH_MESSAGES = {
    "missing": "Ce champ est obligatoire.",
    "extra_forbidden": "Ce champ n'est pas attendu.",
    "string_too_long": "Ce texte est trop long.",
    "enum": "Cette valeur n'est pas l'une de celles permises.",
    "int_parsing": "Un nombre entier est attendu.",
    "bool_parsing": "Un booléen est attendu (true ou false).",
    "date_from_datetime_parsing": "Une date AAAA-MM-JJ est attendue.",
    "date_parsing": "Une date AAAA-MM-JJ est attendue.",
    "model_attributes_type": "Un objet JSON est attendu.",
    "model_type": "Un objet JSON est attendu.",
}


def refuse_invalid_requests(request, response, validation_error, instance, model_adapter) -> None:
    """spectree's hook before a view: an invalid request is answered by the API's own error (422, its fields)."""
    if validation_error is None:
        return
    fields: dict[str, list[str]] = {}
    for problem in model_adapter.validation_errors(validation_error):
        name = ".".join(str(part) for part in problem.get("loc", ())) or "body"
        message = _FRENCH_MESSAGES.get(problem.get("type", ""), f"Valeur invalide : {problem.get('msg', '')}")
        fields.setdefault(name, []).append(message)
    raise ApiError(422, fields=fields)


spec = SpecTree(
    "flask",
    mode="strict",
    title=TITLE,
    description=DESCRIPTION,
    version="1.0.0",
    openapi_version="3.1.0",
    path="openapi-unused",  # the document is served by the API's own view (views.openapi_document)
    page_templates={},
    annotations=False,
    before=refuse_invalid_requests,
    validation_error_status=422,
    validation_error_model=schemas.ErrorOut,
    security_schemes=[
        SecurityScheme(
            name="jeton",
            data=SecuritySchemeData(
                type=SecureType.HTTP, scheme="bearer", description="Un jeton personnel, créé depuis « Mon compte »."
            ),
        )
    ],
    security=[{"jeton": []}, {}],
)

# The errors every operation may answer, and those of the operations that read or change one thing.
COMMON_ERRORS = (400, 401, 422, 429)


def responses(model, *errors: int, success: int = 200) -> Response:
    codes: dict[str, Any] = {f"HTTP_{success}": model}
    for code in sorted(set(COMMON_ERRORS) | set(errors)):
        codes[f"HTTP_{code}"] = schemas.ErrorOut
    return Response(**codes)


def document() -> dict:
    """The OpenAPI document, generated once per process from the registered views."""
    return spec.spec


# The documentation page ------------------------------------------------------------------------------------------


def _type_of(schema: dict) -> str:
    """A property's type in a few words: `string`, `integer | null`, `ThreadSummary[]`, `fil, question…`."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_type_of(part) for part in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(f"« {value} »" for value in schema["enum"])
    kind = schema.get("type", "objet")
    if kind == "array":
        return _type_of(schema.get("items", {})) + "[]"
    if schema.get("format"):
        return f"{kind} ({schema['format']})"
    return str(kind)


def _fields(schema: dict) -> list[dict]:
    required = set(schema.get("required", ()))
    return [
        {
            "name": name,
            "type": _type_of(property_),
            "required": name in required,
            "description": property_.get("description", ""),
        }
        for name, property_ in schema.get("properties", {}).items()
    ]


def readable_document() -> dict:
    """The document as the documentation page shows it: operations by tag, each with its parameters, its body's
    fields and its answers, and the schemas with their fields."""
    document = spec.spec
    schemas_ = document.get("components", {}).get("schemas", {})
    by_tag: dict[str, list[dict]] = {}
    for path, methods in document.get("paths", {}).items():
        for method, operation in methods.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            body_name = body.get("$ref", "").rsplit("/", 1)[-1]
            entry = {
                "method": method.upper(),
                "path": path,
                "anchor": operation.get("operationId", f"{method}-{path}"),
                "summary": operation.get("summary", ""),
                "description": operation.get("description", ""),
                "parameters": [
                    {
                        "name": parameter["name"],
                        "in": parameter.get("in", ""),
                        "required": parameter.get("required", False),
                        "type": _type_of(parameter.get("schema", {})),
                        "description": parameter.get("description", "")
                        or parameter.get("schema", {}).get("description", ""),
                    }
                    for parameter in operation.get("parameters", [])
                ],
                "body": body_name,
                "responses": [
                    {
                        "status": status,
                        "schema": answer.get("content", {})
                        .get("application/json", {})
                        .get("schema", {})
                        .get("$ref", "")
                        .rsplit("/", 1)[-1],
                    }
                    for status, answer in sorted(operation.get("responses", {}).items())
                ],
            }
            for tag in operation.get("tags") or ["autres"]:
                by_tag.setdefault(tag, []).append(entry)
    return {
        "info": document.get("info", {}),
        "version": document.get("openapi"),
        "tags": by_tag,
        "schemas": {name: _fields(schema) for name, schema in sorted(schemas_.items())},
    }
