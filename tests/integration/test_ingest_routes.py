"""POST /ingest and GET /uploads/{id} through the real Lambda path: upload ids (own, unknown, pending), URLs
through the SSRF guard (refused, failed, and a loopback server where SGD_OUTBOUND_ALLOW_LOOPBACK allows it),
and request-level validation."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.integration.test_ingest_pipeline import KITS, upload, wait_for_upload

pytestmark = pytest.mark.integration
GUIDE = (b"Our tone of voice is bright and exact. Colours: Teal #00857C and Sand #F2E3C6. "
         b"Typography: Source Serif for headlines.\n")


class Files(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/guide.txt":
            body, status = GUIDE, 200
        elif self.path == "/logo.png":
            body, status = (KITS / "northwind-coffee" / "logo.png").read_bytes(), 200
        else:
            body, status = b"missing", 404
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def file_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def loopback_ingest(runtime: Any) -> Iterator[Any]:
    """The ingest function as deployed, but with SGD_OUTBOUND_ALLOW_LOOPBACK (local runtime and tests only)."""
    from sgd_local.lambda_host import FunctionPool

    spec = runtime.stack.functions["IngestFunction"]
    environment = runtime.function_environment("IngestFunction") | {"SGD_OUTBOUND_ALLOW_LOOPBACK": "true"}
    pool = FunctionPool(spec, environment, log_path=runtime.options.data_dir / "logs" / "IngestLoopback.log")
    yield pool
    pool.close()


def post_ingest_via(pool: Any, runtime: Any, api: Any, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    import json

    from sgd_local.apigw import HttpRequest, build_event, to_response
    from sgd_local.auth import verify

    route, parameters = runtime.match("POST", "/ingest")
    headers = {"authorization": f"Bearer {api.token}", "content-type": "application/json"}
    claims = verify(headers["authorization"], runtime.signing_key, runtime.stack.authorizer)
    event = build_event(HttpRequest("POST", "/ingest", "", headers, json.dumps(body).encode()), route, parameters,
                        claims)
    response = to_response(pool.invoke(event).payload)
    return response.status, response.json()


def test_uploaded_ids_report_their_outcome_and_unknown_ones_are_rejected(api: Any) -> None:
    project = "ingest-ids"
    indexed = upload(api, project, "guide.txt", GUIDE, "text/plain")
    status = wait_for_upload(api, project, indexed)
    pending = api.request("POST", "/uploads", {"project_id": project, "filename": "later.pdf",
                                               "content_type": "application/pdf", "size_bytes": 10}).json()
    response = api.request("POST", "/ingest", {"project_id": project,
                                               "assets": [indexed, "up-does-not-exist", pending["upload_id"]]})
    assert response.status == 200, response.body
    body = response.json()
    assert body["items"] == [{"asset": indexed, "evidence_id": status["evidence_id"], "kind": "text",
                              "status": "indexed"}]
    assert body["processed"] == 1
    assert body["qdrant_ids"] == []
    reasons = {item["asset"]: item["reason"] for item in body["rejected"]}
    assert "unknown upload" in reasons["up-does-not-exist"]
    assert "no file yet" in reasons[pending["upload_id"]]
    codes = {item["asset"]: item["code"] for item in body["rejected"]}
    assert codes == {"up-does-not-exist": "unknown_upload", pending["upload_id"]: "not_uploaded"}


def test_urls_go_through_the_ssrf_guard(api: Any, file_server: str) -> None:
    assets = ["https://169.254.169.254/latest/meta-data/", f"{file_server}/guide.txt", "http://example.com/a.pdf"]
    response = api.request("POST", "/ingest", {"project_id": "ingest-urls", "assets": assets})
    assert response.status == 200, response.body
    body = response.json()
    assert body["items"] == []
    assert body["processed"] == 0
    reasons = {item["asset"]: item["reason"] for item in body["rejected"]}
    assert set(reasons) == set(assets)
    assert all(reason.startswith("refused") for reason in reasons.values()), reasons
    assert {item["code"] for item in body["rejected"]} == {"fetch_refused"}


def test_a_loopback_url_is_fetched_where_allowed(api: Any, runtime: Any, file_server: str,
                                                 loopback_ingest: Any) -> None:
    assets = [f"{file_server}/guide.txt", f"{file_server}/logo.png", f"{file_server}/gone.pdf",
              "https://169.254.169.254/latest/meta-data/"]
    status, body = post_ingest_via(loopback_ingest, runtime, api, {"project_id": "ingest-loopback", "assets": assets})
    assert status == 200, body
    assert [(item["asset"], item["kind"], item["status"]) for item in body["items"]] == [
        (assets[0], "text", "indexed"), (assets[1], "logo", "indexed")]
    assert len(body["qdrant_ids"]) >= 1
    reasons = {item["asset"]: item["reason"] for item in body["rejected"]}
    assert reasons[assets[2]].startswith("fetch failed")
    assert "404" in reasons[assets[2]]
    assert reasons[assets[3]].startswith("refused")
    again_status, again = post_ingest_via(loopback_ingest, runtime, api,
                                          {"project_id": "ingest-loopback", "assets": assets[:1]})
    assert again_status == 200
    assert again["items"][0]["status"] == "duplicate"
    assert again["qdrant_ids"] == []


def test_request_level_problems_are_422(api: Any) -> None:
    too_many = api.request("POST", "/ingest", {"project_id": "p", "assets": [f"up-{n}" for n in range(51)]})
    assert too_many.status == 422
    assert api.request("POST", "/ingest", {"project_id": "p", "assets": ["ftp://host/x"]}).status == 422
    assert api.request("POST", "/ingest", {"project_id": "p"}).status == 422
    assert api.request("GET", "/uploads/up-x").status == 422  # project_id is required
    assert api.request("GET", "/uploads/up-x?project_id=p").status == 404
