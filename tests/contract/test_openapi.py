"""The committed OpenAPI document is the code's, and it describes the one error shape and the auth."""

import json

from sgd_local.openapi import build_document, render_document
from sgd_local.template import read_stack
from tests.conftest import ROOT


def test_committed_document_matches_the_code() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text()
    assert committed == render_document(ROOT), "run `make openapi` and commit docs/openapi.json"


def test_every_routed_operation_is_documented_with_its_security() -> None:
    document = build_document(ROOT)
    stack = read_stack(ROOT)
    for route in stack.routes:
        operation = document["paths"][route.path][route.method.lower()]
        assert operation["security"] == ([{"jwt": []}] if route.authorized else [])


def test_every_error_response_uses_the_error_shape() -> None:
    document = build_document(ROOT)
    schema = document["components"]["schemas"]["ErrorResponse"]
    assert set(schema["required"]) == {"error", "request_id"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    reference = json.dumps(response["content"]["application/json"]["schema"])
                    assert "ErrorResponse" in reference, (method, path, status)
