"""The main job: start the local runtime, drive it over real HTTP and S3, and write an HTML report.

It grows with the product: today it proves the serverless path end to end (gateway, authorizer, handlers,
S3 notifications into the ingest function, DynamoDB) and shows each route's contract honestly.
"""

from __future__ import annotations

import html
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from sgd_local.runtime import LocalRuntime, RuntimeOptions, project_root
from sgd_local.server import make_server

BRAND = "northwind-coffee"
ORG, PROJECT = "demo", "northwind"


@dataclass
class Step:
    title: str
    request: str
    status: int
    took_ms: float
    summary: str
    body: Any = None


@dataclass
class DemoRun:
    steps: list[Step] = field(default_factory=list)
    uploads: list[dict[str, Any]] = field(default_factory=list)

    def add(self, step: Step) -> Step:
        self.steps.append(step)
        marker = "ok " if step.status < 400 or step.title.startswith(("Rejected", "Contract")) else "!! "
        print(f"  {marker}{step.status}  {step.request:<36} {step.took_ms:7.1f} ms  {step.summary}", flush=True)
        return step


def _call(client: httpx.Client, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[
        httpx.Response, float]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    started = time.perf_counter()
    response = client.request(method, path, json=body, headers=headers)
    return response, (time.perf_counter() - started) * 1000


def _wait_for_ledger(runtime: LocalRuntime, upload_ids: list[str], timeout: float = 30) -> list[dict[str, Any]]:
    dynamodb = runtime.aws.client("dynamodb")
    deadline = time.monotonic() + timeout
    while True:
        items = [dynamodb.get_item(TableName="AssetsTable", Key={
            "pk": {"S": f"org#{ORG}#project#{PROJECT}"}, "sk": {"S": f"upload#{upload_id}"}}).get("Item")
            for upload_id in upload_ids]
        if all(items) or time.monotonic() > deadline:
            return [{name: next(iter(value.values())) for name, value in item.items()} for item in items if item]
        time.sleep(0.1)


def run_demo(out_dir: Path | None, data_dir: Path) -> int:
    root = project_root()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out_dir = out_dir or root / "out" / f"demo-{stamp}"
    out_dir.mkdir(parents=True, exist_ok=True)
    kit = root / "examples" / "brands" / BRAND
    run = DemoRun()

    print(f"SGD demo: starting the local runtime (state in {data_dir})", flush=True)
    with LocalRuntime(RuntimeOptions(data_dir=data_dir), root=root) as runtime:
        server = make_server(runtime, port=0)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        base = "http://{}:{}".format(*server.server_address[:2])
        print(f"  API {base}   embedded AWS {runtime.aws.endpoint}", flush=True)
        try:
            with httpx.Client(base_url=base, timeout=60) as client:
                _drive(runtime, client, kit, run)
        finally:
            server.shutdown()
            server.server_close()
    report = out_dir / "report.html"
    report.write_text(render_report(run, BRAND), encoding="utf-8")
    (out_dir / "steps.json").write_text(json.dumps([step.__dict__ for step in run.steps], indent=2, default=str))
    print(f"\nReport: {report}")
    failures = [s for s in run.steps if s.status >= 500 and s.status != 501]
    return 1 if failures else 0


def _drive(runtime: LocalRuntime, client: httpx.Client, kit: Path, run: DemoRun) -> None:
    response, took = _call(client, "GET", "/healthz")
    run.add(Step("Health", "GET /healthz", response.status_code, took,
                 f"engine={response.json().get('model_engine')}", response.json()))

    token = runtime.token(ORG, subject="demo-user")
    response, took = _call(client, "GET", f"/canon/{PROJECT}")
    run.add(Step("Rejected without a token", f"GET /canon/{PROJECT}", response.status_code, took,
                 "API Gateway's JWT authorizer answers before any function runs", response.json()))

    # Dropping files into uploads/ is one of the three ways in; S3 notifies the ingest function.
    s3 = runtime.aws.client("s3")
    upload_ids = []
    for path, content_type in ((kit / "guidelines.pdf", "application/pdf"), (kit / "logo.png", "image/png")):
        upload_id = f"up-{uuid.uuid4().hex[:12]}"
        upload_ids.append(upload_id)
        started = time.perf_counter()
        s3.put_object(Bucket=runtime.stack.bucket_name, Key=f"uploads/{ORG}/{PROJECT}/{upload_id}/{path.name}",
                      Body=path.read_bytes(), ContentType=content_type)
        run.add(Step("Brand file dropped into S3", f"PUT uploads/…/{path.name}", 200,
                     (time.perf_counter() - started) * 1000, f"{path.stat().st_size:,} bytes"))
    started = time.perf_counter()
    run.uploads = _wait_for_ledger(runtime, upload_ids)
    run.add(Step("Ingest function notified", "S3 ObjectCreated → IngestFunction", 200 if len(run.uploads) == 2
                 else 504, (time.perf_counter() - started) * 1000,
                 f"{len(run.uploads)}/2 uploads recorded in the ledger", run.uploads))

    contract_calls = [
        ("POST", "/render", {"project_id": PROJECT, "prompts": {"task": "create", "instruction":
                             'Launch post: "Fresh roast, every morning"'},
                             "outputs": {"count": 3, "format": "png", "dimensions": "1080x1080"}}),
        ("POST", "/canon/derive", {"project_id": PROJECT, "evidence_ids": []}),
        ("GET", f"/canon/{PROJECT}", None),
        ("POST", "/critique", {"project_id": PROJECT, "asset_ids": ["asset-1"]}),
        ("POST", "/render", {"project_id": PROJECT, "prompts": {"task": "paint", "instruction": "hi"}}),
    ]
    response, took = _call(client, "GET", f"/usage?project_id={PROJECT}", None, token)
    budget = response.json().get("budget", {})
    run.add(Step("Model spend today", f"GET /usage?project_id={PROJECT}", response.status_code, took,
                 f"engine={response.json().get('model_engine')}: ${budget.get('spent_usd', 0):.2f} of the org's "
                 f"${budget.get('limit_usd', 0):.2f} daily budget", response.json()))

    for method, path, body in contract_calls:
        response, took = _call(client, method, path, body, token)
        error = response.json().get("error", {})
        run.add(Step("Contract", f"{method} {path}", response.status_code, took,
                     f"{error.get('code', 'ok')}: {error.get('message', '')}", response.json()))


def _pretty(body: Any) -> str:
    return html.escape(json.dumps(body, indent=2, default=str)) if body is not None else ""


def render_report(run: DemoRun, brand: str) -> str:
    rows = "\n".join(
        f"<tr class='{'bad' if s.status >= 500 and s.status != 501 else ''}'><td>{html.escape(s.title)}</td>"
        f"<td><code>{html.escape(s.request)}</code></td><td>{s.status}</td><td>{s.took_ms:.1f}</td>"
        f"<td>{html.escape(s.summary)}</td><td><details><summary>body</summary><pre>"
        f"{_pretty(s.body)}</pre></details></td></tr>"
        for s in run.steps)
    uploads = "\n".join(
        f"<tr><td>{html.escape(str(u.get('filename')))}</td><td>{html.escape(str(u.get('status')))}</td>"
        f"<td>{html.escape(str(u.get('size')))}</td><td><code>{html.escape(str(u.get('key')))}</code></td></tr>"
        for u in run.uploads)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SGD demo: {html.escape(brand)}</title>
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }}
table {{ border-collapse: collapse; width: 100%; margin: 1rem 0 2rem; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .4rem .6rem; text-align: left; vertical-align: top; }}
th {{ background: #f4f4f4; }} tr.bad td {{ background: #fde8e8; }} pre {{ max-width: 480px; overflow: auto; }}
.note {{ background: #f6f8fa; border-left: 4px solid #888; padding: .6rem 1rem; }}
</style></head><body>
<h1>SGD demo — {html.escape(brand)}</h1>
<p class="note">Everything below ran on this machine through the same Lambda handlers that deploy to AWS:
API Gateway HTTP API (JWT authorizer emulated), Mangum, FastAPI, and a moto server on loopback speaking the
real S3 and DynamoDB protocols. Model engine: <b>local</b> (no provider key configured).
Routes whose pipeline is not built yet answer <b>501</b> in the error shape after validating input —
never a fake result.</p>
<h2>Steps</h2>
<table><tr><th>Step</th><th>Request</th><th>Status</th><th>ms</th><th>Result</th><th></th></tr>
{rows}
</table>
<p>The first call to each function includes its cold start (a fresh worker process importing the handler).</p>
<h2>Upload ledger (written by the ingest function)</h2>
<table><tr><th>File</th><th>Status</th><th>Bytes</th><th>Key</th></tr>
{uploads}
</table>
<p>Generated {datetime.now(UTC).isoformat(timespec="seconds")}</p>
</body></html>
"""
