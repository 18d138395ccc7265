"""Per-org rate limits through the real Lambda path: API Gateway v2 event -> Mangum -> function -> moto DynamoDB,
counted across the function's instances."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sgd.repositories.rate_limits import RateLimitCounters

from bench.support.seeds import runtime_adapters
from tests.conftest import ROOT, ApiClient

pytestmark = pytest.mark.integration


def set_limits(runtime: Any, org: str, limits: dict[str, int]) -> None:
    RateLimitCounters(runtime_adapters(runtime).usage_table).set_org_limits(org, limits)


def start_of_a_window(window_s: int = 10, room_s: float = 4.0) -> None:
    """Waits, when needed, until at least `room_s` of the current window are left: requests that must fall in one
    window do (across a boundary the sliding estimate carries the previous window's weight rounded down, and one
    request more fits)."""
    left = window_s - time.time() % window_s
    if left < room_s:
        time.sleep(left + 0.05)


def test_past_its_limit_an_org_gets_429_with_retry_after_and_ratelimit_headers(runtime: Any) -> None:
    set_limits(runtime, "rl-solo", {"reads": 3})
    client = ApiClient(runtime, org="rl-solo")
    start_of_a_window()
    answers = [client.request("GET", "/canon/rl-project") for _ in range(4)]
    assert [a.status for a in answers] == [404, 404, 404, 429]
    assert [a.headers["ratelimit"].split(";")[1] for a in answers[:3]] == ["r=2", "r=1", "r=0"]
    refused = answers[3]
    assert refused.headers["ratelimit-policy"] == '"reads";q=3;w=10'  # the template's 10 s window
    assert refused.headers["ratelimit"].startswith('"reads";r=0;t=')
    assert 1 <= int(refused.headers["retry-after"]) <= 10
    body = refused.json()
    assert body["error"]["code"] == "rate_limited"
    assert "3 reads requests in 10 s" in body["error"]["message"]
    assert body["error"]["details"]["route_class"] == "reads"
    assert body["request_id"]
    assert refused.headers["x-request-id"] == body["request_id"]
    # Another route class of the same org has its own window (the request gets as far as validation)...
    assert client.request("POST", "/critique", {"nonsense": True}).status == 422
    # ...and another org is not affected at all.
    assert ApiClient(runtime, org="rl-neighbour").request("GET", "/canon/rl-project").status == 404
    # /healthz names no org: never limited.
    assert client.request("GET", "/healthz", token=None).status == 200


def test_a_refused_write_never_reaches_its_route(runtime: Any) -> None:
    set_limits(runtime, "rl-writer", {"render": 1})
    client = ApiClient(runtime, org="rl-writer")
    start_of_a_window()
    assert client.request("POST", "/render", {"nonsense": True}).status == 422  # admitted: the route validated it
    refused = client.request("POST", "/render", {"nonsense": True})
    assert refused.status == 429  # refused before the route: it would have answered 422
    assert refused.json()["error"]["details"]["route_class"] == "render"


def test_the_limit_holds_across_concurrent_instances(runtime: Any) -> None:
    set_limits(runtime, "rl-burst", {"reads": 5})
    client = ApiClient(runtime, org="rl-burst")
    start_of_a_window()
    with ThreadPoolExecutor(8) as executor:
        statuses = list(executor.map(lambda _: client.request("GET", "/canon/rl-project").status, range(16)))
    assert sorted(statuses) == [404] * 5 + [429] * 11


def test_an_unreachable_limit_table_fails_closed_with_503(tmp_path: Path) -> None:
    from sgd_local.runtime import LocalRuntime, RuntimeOptions

    # DynamoDB is unreachable for the functions (nothing listens on port 9): no request may pass unmetered.
    options = RuntimeOptions(data_dir=tmp_path, persist=False, snap_start=False, throttle=False,
                             environment={"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9"})
    with LocalRuntime(options, root=ROOT) as runtime:
        client = ApiClient(runtime, org="rl-closed")
        answer = client.request("GET", "/canon/rl-project")
        assert answer.status == 503
        assert answer.json()["error"]["code"] == "rate_limit_unavailable"
        assert answer.headers["retry-after"] == "1"
        assert client.request("GET", "/healthz", token=None).status == 200
