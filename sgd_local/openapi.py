"""One OpenAPI document for the whole API, merged from each function's FastAPI app.

The functions' apps each know their own routes; API Gateway (template.yaml) knows which function serves
which route and which routes need a token. The merged document says both.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

from sgd_local.template import read_stack

APPS = ("render", "ingest", "canon", "critique")
_PLACEHOLDER_ENV = {
    "SGD_ASSETS_BUCKET": "sgd-openapi", "SGD_CACHE_TABLE": "cache", "SGD_IDEMPOTENCY_TABLE": "idempotency",
    "SGD_JOBS_TABLE": "jobs", "SGD_CANON_TABLE": "canon", "SGD_USAGE_TABLE": "usage", "SGD_ASSETS_TABLE": "assets",
    "POWERTOOLS_SERVICE_NAME": "openapi", "POWERTOOLS_METRICS_NAMESPACE": "SGD",
}


GATEWAY_MESSAGE = {
    "title": "GatewayMessage", "type": "object", "required": ["message"],
    "properties": {"message": {"type": "string", "examples": ["Unauthorized"]}},
    "description": "API Gateway's own answer (not the functions' error shape): 401 Unauthorized (the reason is in "
                   "www-authenticate), 404 Not Found, 413 Request Entity Too Large, 429 Too Many Requests (the stage's "
                   "throttle), 500 Internal Server Error and 503 Service Unavailable (the integration failed or timed "
                   "out).",
}
_MESSAGE_REF = {"$ref": "#/components/schemas/GatewayMessage"}
_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


def _gateway_answers(operation: dict[str, Any], *, authorized: bool) -> None:
    """What API Gateway itself may answer for this operation, in its {"message": ...} shape: 401 (authorized routes
    only; the authorizer answers before any function runs), 413, and, beside the functions' own, 429, 500, 503."""
    responses = operation.setdefault("responses", {})
    if authorized:
        responses["401"] = {"description": "Missing, expired or invalid token (API Gateway's JWT authorizer)",
                            "content": {"application/json": {"schema": _MESSAGE_REF}}}
    else:
        responses.pop("401", None)
    if "requestBody" in operation:
        responses["413"] = {"description": "Body over 10 MB (API Gateway)",
                            "content": {"application/json": {"schema": _MESSAGE_REF}}}
    for status in ("429", "500", "503"):
        answer = responses.get(status)
        if answer is not None:
            answer["content"] = {"application/json": {"schema": {"anyOf": [_ERROR_REF, _MESSAGE_REF]}}}


def build_document(root: Path) -> dict[str, Any]:
    for name, value in _PLACEHOLDER_ENV.items():
        os.environ.setdefault(name, value)
    stack = read_stack(root)
    authorized = {route.route_key: route.authorized for route in stack.routes}
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Smart Graphic Designer API",
            "version": importlib.import_module("sgd").__version__,
            "description": (
                "Brand-consistent graphic design as a pay-per-use API. Every 4xx and 5xx response of the "
                "functions uses the ErrorResponse shape; API Gateway's own 401/404/413 answers are "
                "{\"message\": ...}."
            ),
        },
        "paths": {},
        "components": {"schemas": {"GatewayMessage": GATEWAY_MESSAGE}, "securitySchemes": {
            "jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                    "description": "A JWT from the configured issuer; the 'org' claim scopes every request."}}},
    }
    from sgd.composition import FUNCTIONS
    from sgd.settings import load_settings

    settings = load_settings()
    for app_name in APPS:
        app = FUNCTIONS[app_name](settings).app  # built as at a cold start; nothing is called
        partial = app.openapi()
        document["components"]["schemas"].update(partial.get("components", {}).get("schemas", {}))
        for path, operations in partial.get("paths", {}).items():
            for method, operation in operations.items():
                route_key = f"{method.upper()} {path}"
                if route_key not in authorized:
                    raise ValueError(f"{route_key} is served by the {app_name} function but not routed in "
                                     "template.yaml")
                operation["security"] = [{"jwt": []}] if authorized[route_key] else []
                _gateway_answers(operation, authorized=authorized[route_key])
                document["paths"].setdefault(path, {})[method] = operation
    missing = set(authorized) - {f"{m.upper()} {p}" for p, ops in document["paths"].items() for m in ops}
    if missing:
        raise ValueError(f"template.yaml routes with no handler route: {sorted(missing)}")
    document["paths"] = dict(sorted(document["paths"].items()))
    document["components"]["schemas"] = dict(sorted(document["components"]["schemas"].items()))
    return document


def render_document(root: Path) -> str:
    return json.dumps(build_document(root), indent=2, sort_keys=False) + "\n"
