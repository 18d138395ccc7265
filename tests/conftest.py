"""Shared fixtures. Integration tests run the real Lambda path: API Gateway v2 event -> Mangum -> handler ->
adapters -> the embedded moto server, all through the same LocalRuntime that `sgd serve` uses."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

# In-process unit tests import sgd modules directly; give them the settings a function would have.
UNIT_ENVIRONMENT = {
    "SGD_ASSETS_BUCKET": "sgd-test-assets", "SGD_CACHE_TABLE": "CacheTable",
    "SGD_IDEMPOTENCY_TABLE": "IdempotencyTable", "SGD_JOBS_TABLE": "JobsTable", "SGD_CANON_TABLE": "CanonTable",
    "SGD_USAGE_TABLE": "UsageTable", "SGD_ASSETS_TABLE": "AssetsTable", "POWERTOOLS_SERVICE_NAME": "unit",
    "POWERTOOLS_METRICS_NAMESPACE": "SGDTest", "AWS_DEFAULT_REGION": "us-east-1",
}
for _name, _value in UNIT_ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)

# Property tests explore new random examples on a developer's machine; CI replays a fixed derivation of them, so
# a red build always reproduces (as Hypothesis recommends). `pytest --hypothesis-seed=N` explores in CI too.
from hypothesis import settings  # noqa: E402 - after the environment the sgd modules read

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from sgd_local.runtime import LocalRuntime, RuntimeOptions

    data_dir = tmp_path_factory.mktemp("sgd-runtime")
    with LocalRuntime(RuntimeOptions(data_dir=data_dir, persist=False), root=ROOT) as local_runtime:
        yield local_runtime


class ApiClient:
    """Calls the runtime's gateway the way an HTTP client would."""

    def __init__(self, runtime: Any, org: str | None = "acme"):
        self.runtime = runtime
        self.token = runtime.token(org) if org else None

    def request(self, method: str, path: str, body: Any = None, *, token: str | None = "default",
                headers: dict[str, str] | None = None) -> Any:
        from sgd_local.apigw import HttpRequest

        all_headers = {"content-type": "application/json"} | (headers or {})
        bearer = self.token if token == "default" else token
        if bearer:
            all_headers["authorization"] = f"Bearer {bearer}"
        raw = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
        path, _, query = path.partition("?")
        return self.runtime.handle_http(HttpRequest(method, path, query, all_headers, raw))


@pytest.fixture(scope="session")
def api(runtime: Any) -> ApiClient:
    return ApiClient(runtime)


@pytest.fixture(scope="session")
def api_other_org(runtime: Any) -> ApiClient:
    return ApiClient(runtime, org="globex")


def run_async(awaitable: Any) -> Any:
    """Runs a coroutine on a private loop. asyncio.run would unset the thread's current loop, which the
    Mangum adapters of in-process tests rely on (as Lambda relies on one loop per process)."""
    import asyncio

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(awaitable)
    finally:
        loop.close()


def load_event(relative: str) -> dict[str, Any]:
    return json.loads((ROOT / "events" / relative).read_text())
