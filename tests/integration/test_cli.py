"""The `sgd` command as users run it: invoke every event file, mint tokens, serve over real HTTP."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SGD = [sys.executable, "-m", "sgd_local.cli"]
EVENT_FILES = sorted(str(p.relative_to(ROOT / "events")) for p in (ROOT / "events").glob("*/*.json"))
FUNCTION_OF_FOLDER = {"render": "RenderFunction", "ingest": "IngestFunction", "canon": "CanonFunction",
                      "critique": "CritiqueFunction"}


def run_sgd(*args: str, data_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SGD, "--data-dir", str(data_dir), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)


# What each sample event gets from a fresh runtime with nothing stored: its status code.
STATUS_OF_EVENT = {
    "canon/get_canon.json": 404, "canon/get_healthz.json": 200, "canon/get_versions.json": 404,
    "canon/post_derive.json": 422, "canon/put_canon.json": 200, "critique/post_critique.json": 404,
    "ingest/post_ingest.json": 200, "ingest/post_uploads.json": 200, "render/cancel_job.json": 404,
    "render/get_job.json": 404, "render/post_render.json": 200, "render/get_signing_secret.json": 200,
}


@pytest.mark.parametrize("event_file", EVENT_FILES)
def test_invoke_every_event_file(event_file: str, tmp_path: Path) -> None:
    function = FUNCTION_OF_FOLDER[event_file.split("/")[0]]
    result = run_sgd("invoke", function, "-e", f"events/{event_file}", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    payload = json.loads(result.stdout)
    if "Records" in json.loads((ROOT / "events" / event_file).read_text()):
        key = "uploads/acme/brand-kit/up-demo-1/Brand Guidelines (2026) \u00e9t\u00e9.pdf"
        # The sample event names an upload POST /uploads never issued in this fresh runtime: never ingested.
        assert payload["recorded"] == []
        assert payload["unticketed"] == [key]
        assert payload["ingested"] == []
        return
    assert payload["statusCode"] == STATUS_OF_EVENT[event_file], payload
    body = json.loads(payload["body"])
    if payload["statusCode"] >= 400:
        assert body["request_id"] == "Jk2mQeXYoAMEbXw="
        assert body["error"]["message"]


def test_invoke_reports_unknown_functions(tmp_path: Path) -> None:
    result = run_sgd("invoke", "NopeFunction", "-e", "events/render/post_render.json", data_dir=tmp_path)
    assert result.returncode == 2
    assert "RenderFunction" in result.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_over_http_with_tokens_and_persistence(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen([*SGD, "--data-dir", str(tmp_path), "serve", "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=30)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "sgd serve did not start in time"
                assert server.poll() is None, "sgd serve exited"
                time.sleep(0.2)
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        token = run_sgd("token", "--org", "acme", data_dir=tmp_path).stdout.strip()
        expired = run_sgd("token", "--org", "acme", "--ttl", "-60", data_dir=tmp_path).stdout.strip()
        body = {"project_id": "p1", "prompts": {"task": "create", "instruction": "Spring sale banner"}}
        ok = httpx.post(f"{base}/render", json=body, headers={"authorization": f"Bearer {token}"}, timeout=30)
        assert ok.status_code == 200, ok.text
        assert ok.json()["assets"][0]["format"] == "png"
        late = httpx.post(f"{base}/render", json=body, headers={"authorization": f"Bearer {expired}"}, timeout=30)
        assert late.status_code == 401
        assert "expired" in late.headers["www-authenticate"]
        jwks = httpx.get(f"{base}/.well-known/jwks.json", timeout=10).json()
        assert jwks["keys"][0]["alg"] == "RS256"
        for method, path in (("TRACE", "/healthz"), ("PROPFIND", "/render"), ("BREW", "/")):
            other = httpx.request(method, f"{base}{path}", timeout=10)
            assert (other.status_code, other.json()) == (404, {"message": "Not Found"}), (method, other.text)
        state = json.loads((tmp_path / "runtime.json").read_text())
        assert state["api"] == base
        assert state["pid"] == server.pid
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output
    assert "state saved" in output
    assert (tmp_path / "aws" / "state" / "dynamodb" / "AssetsTable.json").exists()
    assert not (tmp_path / "runtime.json").exists()


def test_invoke_shares_state_with_a_running_serve(tmp_path: Path) -> None:
    port = free_port()
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen([*SGD, "--data-dir", str(tmp_path), "serve", "--port", str(port), "--no-persist"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "runtime.json").exists():
            assert time.monotonic() < deadline
            assert server.poll() is None
            time.sleep(0.2)
        result = run_sgd("invoke", "IngestFunction", "-e", "events/ingest/post_uploads.json", data_dir=tmp_path)
        upload_id = json.loads(json.loads(result.stdout)["body"])["upload_id"]
        token = run_sgd("token", "--org", "acme", data_dir=tmp_path).stdout.strip()
        base = json.loads((tmp_path / "runtime.json").read_text())["api"]
        seen = httpx.get(f"{base}/uploads/{upload_id}?project_id=brand-kit", timeout=30,
                         headers={"authorization": f"Bearer {token}"})
        assert seen.status_code == 200, "the running serve must see the ticket the invoke wrote"
        assert seen.json()["status"] == "pending"
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)


def test_ingest_command_uploads_waits_and_reports_each_file(tmp_path: Path) -> None:
    kit = ROOT / "examples" / "brands" / "helio-energy"
    bad = tmp_path / "badge.png"
    bad.write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    result = run_sgd("ingest", str(kit / "guidelines.pdf"), str(kit / "logo.png"), str(bad), "--project", "cli-kit",
                     data_dir=tmp_path / "state", timeout=180)
    assert result.returncode == 1, result.stderr[-2000:]  # one file was rejected
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    for line, (name, outcome) in zip(lines, [("guidelines.pdf", "indexed"), ("logo.png", "indexed"),
                                             ("badge.png", "rejected")], strict=True):
        assert name in line
        assert outcome in line
    assert "SVG" in lines[2]
    assert "100%" in result.stderr  # the progress bar reached the end
