"""Critique latency through the full Lambda path, with the offline pixel critic.

    python -m bench.critique_latency [--samples 25] [--warmup 3] [--out bench/results]

Each sample is one POST /critique as `sgd serve` handles it: an API Gateway v2 event, the emulated JWT
authorizer, a warm CritiqueFunction worker (Powertools -> Mangum -> FastAPI) and the embedded moto server for S3
and DynamoDB. Per request the function reads the asset records, the canon and the design files, measures every
design, draws and stores the annotated copy, and presigns it. The project has the Northwind kit's canon and logo.

- one SGD render (1080x1080 PNG, critiqued from its layout metadata);
- one external design (a labelled 1080x1080 image: text and logo are detected, the logo matched at many scales);
- ten assets at once (five renders, five external designs of 1080x1080 and 1200x628).

Writes critique_latency.json and critique_latency.md to --out. A measurement, not a gate: exit code 0 either way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.lambda_path import ROOT, Client, latency_main
from bench.stats import judged, percentiles
from sgd_local.runtime import LocalRuntime

KIT = ROOT / "examples" / "brands" / "northwind-coffee"
PROJECT = "bench"
TARGETS_MS = {"one_render_1080": 150.0, "one_external_1080": 150.0, "ten_assets": 1000.0}
LABELS = {"one_render_1080": "Critique, 1 SGD render 1080x1080", "one_external_1080":
          "Critique, 1 external design 1080x1080 (detection)", "ten_assets": "Critique, 10 assets"}
EXTERNAL = ("off_palette_and_logo_edge_1080x1080.png", "on_brand_1080x1080.png", "low_contrast_1200x628.png",
            "logo_edge_1200x628.png", "off_palette_1080x1080.png")


def seed_project(runtime: LocalRuntime) -> list[str]:
    """The canon with its logo, and the external designs as ingest leaves admitted images (object + record)."""
    from PIL import Image
    from sgd.tenancy import Tenant

    from bench.support.seeds import runtime_adapters, seed_asset, seed_canon

    tenant = Tenant("bench", PROJECT)
    adapters = runtime_adapters(runtime)

    def admit(asset_id: str, path: Path, kind: str) -> None:
        with Image.open(path) as image:
            width, height = image.size
        seed_asset(adapters, tenant, asset_id, path.read_bytes(), kind=kind, filename=path.name, format="png",
                   width=width, height=height)

    admit("brand-logo", KIT / "logo.png", "logo")
    truth = json.loads((KIT / "truth.json").read_text())
    canon = {name: truth[name] for name in ("palette_hex", "forbidden_hex", "fonts", "voice", "logo_safe_zone_pct")}
    seed_canon(adapters, tenant, canon | {"logo_asset_id": "brand-logo"})
    external = []
    for name in EXTERNAL:
        asset_id = "ext-" + name.removesuffix(".png").replace("_", "-")
        admit(asset_id, KIT / "critique" / name, "image")
        external.append(asset_id)
    return external


def renders(client: Client, count: int) -> list[str]:
    _, body = client.post("/render", {"project_id": PROJECT, "prompts": {"task": "create", "instruction":
                          'Instagram post for the Ethiopia roast: "Bright, floral, roasted this morning"'},
                          "outputs": {"count": count, "format": "png", "dimensions": "1080x1080"}})
    return [asset["id"] for asset in body["assets"]]


def measure(runtime: LocalRuntime, client: Client, samples: int, warmup: int) -> dict[str, Any]:
    external = seed_project(runtime)
    rendered = renders(client, 5)

    def critique(asset_ids: list[str]) -> float:
        elapsed, body = client.post("/critique", {"project_id": PROJECT, "asset_ids": asset_ids})
        assert len(body["assets"]) == len(asset_ids)
        return elapsed

    for _ in range(warmup):
        critique(rendered[:1])
        critique(external[:1])
        critique(rendered + external)
    one_render, one_external, ten = [], [], []
    for index in range(samples):
        one_render.append(critique([rendered[index % len(rendered)]]))
        one_external.append(critique([external[0]]))
        ten.append(critique(rendered + external))
    results = {"one_render_1080": percentiles(one_render), "one_external_1080": percentiles(one_external),
               "ten_assets": percentiles(ten)}
    return judged(results, TARGETS_MS)


def main(argv: list[str] | None = None) -> int:
    return latency_main(argv, name="critique_latency", doc=__doc__, title="Critique latency", labels=LABELS,
                        measure=measure)


if __name__ == "__main__":
    raise SystemExit(main())
