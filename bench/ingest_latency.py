"""Ingest and canon latency through the local runtime, and the embedding cache on a re-ingest.

    python -m bench.ingest_latency [--runs 20] [--out bench/results]

Measured as a client sees it, through the same Lambda handlers that deploy to AWS:

- **upload -> evidence indexed**: the 5-page example guideline PDF, from the presigned POST to moto's S3 until the
  upload ledger says `indexed` (S3 notification, the ingest function's pipeline: quarantine, admission,
  extraction, chunking, sparse embedding, Qdrant upsert, records, promotion). Each run uses a fresh project, so
  every run does the full work (no duplicate short-cut). One warm-up upload first: Lambda's cold start is
  measured by bench/cold_start.py, not here.
- **POST /canon/derive** with the offline local engine, and **GET /canon/{id}** (cache hit), p50/p95 through the
  emulated API Gateway.
- **embedding cache hit rate on re-ingest**: a second runtime with dense embeddings from a loopback
  OpenAI-compatible embeddings server (tests and benchmarks only) ingests the PDF into one project, then the same
  text again (the PDF's text as a plain-text file) into another; the ingest function's "embedding cache" log lines
  give the hits and misses of each pass, and the fake server counts the texts it was asked to embed.

Writes ingest_latency.json and ingest_latency.md into --out.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from bench.stats import percentiles

ROOT = Path(__file__).resolve().parents[1]
PDF = ROOT / "examples" / "brands" / "helio-energy" / "guidelines.pdf"
LOGO = ROOT / "examples" / "brands" / "helio-energy" / "logo.png"
ORG = "bench"
TARGETS_MS = {"upload_to_indexed_p95": 1500.0, "canon_derive_p95": 300.0, "canon_get_p95": 20.0}
DENSE_SIZE = 64


class Client:
    def __init__(self, runtime: Any) -> None:
        from bench.support.seeds import lift_rate_limits

        self.runtime = runtime
        self.token = runtime.token(ORG, subject="bench")
        lift_rate_limits(runtime, ORG)

    def request(self, method: str, path: str, body: Any = None) -> Any:
        from sgd_local.apigw import HttpRequest

        raw = json.dumps(body).encode() if body is not None else b""
        path, _, query = path.partition("?")
        headers = {"content-type": "application/json", "authorization": f"Bearer {self.token}"}
        return self.runtime.handle_http(HttpRequest(method, path, query, headers, raw))


def ledger_status(runtime: Any, project: str, upload_id: str) -> dict[str, Any] | None:
    import dataclasses

    from sgd.repositories.uploads import UploadLedger
    from sgd.tenancy import Tenant

    from bench.support.seeds import runtime_adapters

    adapters = runtime_adapters(runtime)
    entry = UploadLedger(adapters.assets_table, adapters.clock).get(Tenant(ORG, project), upload_id)
    return dataclasses.asdict(entry) if entry is not None else None


def upload_and_wait(client: Client, project: str, path: Path, content_type: str, data: bytes | None = None,
                    timeout_s: float = 60) -> tuple[float, dict[str, Any]]:
    """Milliseconds from the presigned POST until the ledger reaches a final status (ticket not included)."""
    data = path.read_bytes() if data is None else data
    ticket = client.request("POST", "/uploads", {"project_id": project, "filename": path.name,
                                                 "content_type": content_type, "size_bytes": len(data)}).json()
    started = time.perf_counter()
    response = httpx.post(ticket["url"], data=ticket["fields"], files={"file": (path.name, data, content_type)})
    response.raise_for_status()
    deadline = time.monotonic() + timeout_s
    while True:
        status = ledger_status(client.runtime, project, ticket["upload_id"])
        if status and status["status"] in ("indexed", "duplicate", "rejected"):
            return (time.perf_counter() - started) * 1000, status
        if time.monotonic() > deadline:
            raise TimeoutError(f"upload {ticket['upload_id']} not processed in {timeout_s} s: {status}")
        time.sleep(0.005)


def timed(call: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def measure_latency(runs: int) -> dict[str, Any]:
    from sgd_local.runtime import LocalRuntime, RuntimeOptions

    with tempfile.TemporaryDirectory() as folder, LocalRuntime(
            RuntimeOptions(data_dir=Path(folder), persist=False, throttle=False), root=ROOT) as runtime:
        client = Client(runtime)
        upload_and_wait(client, "warm-up", PDF, "application/pdf")  # cold start of the ingest function
        upload_and_wait(client, "warm-up", LOGO, "image/png")
        ingest_ms, statuses = [], []
        for run in range(runs):
            took, status = upload_and_wait(client, f"pdf-{run}", PDF, "application/pdf")
            if status["status"] != "indexed":
                raise RuntimeError(f"the guideline PDF was not indexed: {status}")
            ingest_ms.append(took)
            statuses.append(status)
        derive_body = {"project_id": "warm-up", "evidence_ids": []}
        client.request("POST", "/canon/derive", derive_body)  # cold start of the canon function
        derive_ms = []
        for _ in range(max(runs * 3, 20)):
            took, response = timed(lambda: client.request("POST", "/canon/derive", derive_body))
            if response.status != 200:
                raise RuntimeError(f"POST /canon/derive failed: {response.status} {response.body[:300]!r}")
            derive_ms.append(took)
        get_ms = []
        for _ in range(max(runs * 7, 50)):
            took, response = timed(lambda: client.request("GET", "/canon/warm-up"))
            if response.status != 200:
                raise RuntimeError(f"GET /canon failed: {response.status}")
            get_ms.append(took)
        function_ms = _function_durations(Path(folder) / "logs" / "IngestFunction.log")
    return {
        "upload_to_indexed_ms": percentiles(ingest_ms) | {"samples": [round(value, 1) for value in ingest_ms]},
        "points_per_pdf": int(statuses[0]["points"]),
        "canon_derive_ms": percentiles(derive_ms),
        "canon_get_ms": percentiles(get_ms),
        "ingest_function_s3_invocations_ms": function_ms,
    }


def log_records(log: Path, message: str) -> Iterator[dict[str, Any]]:
    """The JSON records with this message in a function's log (the runtime writes what CloudWatch would get)."""
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("message") == message:
            yield record


def _function_durations(log: Path) -> dict[str, Any] | None:
    """The pipeline's own time per ingested file, from its 'asset indexed' log records (pipeline_ms)."""
    durations = [float(record["pipeline_ms"]) for record in log_records(log, "asset indexed")
                 if "pipeline_ms" in record]
    return percentiles(durations) if durations else None


# -- the embedding cache -----------------------------------------------------------------------------------------
class FakeEmbeddings(BaseHTTPRequestHandler):
    """An OpenAI-compatible /embeddings endpoint: a deterministic vector per text; counts the texts it embeds."""

    texts = 0

    def do_POST(self) -> None:
        import hashlib

        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        type(self).texts += len(body["input"])
        data = []
        for index, text in enumerate(body["input"]):
            digest = hashlib.sha256(text.encode()).digest() * 2
            data.append({"index": index, "embedding": [byte / 255 - 0.5 for byte in digest[:DENSE_SIZE]]})
        payload = json.dumps({"data": data, "model": body["model"]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        return


@contextmanager
def fake_embeddings_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeEmbeddings)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def cache_lines(log: Path) -> list[dict[str, Any]]:
    return [{name: record.get(name) for name in ("hits", "misses", "hit_rate")}
            for record in log_records(log, "embedding cache")]


def measure_embedding_cache() -> dict[str, Any]:
    from sgd_local.runtime import LocalRuntime, RuntimeOptions

    with fake_embeddings_server() as url, tempfile.TemporaryDirectory() as folder:
        environment = {"SGD_EMBEDDINGS": "openai", "SGD_EMBEDDINGS_URL": url, "SGD_EMBEDDINGS_MODEL": "fake-embed-64"}
        with LocalRuntime(RuntimeOptions(data_dir=Path(folder), persist=False, throttle=False, environment=environment),
                          root=ROOT) as runtime:
            client = Client(runtime)
            FakeEmbeddings.texts = 0
            _, first = upload_and_wait(client, "dense-a", PDF, "application/pdf")
            embedded_first = FakeEmbeddings.texts
            _, second = upload_and_wait(client, "dense-b", PDF, "application/pdf")  # same file, another project
            embedded_second = FakeEmbeddings.texts - embedded_first
            passes = cache_lines(Path(folder) / "logs" / "IngestFunction.log")
    if len(passes) != 2 or first["status"] != "indexed" or second["status"] != "indexed":
        raise RuntimeError(f"unexpected dense ingest: {first} {second} {passes}")
    return {"first_ingest": passes[0], "re_ingest": passes[1], "texts_embedded_first": embedded_first,
            "texts_embedded_on_re_ingest": embedded_second, "re_ingest_hit_rate": passes[1]["hit_rate"],
            "model": "fake-embed-64 (loopback OpenAI-compatible server)"}


def verdict(measured: float, target: float) -> str:
    return "PASS" if measured <= target else "FAIL"


def measure(runs: int = 20) -> dict[str, Any]:
    latency = measure_latency(runs)
    cache = measure_embedding_cache()
    verdicts = {
        "upload_to_indexed_p95": verdict(latency["upload_to_indexed_ms"]["p95"], TARGETS_MS["upload_to_indexed_p95"]),
        "canon_derive_p95": verdict(latency["canon_derive_ms"]["p95"], TARGETS_MS["canon_derive_p95"]),
        "canon_get_p95": verdict(latency["canon_get_ms"]["p95"], TARGETS_MS["canon_get_p95"]),
    }
    return {"runs": runs, "targets_ms": TARGETS_MS, "latency": latency, "embedding_cache": cache,
            "verdicts": verdicts}


def markdown(results: dict[str, Any]) -> str:
    latency, cache, verdicts = results["latency"], results["embedding_cache"], results["verdicts"]

    def row(name: str, stats: dict[str, Any], target: str, verdict_key: str | None) -> str:
        return (f"| {name} | {stats['n']} | {stats['p50']:.1f} | {stats['p95']:.1f} | {stats['max']:.1f} "
                f"| {target} | {verdicts[verdict_key] if verdict_key else 'info'} |")

    lines = [
        "# Ingest and canon latency (local runtime)", "",
        f"5-page guideline PDF (`{PDF.relative_to(ROOT)}`), {latency['points_per_pdf']} text chunks indexed.", "",
        "| Measurement | n | p50 ms | p95 ms | max ms | Target | Verdict |", "|---|---|---|---|---|---|---|",
        row("Upload (presigned POST) -> evidence indexed", latency["upload_to_indexed_ms"], "p95 <= 1500 ms",
            "upload_to_indexed_p95"),
        row("POST /canon/derive, local engine", latency["canon_derive_ms"], "p95 <= 300 ms", "canon_derive_p95"),
        row("GET /canon/{project_id}", latency["canon_get_ms"], "p95 <= 20 ms", "canon_get_p95"),
        "", "## Embedding cache (dense embeddings, re-ingest of the same text into another project)", "",
        f"- first ingest: {cache['first_ingest']['hits']} hits / {cache['first_ingest']['misses']} misses "
        f"({cache['texts_embedded_first']} texts sent to the model)",
        f"- re-ingest: {cache['re_ingest']['hits']} hits / {cache['re_ingest']['misses']} misses, hit rate "
        f"**{cache['re_ingest_hit_rate']}** ({cache['texts_embedded_on_re_ingest']} texts sent to the model)",
        "- the default sparse embeddings are computed locally and never cached (a DynamoDB round trip costs more)",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args(argv)
    results = measure(args.runs)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "ingest_latency.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "ingest_latency.md").write_text(markdown(results))
    print(markdown(results))
    return 0 if all(value == "PASS" for value in results["verdicts"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
