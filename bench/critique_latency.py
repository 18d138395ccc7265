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

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.stats import percentiles
from sgd_local.apigw import HttpRequest
from sgd_local.runtime import LocalRuntime, RuntimeOptions

ROOT = Path(__file__).resolve().parents[1]
KIT = ROOT / "examples" / "brands" / "northwind-coffee"
PROJECT = "bench"
TARGETS_MS = {"one_render_1080": 150.0, "one_external_1080": 150.0, "ten_assets": 1000.0}
LABELS = {"one_render_1080": "Critique, 1 SGD render 1080x1080", "one_external_1080":
          "Critique, 1 external design 1080x1080 (detection)", "ten_assets": "Critique, 10 assets"}
EXTERNAL = ("off_palette_and_logo_edge_1080x1080.png", "on_brand_1080x1080.png", "low_contrast_1200x628.png",
            "logo_edge_1200x628.png", "off_palette_1080x1080.png")


class Client:
    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime
        self.token = runtime.token("bench")

    def post(self, path: str, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        request = HttpRequest("POST", path, "", {"content-type": "application/json",
                                                 "authorization": f"Bearer {self.token}"}, json.dumps(body).encode())
        started = time.perf_counter()
        response = self.runtime.handle_http(request)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"{path} failed: {response.status} {response.body[:500]!r}")
        return elapsed, response.json()


def seed_project(runtime: LocalRuntime) -> list[str]:
    """The canon with its logo, and the external designs as ingest leaves admitted images (object + record)."""
    from PIL import Image
    from sgd.adapters.tables import DynamoItemTable
    from sgd.canon.store import CanonStore
    from sgd.tenancy import Tenant

    tenant = Tenant("bench", PROJECT)
    client, s3 = runtime.aws.client("dynamodb"), runtime.aws.client("s3")
    assets = DynamoItemTable("AssetsTable", client)

    def admit(asset_id: str, path: Path, kind: str) -> None:
        key = tenant.area_key("assets", asset_id, path.name)
        s3.put_object(Bucket=runtime.stack.bucket_name, Key=key, Body=path.read_bytes(), ContentType="image/png")
        with Image.open(path) as image:
            size = image.size
        assets.put({"pk": tenant.partition_key, "sk": f"asset#{asset_id}", "asset_id": asset_id, "kind": kind,
                    "key": key, "content_type": "image/png", "format": "png", "status": "admitted",
                    "width": size[0], "height": size[1]})

    admit("brand-logo", KIT / "logo.png", "logo")
    truth = json.loads((KIT / "truth.json").read_text())
    canon = {name: truth[name] for name in ("palette_hex", "forbidden_hex", "fonts", "voice", "logo_safe_zone_pct")}
    store = CanonStore(DynamoItemTable("CanonTable", client), DynamoItemTable("CacheTable", client))
    store.create(tenant, canon | {"logo_asset_id": "brand-logo"}, provenance=[], source="manual", created_by="bench")
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


def measure(client: Client, external: list[str], samples: int, warmup: int) -> dict[str, Any]:
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
    for name, target in TARGETS_MS.items():
        results[name] |= {"target_p95_ms": target, "met": results[name]["p95"] <= target}
    return results


def markdown(results: dict[str, Any], samples: int) -> str:
    lines = [f"# Critique latency ({samples} samples each, after warm-up; full Lambda path, local engine)", "",
             "| Measurement | Target p95 | p50 | p95 | max | Met |", "|---|---|---|---|---|---|"]
    for name, label in LABELS.items():
        row = results[name]
        lines.append(f"| {label} | \u2264 {row['target_p95_ms']:g} ms | {row['p50']} ms | {row['p95']} ms | "
                     f"{row['max']} ms | {'yes' if row['met'] else 'no'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.critique_latency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=25)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    with (tempfile.TemporaryDirectory(prefix="sgd-bench-") as data_dir,
          LocalRuntime(RuntimeOptions(data_dir=Path(data_dir), persist=False), root=ROOT) as runtime):
        external = seed_project(runtime)
        results = measure(Client(runtime), external, args.samples, args.warmup)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "critique_latency.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "critique_latency.md").write_text(markdown(results, args.samples))
    sys.stdout.write(markdown(results, args.samples))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
