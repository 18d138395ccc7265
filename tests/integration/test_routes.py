"""Every route through the real Lambda path: gateway -> API Gateway v2 event -> Mangum -> handler."""

from typing import Any

import pytest

pytestmark = pytest.mark.integration

VALID_BODIES: dict[str, Any] = {
    "POST /render": {"project_id": "spring", "prompts": {"task": "create", "instruction": "Autumn launch post"}},
    "GET /render/jobs/job-1": None,
    "DELETE /render/jobs/job-1": None,
    "POST /uploads": {"project_id": "spring", "filename": "guide.pdf", "content_type": "application/pdf",
                      "size_bytes": 1000},
    "POST /ingest": {"project_id": "spring", "assets": ["up-1", "https://brand.example/logo.png"]},
    "POST /canon/derive": {"project_id": "never-ingested", "evidence_ids": []},
    "GET /canon/spring": None,
    "PUT /canon/spring-edit": {"palette_hex": ["#112233", "#FFFFFF"], "fonts": ["Inter"], "voice": {"tone": "calm"}},
    "GET /canon/spring/versions": None,
    "POST /critique": {"project_id": "spring", "asset_ids": ["asset-1"]},
}
# What each valid request gets in a project with nothing in it yet: (status, error code or None).
EMPTY_PROJECT_ANSWERS: dict[str, tuple[int, str | None]] = {
    "POST /render": (200, None),  # no canon: the neutral default, and the audit says so
    "GET /render/jobs/job-1": (404, "not_found"),
    "DELETE /render/jobs/job-1": (404, "not_found"),
    "POST /uploads": (200, None),
    "POST /ingest": (200, None),  # an unknown upload id and an unreachable URL are listed under rejected[]
    "POST /canon/derive": (422, "no_evidence"),
    "GET /canon/spring": (404, "not_found"),
    "PUT /canon/spring-edit": (200, None),
    "GET /canon/spring/versions": (404, "not_found"),
    "POST /critique": (404, "not_found"),  # the asset is unknown
}
INVALID_BODIES: dict[str, Any] = {
    "POST /render": {"project_id": "spring", "prompts": {"task": "remix", "instruction": "hi"}},
    "GET /render/jobs/bad%20id": None,
    "POST /uploads": {"project_id": "spring", "filename": "guide.pdf", "content_type": "pdf", "size_bytes": 0},
    "POST /ingest": {"project_id": "spring", "assets": []},
    "POST /canon/derive": {"project_id": "no spaces"},
    "PUT /canon/spring": {"palette_hex": ["#112233"], "fonts": [], "voice": {"tone": ""}},
    "GET /canon/bad!id": None,
    "POST /critique": {"project_id": "spring", "asset_ids": ["a"] * 11},
}


def split(route: str) -> tuple[str, str]:
    method, path = route.split(" ", 1)
    return method, path


def assert_error_shape(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, response.body
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def test_healthz_needs_no_token(api: Any) -> None:
    response = api.request("GET", "/healthz", token=None)
    assert response.status == 200
    assert response.json() == {"status": "ok", "service": "canon", "version": "0.1.0", "stage": "local",
                               "model_engine": "local", "model_policy_version": 2}


@pytest.mark.parametrize("route", sorted(VALID_BODIES))
def test_valid_requests_reach_their_pipeline(api: Any, route: str) -> None:
    method, path = split(route)
    status, code = EMPTY_PROJECT_ANSWERS[route]
    response = api.request(method, path, VALID_BODIES[route])
    if code is None:
        assert response.status == status, response.body
    else:
        assert_error_shape(response, status, code)


@pytest.mark.parametrize("route", sorted(INVALID_BODIES))
def test_invalid_requests_get_422_naming_the_fields(api: Any, route: str) -> None:
    method, path = split(route)
    body = assert_error_shape(api.request(method, path, INVALID_BODIES[route]), 422, "validation_error")
    assert body["error"]["details"]
    assert all("field" in item for item in body["error"]["details"])


@pytest.mark.parametrize("route", sorted(VALID_BODIES))
def test_every_route_but_healthz_requires_a_token(api: Any, route: str) -> None:
    method, path = split(route)
    response = api.request(method, path, VALID_BODIES[route], token=None)
    assert response.status == 401
    assert response.json() == {"message": "Unauthorized"}


def test_malformed_json_is_a_422_not_a_500(api: Any) -> None:
    assert_error_shape(api.request("POST", "/render", b'{"project_id": '), 422, "validation_error")


def test_unrouted_paths_and_methods_are_gateway_404s(api: Any) -> None:
    for method, path in (("GET", "/nope"), ("PATCH", "/render"), ("GET", "/render/jobs/a/b")):
        response = api.request(method, path)
        assert response.status == 404
        assert response.json() == {"message": "Not Found"}


def test_token_without_org_claim_is_403(runtime: Any, api: Any) -> None:
    token = runtime.signing_key.issue(runtime.stack.authorizer, org="", subject="robot")
    body = assert_error_shape(api.request("GET", "/canon/spring", token=token), 403, "forbidden")
    assert "'org' claim" in body["error"]["message"]


def test_org_claim_must_be_a_safe_identifier(runtime: Any, api: Any) -> None:
    token = runtime.signing_key.issue(runtime.stack.authorizer, org="acme#project#x")
    assert_error_shape(api.request("GET", "/canon/spring", token=token), 403, "forbidden")
