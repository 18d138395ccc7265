"""Render latency through the full Lambda path, with the offline design engine.

    python -m bench.render_latency [--samples 25] [--warmup 3] [--out bench/results]

Each sample is one HTTP request against a project with a brand canon, as `sgd serve` handles it: an API Gateway
v2 event, the emulated JWT authorizer, a warm RenderFunction worker process (Powertools -> Mangum -> FastAPI),
and the embedded moto server for S3 and DynamoDB. Three measurements, each after warm-up:

- sync render: a new 1080x1080 PNG, count 1 (a fresh instruction per sample, so every one is a cache miss);
- cached replay: the same request again (plan and assets from the cache table, fresh presigned URLs);
- count-6 render: six 1080x1080 PNG variations (cache misses), rendered concurrently.

Writes render_latency.json and render_latency.md to --out. A measurement, not a gate: exit code 0 either way.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.stats import percentiles
from sgd_local.apigw import HttpRequest
from sgd_local.runtime import LocalRuntime, RuntimeOptions

ROOT = Path(__file__).resolve().parents[1]
TARGETS_MS = {"sync_1080_png_count1": 250.0, "cached_replay": 30.0, "count6_1080_png": 1200.0}
LABELS = {"sync_1080_png_count1": "Sync render, 1080x1080 PNG, count 1",
          "cached_replay": "Cached replay", "count6_1080_png": "Count-6 render, 1080x1080 PNG"}


class Client:
    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime
        self.token = runtime.token("bench")

    def render(self, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        request = HttpRequest("POST", "/render", "", {"content-type": "application/json",
                                                      "authorization": f"Bearer {self.token}"},
                              json.dumps(body).encode())
        started = time.perf_counter()
        response = self.runtime.handle_http(request)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"render failed: {response.status} {response.body[:500]!r}")
        return elapsed, response.json()


BENCH_CANON = {"palette_hex": ["#0B3D2E", "#F2E8CF", "#E07A5F", "#FFFFFF"], "forbidden_hex": [],
               "fonts": ["Liberation Sans"], "voice": {"tone": "warm"}, "logo_safe_zone_pct": 8}


def with_canon(runtime: LocalRuntime) -> None:
    """Renders are measured against a brand canon, as the product is used (written as the canon pipeline does)."""
    from sgd.adapters.tables import DynamoItemTable
    from sgd.canon.store import CanonStore
    from sgd.tenancy import Tenant

    client = runtime.aws.client("dynamodb")
    store = CanonStore(DynamoItemTable("CanonTable", client), DynamoItemTable("CacheTable", client))
    store.create(Tenant("bench", "bench"), BENCH_CANON, provenance=[], source="manual", created_by="bench")


def body(instruction: str, count: int = 1) -> dict[str, Any]:
    return {"project_id": "bench", "prompts": {"task": "create", "instruction": instruction},
            "outputs": {"count": count, "format": "png", "dimensions": "1080x1080"}}


def measure(client: Client, samples: int, warmup: int) -> dict[str, Any]:
    def fresh(count: int = 1) -> dict[str, Any]:
        return body(f'Autumn launch post "Fresh roast no. {uuid.uuid4().hex[:6]}" with a call to action', count)

    for _ in range(warmup):
        client.render(fresh())
        client.render(fresh(6))
    sync, replay, six = [], [], []
    for _ in range(samples):
        request = fresh()
        elapsed, first = client.render(request)
        assert first["audit"]["cache"] == "miss"
        sync.append(elapsed)
        elapsed, again = client.render(request)
        assert again["audit"]["cache"] == "hit"
        assert again["render_id"] == first["render_id"]
        replay.append(elapsed)
        elapsed, result = client.render(fresh(6))
        assert len(result["assets"]) == 6
        six.append(elapsed)
    results = {"sync_1080_png_count1": percentiles(sync), "cached_replay": percentiles(replay),
               "count6_1080_png": percentiles(six)}
    for name, target in TARGETS_MS.items():
        results[name] |= {"target_p95_ms": target, "met": results[name]["p95"] <= target}
    return results


def markdown(results: dict[str, Any], samples: int) -> str:
    lines = [f"# Render latency ({samples} samples each, after warm-up; full Lambda path, local engine)", "",
             "| Measurement | Target p95 | p50 | p95 | max | Met |", "|---|---|---|---|---|---|"]
    for name, label in LABELS.items():
        row = results[name]
        lines.append(f"| {label} | \u2264 {row['target_p95_ms']:g} ms | {row['p50']} ms | {row['p95']} ms | "
                     f"{row['max']} ms | {'yes' if row['met'] else 'no'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.render_latency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=25)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    with (tempfile.TemporaryDirectory(prefix="sgd-bench-") as data_dir,
          LocalRuntime(RuntimeOptions(data_dir=Path(data_dir), persist=False), root=ROOT) as runtime):
        with_canon(runtime)
        results = measure(Client(runtime), args.samples, args.warmup)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "render_latency.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "render_latency.md").write_text(markdown(results, args.samples))
    sys.stdout.write(markdown(results, args.samples))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
