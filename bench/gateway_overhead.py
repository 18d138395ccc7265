"""What the model gateway adds per call, and how the org budget holds under concurrency.

    python -m bench.gateway_overhead [--calls 300] [--json out.json]

Against the loopback fake OpenRouter answering at zero latency, each round makes the same chat-completions
request twice: once bare (httpx, nothing else) and once through the gateway's planner task. The overhead is
the difference: building messages, the output cap, JSON parsing and guardrail validation of the answer, cost,
the log line and metrics, and (second case) the budget reserve/settle and the usage-ledger write on DynamoDB.
DynamoDB here is the embedded moto server on loopback; in AWS each of those three writes is a network round
trip of a few milliseconds instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import io
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

for _name, _value in {"POWERTOOLS_SERVICE_NAME": "bench", "POWERTOOLS_METRICS_NAMESPACE": "SGDBench",
                      "AWS_DEFAULT_REGION": "us-east-1"}.items():
    os.environ.setdefault(_name, _value)

import httpx  # noqa: E402
from sgd.adapters.clock import Deadline  # noqa: E402
from sgd.adapters.tables import DynamoItemTable  # noqa: E402
from sgd.model_gateway.budget import Reservation, UsageAccounting  # noqa: E402
from sgd.model_gateway.openrouter import OpenRouterClient  # noqa: E402
from sgd.model_gateway.policy import GatewayPolicy, load_policy  # noqa: E402
from sgd.model_gateway.prompts import planner_content, structured_request  # noqa: E402
from sgd.model_gateway.routing import OpenRouterGateway  # noqa: E402
from sgd.observability import logger  # noqa: E402
from sgd.resources import load_json  # noqa: E402
from sgd.tenancy import Tenant  # noqa: E402

from bench.stats import percentiles  # noqa: E402
from bench.support.fake_openrouter import FakeOpenRouter, Reply  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PLAN = {"goal": "Announce the spring sale on a square post", "ops": ["text_overlay"],
        "safety": {"respect_logo_safe_zone": True, "palette_only": True},
        "layout": {"template": "hero", "headline": "Fresh Roast Friday", "background_hex": "#0B3D2E",
                   "text_hex": "#F2E8CF", "logo_position": "top-right"}}
CANON = {"palette_hex": ["#0B3D2E", "#F2E8CF", "#E07A5F"], "fonts": ["Inter"], "voice": {"tone": "warm"}}
INSTRUCTION = 'Square post for the spring sale, headline "Fresh Roast Friday", CTA "Order now"'
REQUEST = {"outputs": {"count": 1, "format": "png", "dimensions": "1080x1080"}}
WARMUP = 20
CONCURRENT_CALLS, CALLS_THE_BUDGET_FITS = 20, 5


class InMemoryAccounting:
    """The accounting interface with no storage, to separate the gateway's own cost from DynamoDB's."""

    async def reserve(self, tenant: Tenant, usd: float) -> Reservation:
        return Reservation(tenant.org, "today", round(usd * 1e6), limit_micros=10**12)

    async def draw(self, tenant: Tenant, hold: Any, usd: float) -> Reservation:
        return await self.reserve(tenant, usd)

    async def settle(self, reservation: Reservation, cost_usd: float, *, cap_usd: float | None = None) -> None:
        return None

    async def release(self, reservation: Reservation) -> None:
        return None

    async def record(self, tenant: Tenant, task: str, calls: list[dict[str, Any]], cost_usd: float) -> None:
        return None


async def _overhead(fake: FakeOpenRouter, accounting: Any, calls: int) -> dict[str, Any]:
    policy = load_policy()
    gateway = OpenRouterGateway(policy, OpenRouterClient(fake.base_url, lambda: "sk-bench"), accounting)
    tenant = Tenant(f"bench{uuid.uuid4().hex[:8]}", "overhead")
    messages, response_format = structured_request("planner", planner_content(INSTRUCTION, CANON, REQUEST))
    body = {"model": policy.tasks["planner"].primary, "messages": messages, "response_format": response_format,
            "max_tokens": 1200}
    bare_ms: list[float] = []
    gateway_ms: list[float] = []
    async with httpx.AsyncClient(base_url=fake.base_url, trust_env=False) as bare:
        for index in range(WARMUP + calls):
            started = time.perf_counter()
            response = await bare.post("/chat/completions", json=body, headers={"Authorization": "Bearer sk-bench"})
            json.loads(response.json()["choices"][0]["message"]["content"])
            bare_elapsed = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            await gateway.plan(tenant=tenant, instruction=INSTRUCTION, canon=CANON, request=REQUEST,
                               deadline=Deadline(20_000))
            gateway_elapsed = (time.perf_counter() - started) * 1000
            if index >= WARMUP:
                bare_ms.append(bare_elapsed)
                gateway_ms.append(gateway_elapsed)
    overhead = [through - direct for through, direct in zip(gateway_ms, bare_ms, strict=True)]
    return {"bare_ms": percentiles(bare_ms), "gateway_ms": percentiles(gateway_ms),
            "overhead_ms": percentiles(overhead)}


async def _budget_under_concurrency(fake: FakeOpenRouter, usage_table: Any) -> dict[str, Any]:
    document = copy.deepcopy(load_json("policies", "openrouter_policy.json"))
    cap = document["tasks"]["planner"]["max_cost_usd"]
    document["budgets"]["org_daily_usd"] = CALLS_THE_BUDGET_FITS * cap
    policy = GatewayPolicy.from_document(document)
    accounting = UsageAccounting.over(usage_table, daily_limit_usd=policy.org_daily_budget_usd,
                                      thresholds=policy.budget_thresholds)
    gateway = OpenRouterGateway(policy, OpenRouterClient(fake.base_url, lambda: "sk-bench"), accounting)
    tenant = Tenant(f"bench{uuid.uuid4().hex[:8]}", "budget")
    fake.reset()
    fake.set_default(Reply.json(PLAN, cost=cap).after(0.05))
    results = await asyncio.gather(*[
        gateway.plan(tenant=tenant, instruction=INSTRUCTION, canon=CANON, request=REQUEST, deadline=Deadline(20_000))
        for _ in range(CONCURRENT_CALLS)], return_exceptions=True)
    refused = [result for result in results if isinstance(result, Exception)]
    budget = await accounting.status(tenant.org)
    return {
        "concurrent_calls": CONCURRENT_CALLS, "limit_usd": budget.limit_usd, "cost_per_call_usd": cap,
        "served": CONCURRENT_CALLS - len(refused),
        "refused": sorted({f"{getattr(error, 'status_code', '?')} {getattr(error, 'code', type(error).__name__)}"
                           for error in refused}),
        "refused_count": len(refused), "provider_requests": len(fake.requests),
        "spent_usd": budget.spent_usd, "reserved_after_usd": budget.reserved_usd,
        "verdict": "PASS" if budget.spent_usd <= budget.limit_usd + 1e-9 else "FAIL",
    }


def measure(calls: int = 300) -> dict[str, Any]:
    from sgd_local.aws import LocalAws
    from sgd_local.template import read_stack

    loop = asyncio.new_event_loop()
    quiet = io.StringIO()
    previous_stream = logger.registered_handler.setStream(quiet)  # the log lines are still formatted: real cost
    try:
        with FakeOpenRouter(default=Reply.json(PLAN)) as fake, tempfile.TemporaryDirectory() as data_dir, \
                contextlib.redirect_stdout(quiet):
            aws = LocalAws(read_stack(ROOT), Path(data_dir)).start()
            try:
                aws.provision()
                usage_table = DynamoItemTable("UsageTable", aws.client)
                in_memory = loop.run_until_complete(_overhead(fake, InMemoryAccounting(), calls))
                with_dynamodb = loop.run_until_complete(_overhead(fake, UsageAccounting.over(
                    usage_table, daily_limit_usd=1e6), calls))
                budget = loop.run_until_complete(_budget_under_concurrency(fake, usage_table))
            finally:
                aws.stop()
    finally:
        logger.registered_handler.setStream(previous_stream)
        loop.close()
    return {"calls": calls, "gateway_only": in_memory, "with_budget_and_ledger": with_dynamodb, "budget": budget,
            "verdict": budget["verdict"]}


def print_report(results: dict[str, Any]) -> None:
    for label, key in (("gateway only", "gateway_only"), ("with budget + ledger (moto)", "with_budget_and_ledger")):
        case = results[key]
        print(f"model gateway overhead, {label}: p50 {case['overhead_ms']['p50']:.2f} ms, "
              f"p95 {case['overhead_ms']['p95']:.2f} ms (bare call p50 {case['bare_ms']['p50']:.2f} ms, "
              f"{results['calls']} calls)")
    budget = results["budget"]
    print(f"budget: {budget['concurrent_calls']} concurrent calls, limit ${budget['limit_usd']:.2f} "
          f"(fits {CALLS_THE_BUDGET_FITS}): served {budget['served']}, refused {budget['refused_count']} "
          f"{budget['refused']}, provider requests {budget['provider_requests']}, spent ${budget['spent_usd']:.2f}"
          f" -> {budget['verdict']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gateway_overhead", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    results = measure(args.calls)
    print_report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
