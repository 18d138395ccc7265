"""Cost per render: measured work times list prices.

    python -m bench.cost_per_render [--samples 10] [--out bench/results]

Runs renders through the render function's real handler (Powertools -> Mangum -> FastAPI) over the local
runtime's moto server, counting every AWS call the function makes (a botocore before-call hook) and timing the
handler (the billed duration); the memory size comes from template.yaml. Then prices them:

- Lambda requests and GB-seconds (x86, us-east-1), and SnapStart's restore charge spread over the renders an
  execution environment serves (RENDERS_PER_ENVIRONMENT) and its caching charge over MONTHLY_RENDERS;
- the HTTP API request;
- DynamoDB on-demand read and write request units (1 RRU per item read of up to 4 KB, strongly consistent; 1 WRU
  per KB written; an UpdateItem counts 1 WRU: every item SGD updates is under 1 KB);
- S3 PUT and GET requests (presigned URLs cost nothing until the client fetches them: not counted);
- the default model policy's planner and image calls at the policy's own price table
  (policies/openrouter_policy.json), with the token counts stated in TOKENS.

For count 1 and count 6: one planner call and one image call serve the whole request (the variations share the
imagery), so the model cost hardly changes with the count. A measurement, not a gate.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PRICES = {  # us-east-1 list prices, USD
    "lambda_gb_second": 0.0000166667, "lambda_request": 0.20 / 1e6,
    "snapstart_restore_gb": 0.0001397998, "snapstart_cache_gb_second": 0.0000015046,
    "http_api_request": 1.00 / 1e6,
    "dynamodb_wru": 0.625 / 1e6, "dynamodb_rru": 0.125 / 1e6,
    "s3_put": 0.005 / 1000, "s3_get": 0.0004 / 1000,
}
RENDERS_PER_ENVIRONMENT = 100  # renders one restored execution environment serves before Lambda recycles it
MONTHLY_RENDERS = 100_000  # spreads the fixed caching charge of the four live snapshots
TOKENS = {"planner": {"input": 1500, "output": 600},  # a planner prompt with a canon; a layout plan
          "image": {"input": 300, "output": 1290}}  # an imagery prompt; one image (1290 output tokens)
REFERENCE_USD = {"SGD's target per render": 0.06, "template APIs per image, low": 0.015,
                 "template APIs per image, high": 0.05}

READS = {"GetItem", "BatchGetItem", "Query"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


class CountingClients:
    """The runtime's boto3 clients, with a hook that counts each call (and what it reads or writes)."""
    # provide-client-params fires once per call, before validation, with the caller's parameters.

    def __init__(self, source: Any) -> None:
        self._source = source
        self._hooked: set[str] = set()
        self.calls: Counter[str] = Counter()
        self.rru = 0
        self.wru = 0

    def __call__(self, service: str) -> Any:
        client = self._source(service)
        if service not in self._hooked:
            client.meta.events.register("provide-client-params", self._count)  # the call's own parameters
            self._hooked.add(service)
        return client

    def _count(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        name = f"{model.service_model.service_name}:{model.name}"
        self.calls[name] += 1
        if model.name == "BatchGetItem":
            self.rru += sum(len(table["Keys"]) for table in params.get("RequestItems", {}).values())
        elif model.name in ("GetItem", "Query"):
            self.rru += 1
        elif model.name == "PutItem":
            self.wru += max(1, math.ceil(len(json.dumps(params.get("Item", {}), default=str)) / 1024))
        elif model.name in WRITES:
            self.wru += 1

    def reset(self) -> None:
        self.calls.clear()
        self.rru = self.wru = 0


def measure(samples: int) -> dict[str, Any]:
    from sgd.composition import Adapters, render_function
    from sgd.settings import Settings
    from sgd.snapstart import event

    from bench.render_latency import body, with_canon
    from sgd_local.runtime import LocalRuntime, RuntimeOptions

    with (tempfile.TemporaryDirectory(prefix="sgd-cost-") as data_dir,
          LocalRuntime(RuntimeOptions(data_dir=Path(data_dir), persist=False, snap_start=False, throttle=False),
                       root=ROOT) as runtime):
        with_canon(runtime)
        spec = runtime.stack.functions["RenderFunction"]
        environment = runtime.function_environment("RenderFunction")
        for name in ("POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_TRACE_DISABLED"):
            os.environ.setdefault(name, environment[name])  # what Powertools reads in the function's process
        settings = Settings.model_validate(environment)
        clients = CountingClients(runtime.aws.client)
        handler = render_function(settings, Adapters.from_settings(settings, clients=clients)).handler

        def render(count: int) -> dict[str, Any]:
            instruction = f'Autumn launch post "Fresh roast no. {uuid.uuid4().hex[:6]}" with a call to action'
            request = event("POST", "/render", body(instruction, count), org="bench")
            clients.reset()
            started = time.perf_counter()
            result = handler(request, _Context(spec.timeout_s))
            elapsed = (time.perf_counter() - started) * 1000
            assert result["statusCode"] == 200, result["body"][:500]
            return {"ms": elapsed, "calls": dict(clients.calls), "rru": clients.rru, "wru": clients.wru}

        render(1)  # warm-up: the first render pays for imports and clients
        render(6)
        results = {}
        for count in (1, 6):
            runs = [render(count) for _ in range(samples)]
            results[f"count{count}"] = {"duration_ms_p50": round(statistics.median(r["ms"] for r in runs), 1),
                                        "calls": runs[-1]["calls"], "rru": runs[-1]["rru"], "wru": runs[-1]["wru"]}
        return {"memory_mb": spec.memory_mb, "samples": samples, "renders": results}


class _Context:
    def __init__(self, timeout_s: int) -> None:
        self.function_name = "RenderFunction"
        self.memory_limit_in_mb = 1024
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:RenderFunction"
        self._deadline = time.time() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def price(measured: dict[str, Any]) -> dict[str, Any]:
    policy = json.loads((ROOT / "policies" / "openrouter_policy.json").read_text())
    table = policy["prices_usd_per_million_tokens"]
    gb = measured["memory_mb"] / 1024
    model_lines = {}
    for task in ("planner", "image"):
        model = policy["tasks"][task]["primary"]
        tokens = TOKENS[task]
        model_lines[task] = {"model": model, "tokens": tokens, "usd": (
            tokens["input"] * table[model]["input"] + tokens["output"] * table[model]["output"]) / 1e6}
    model_usd = sum(line["usd"] for line in model_lines.values())
    priced: dict[str, Any] = {}
    for name, render in measured["renders"].items():
        calls = render["calls"]
        s3_puts = sum(n for call, n in calls.items() if call in ("s3:PutObject",))
        s3_gets = sum(n for call, n in calls.items() if call in ("s3:GetObject", "s3:HeadObject"))
        lines = {
            "Lambda duration": math.ceil(render["duration_ms_p50"]) / 1000 * gb * PRICES["lambda_gb_second"],
            "Lambda request": PRICES["lambda_request"],
            "SnapStart restore (per render)": gb * PRICES["snapstart_restore_gb"] / RENDERS_PER_ENVIRONMENT,
            "SnapStart caching (per render)": 4 * gb * PRICES["snapstart_cache_gb_second"] * 30 * 86400
            / MONTHLY_RENDERS,
            "HTTP API request": PRICES["http_api_request"],
            "DynamoDB reads": render["rru"] * PRICES["dynamodb_rru"],
            "DynamoDB writes": render["wru"] * PRICES["dynamodb_wru"],
            "S3 PUT": s3_puts * PRICES["s3_put"],
            "S3 GET": s3_gets * PRICES["s3_get"],
        }
        offline = sum(lines.values())
        priced[name] = {"lines_usd": lines, "offline_usd": offline, "model_usd": model_usd,
                        "with_model_usd": offline + model_usd, "s3_puts": s3_puts, "s3_gets": s3_gets,
                        "rru": render["rru"], "wru": render["wru"], "duration_ms_p50": render["duration_ms_p50"],
                        "image_share": model_lines["image"]["usd"] / (offline + model_usd)}
    return {"prices": PRICES, "model_calls": model_lines, "renders": priced,
            "assumptions": {"renders_per_environment": RENDERS_PER_ENVIRONMENT, "monthly_renders": MONTHLY_RENDERS,
                            "tokens": TOKENS}, "reference_usd": REFERENCE_USD}


def markdown(measured: dict[str, Any], priced: dict[str, Any]) -> str:
    renders = priced["renders"]
    lines = ["# Cost per render (`python -m bench.cost_per_render`)", "",
             f"RenderFunction at {measured['memory_mb']} MB (template.yaml); durations are the handler's p50 over "
             f"{measured['samples']} warm renders (1080x1080 PNG, local engine) on this machine; us-east-1 list "
             "prices.", "",
             "| Line | Count 1 | Count 6 |", "|---|---|---|"]
    for line in renders["count1"]["lines_usd"]:
        lines.append(f"| {line} | ${renders['count1']['lines_usd'][line]:.8f} | "
                     f"${renders['count6']['lines_usd'][line]:.8f} |")
    lines += [
        f"| **Offline render (local engine)** | **${renders['count1']['offline_usd']:.6f}** | "
        f"**${renders['count6']['offline_usd']:.6f}** |",
        *(f"| {task} call: {call['model']}, {call['tokens']['input']} in / {call['tokens']['output']} out tokens | "
          f"${call['usd']:.5f} | ${call['usd']:.5f} |" for task, call in priced["model_calls"].items()),
        f"| **With the default model policy** | **${renders['count1']['with_model_usd']:.4f}** | "
        f"**${renders['count6']['with_model_usd']:.4f}** (${renders['count6']['with_model_usd'] / 6:.4f} per image) |",
        "",
        "What was counted per render: " + "; ".join(
            f"{name}: {render['duration_ms_p50']} ms, {render['rru']} RRU, {render['wru']} WRU, "
            f"{render['s3_puts']} S3 PUT, {render['s3_gets']} S3 GET" for name, render in renders.items()) + ".",
        "",
        "Against: " + ", ".join(f"{label} ${usd}" for label, usd in priced["reference_usd"].items())
        + f". The image call is {renders['count1']['image_share']:.0%} of a count-1 render with the model policy.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cost_per_render", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    measured = measure(args.samples)
    priced = price(measured)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cost_per_render.json").write_text(json.dumps({"measured": measured, "priced": priced},
                                                             indent=2) + "\n")
    text = markdown(measured, priced)
    (args.out / "cost_per_render.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
