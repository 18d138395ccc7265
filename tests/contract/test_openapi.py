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


def test_every_error_response_says_which_shape_is_sent() -> None:
    """The functions' errors use ErrorResponse; what API Gateway answers itself (401 from the authorizer, 413) is
    its {"message": ...} shape, and 429/500/503 may be either: the document says exactly what is sent."""
    document = build_document(ROOT)
    schema = document["components"]["schemas"]["ErrorResponse"]
    assert set(schema["required"]) == {"error", "request_id"}
    assert document["components"]["schemas"]["GatewayMessage"]["required"] == ["message"]
    gateway_only, either = {"401", "413"}, {"429", "500", "503"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.startswith(("4", "5")):
                    continue
                reference = json.dumps(response["content"]["application/json"]["schema"])
                if status in gateway_only:
                    assert reference == '{"$ref": "#/components/schemas/GatewayMessage"}', (method, path, status)
                elif status in either:
                    assert "ErrorResponse" in reference, (method, path, status)
                    assert "GatewayMessage" in reference, (method, path, status)
                else:
                    assert reference == '{"$ref": "#/components/schemas/ErrorResponse"}', (method, path, status)
            if operation["security"]:
                assert "401" in operation["responses"], (method, path)
            else:
                assert "401" not in operation["responses"], (method, path)
