"""The error shape and request ids, through Mangum exactly as Lambda calls it (no network)."""

import json
from typing import Any

from fastapi import APIRouter
from sgd.errors import Conflict
from sgd.http.app import create_api
from sgd.http.lambda_entry import is_s3_notification, lambda_entry, without_stage_prefix

from sgd_local.lambda_host import make_context
from sgd_local.template import read_stack
from tests.conftest import ROOT, load_event

router = APIRouter()


@router.get("/boom")
def boom() -> None:
    raise RuntimeError("database password is hunter2")


@router.get("/conflict")
def conflict() -> None:
    raise Conflict("same Idempotency-Key, different body", details={"hint": "use a new key"})


@router.get("/ok")
def ok() -> dict[str, str]:
    return {"fine": "yes"}


handler = lambda_entry(create_api(title="test", routers=[router], state={"org_claim": "org"}))
CONTEXT = make_context(read_stack(ROOT).functions["CanonFunction"])


def call(path: str, **event_changes: Any) -> tuple[int, dict[str, str], dict[str, Any]]:
    event = load_event("canon/get_healthz.json")
    event["rawPath"] = path
    event["requestContext"]["http"]["path"] = path
    for name, value in event_changes.items():
        event["requestContext"][name] = value
    result = handler(event, CONTEXT)
    return result["statusCode"], result["headers"], json.loads(result["body"])


def test_unhandled_errors_are_500_in_the_error_shape_without_leaking() -> None:
    status, headers, body = call("/boom")
    assert status == 500
    assert body["error"]["code"] == "internal_error"
    assert "hunter2" not in json.dumps(body)
    assert body["request_id"] == headers["x-request-id"] == "Jk2mQeXYoAMEbXw="


def test_api_errors_carry_code_message_and_details() -> None:
    status, _, body = call("/conflict")
    assert status == 409
    assert body == {"error": {"code": "conflict", "message": "same Idempotency-Key, different body",
                              "details": {"hint": "use a new key"}}, "request_id": "Jk2mQeXYoAMEbXw="}


def test_unknown_paths_are_404_in_the_error_shape() -> None:
    status, _, body = call("/nowhere")
    assert status == 404
    assert body["error"]["code"] == "not_found"


def test_named_stage_prefix_is_removed_before_routing() -> None:
    status, _, body = call("/prod/ok", stage="prod")
    assert (status, body) == (200, {"fine": "yes"})
    event = {"requestContext": {"stage": "$default", "http": {"path": "/prod/ok"}}}
    assert without_stage_prefix(event) is event


def test_s3_notifications_are_told_apart_from_http_events() -> None:
    assert is_s3_notification(load_event("ingest/s3_put_upload.json"))
    assert not is_s3_notification(load_event("canon/get_healthz.json"))
    assert not is_s3_notification({"Records": [{"eventSource": "aws:sqs"}]})
