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

import uuid
from typing import Any

from bench.lambda_path import Client, latency_main
from bench.stats import judged, percentiles
from sgd_local.runtime import LocalRuntime

TARGETS_MS = {"sync_1080_png_count1": 250.0, "cached_replay": 30.0, "count6_1080_png": 1200.0}
LABELS = {"sync_1080_png_count1": "Sync render, 1080x1080 PNG, count 1",
          "cached_replay": "Cached replay", "count6_1080_png": "Count-6 render, 1080x1080 PNG"}


BENCH_CANON = {"palette_hex": ["#0B3D2E", "#F2E8CF", "#E07A5F", "#FFFFFF"], "forbidden_hex": [],
               "fonts": ["Liberation Sans"], "voice": {"tone": "warm"}, "logo_safe_zone_pct": 8}


def with_canon(runtime: LocalRuntime) -> None:
    """Renders are measured against a brand canon, as the product is used (written as the canon pipeline does)."""
    from sgd.tenancy import Tenant

    from bench.support.seeds import runtime_adapters, seed_canon

    seed_canon(runtime_adapters(runtime), Tenant("bench", "bench"), BENCH_CANON)


def body(instruction: str, count: int = 1) -> dict[str, Any]:
    return {"project_id": "bench", "prompts": {"task": "create", "instruction": instruction},
            "outputs": {"count": count, "format": "png", "dimensions": "1080x1080"}}


def measure(runtime: LocalRuntime, client: Client, samples: int, warmup: int) -> dict[str, Any]:
    with_canon(runtime)
    def fresh(count: int = 1) -> dict[str, Any]:
        return body(f'Autumn launch post "Fresh roast no. {uuid.uuid4().hex[:6]}" with a call to action', count)

    for _ in range(warmup):
        client.post("/render", fresh())
        client.post("/render", fresh(6))
    sync, replay, six = [], [], []
    for _ in range(samples):
        request = fresh()
        elapsed, first = client.post("/render", request)
        assert first["audit"]["cache"] == "miss"
        sync.append(elapsed)
        elapsed, again = client.post("/render", request)
        assert again["audit"]["cache"] == "hit"
        assert again["render_id"] == first["render_id"]
        replay.append(elapsed)
        elapsed, result = client.post("/render", fresh(6))
        assert len(result["assets"]) == 6
        six.append(elapsed)
    results = {"sync_1080_png_count1": percentiles(sync), "cached_replay": percentiles(replay),
               "count6_1080_png": percentiles(six)}
    return judged(results, TARGETS_MS)


def main(argv: list[str] | None = None) -> int:
    return latency_main(argv, name="render_latency", doc=__doc__, title="Render latency", labels=LABELS,
                        measure=measure)


if __name__ == "__main__":
    raise SystemExit(main())
