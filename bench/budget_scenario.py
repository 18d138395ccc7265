"""Money under concurrency: 20 renders at once against an org budget that fits 4, through the local runtime with a
provider key, against the loopback fake OpenRouter (bench/support).

    python -m bench.budget_scenario [--renders 20] [--fits 4] [--out bench/results]

Each render reserves its worst case (plan, imagery and the repair re-plans at the policy's caps) before its first
paid call, so a render the budget cannot hold is refused (429) before any provider call. Reported per variant:
renders served and refused, provider calls made by refused renders (target 0), the spend against the limit, and
what is still reserved afterwards (target 0). The over-cap variant has the image provider bill $0.50 against its
$0.08 cap: the first such bill halts the org's calls (429 budget_halted), and the overspend is what the calls in
flight at that moment were billed beyond their caps.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.support.fake_openrouter import FakeOpenRouter, RecordedRequest, Reply

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
OVER_CAP_IMAGE_USD = 0.50
IMAGE_USD = 0.04
PLAN = {"goal": "A square launch post with the headline", "ops": ["text_overlay"],
        "safety": {"respect_logo_safe_zone": True, "palette_only": True},
        "layout": {"template": "hero", "headline": "Fresh roast", "cta": "Order now", "logo_position": "none"}}
_MARK = re.compile(r"render number (\d+)")


def worst_case_usd(runtime: Any, count: int) -> float:
    """One render's hold, as the render function computes it (sgd.render.pipeline.RenderPipeline.model_calls)."""
    from sgd.critique.policy import load_critique_policy
    from sgd.model_gateway.policy import load_policy

    policy, critique = load_policy(), load_critique_policy()
    calls = {"planner": 1 + (count * critique.max_repair_attempts if critique.auto_repair_default else 0),
             "image": 1}
    return round(sum(policy.tasks[task].max_cost_usd * n for task, n in calls.items()), 6)  # type: ignore[index]


def _render_of(request: RecordedRequest) -> int | None:
    found = _MARK.search(json.dumps(request.body.get("messages")))
    return int(found.group(1)) if found else None


def _post(runtime: Any, token: str, path: str, body: Any = None, method: str = "POST") -> tuple[int, Any]:
    """One request through the runtime's API Gateway (route, JWT authorizer, Lambda invoke), as a client sends it."""
    from sgd_local.apigw import HttpRequest

    raw = json.dumps(body).encode() if body is not None else b""
    path, _, query = path.partition("?")
    response = runtime.handle_http(HttpRequest(method, path, query, {
        "authorization": f"Bearer {token}", "content-type": "application/json"}, raw))
    return response.status, json.loads(response.body or b"null")


def run_variant(*, renders: int, fits: int, over_cap: bool) -> dict[str, Any]:
    import asyncio

    from PIL import Image
    from sgd.model_gateway.budget import UsageAccounting

    from bench.support.seeds import lift_rate_limits, runtime_adapters
    from sgd_local.runtime import LocalRuntime, RuntimeOptions

    picture = io.BytesIO()
    Image.new("RGB", (96, 96), "#E07A5F").save(picture, "PNG")
    image_cost = OVER_CAP_IMAGE_USD if over_cap else IMAGE_USD

    def answer(request: RecordedRequest) -> Reply:
        number = _render_of(request)
        if "modalities" in request.body:
            return Reply.image(picture.getvalue(), cost=image_cost).after(0.05)
        # The plan names its render, so the image request (its imagery prompt) can be attributed too.
        layout = PLAN["layout"] | {"imagery_prompt": f"Coffee beans, render number {number}"}
        return Reply.json(PLAN | {"layout": layout}, cost=0.001).after(0.05)

    with FakeOpenRouter() as fake, tempfile.TemporaryDirectory(prefix="sgd-budget-") as data_dir:
        fake.respond_with(answer)
        options = RuntimeOptions(data_dir=Path(data_dir), persist=False, throttle=False, environment={
            "OPENROUTER_API_KEY": "sk-bench", "OPENROUTER_BASE_URL": fake.base_url})
        with LocalRuntime(options, root=ROOT) as runtime:
            org = f"bench{uuid.uuid4().hex[:10]}"
            token = runtime.token(org)
            lift_rate_limits(runtime, org)  # the renders arrive at once: only the budget may refuse them here
            hold = worst_case_usd(runtime, 1)
            limit = round(fits * hold, 6)
            accounting = UsageAccounting.over(runtime_adapters(runtime).usage_table, daily_limit_usd=limit)
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(accounting.set_org_limit(org, limit))
            finally:
                loop.close()

            def render(number: int) -> tuple[int, int, dict[str, Any]]:
                body = {"project_id": "budget", "outputs": {"count": 1, "dimensions": "320x320"},
                        "prompts": {"task": "create", "instruction": f"Spring sale poster, render number {number}"}}
                status, answer_body = _post(runtime, token, "/render", body)
                return number, status, answer_body

            with ThreadPoolExecutor(max_workers=renders) as pool:
                outcomes = list(pool.map(render, range(renders)))
            status, usage = _post(runtime, token, "/usage", method="GET")
            requests = fake.requests
    refused = {number for number, code, _ in outcomes if code == 429}
    served = {number for number, code, _ in outcomes if code == 200}
    calls_by_render: dict[int, int] = {}
    for request in requests:
        number = _render_of(request)
        if number is not None:
            calls_by_render[number] = calls_by_render.get(number, 0) + 1
    budget = usage["budget"] if status == 200 else {}
    return {
        "variant": "over_cap" if over_cap else "within_caps", "renders": renders, "fits": fits,
        "render_hold_usd": hold, "limit_usd": limit, "image_billed_usd": image_cost,
        "served": len(served), "refused": len(refused),
        "other_statuses": sorted({code for _, code, _ in outcomes if code not in (200, 429)}),
        "refusal_codes": sorted({(body.get("error") or {}).get("code") for _, code, body in outcomes if code == 429}),
        "provider_calls": len(requests),
        "provider_calls_by_refused_renders": sum(calls_by_render.get(number, 0) for number in refused),
        "unattributed_provider_calls": sum(1 for request in requests if _render_of(request) is None),
        "spent_usd": budget.get("spent_usd"), "reserved_usd_after": budget.get("reserved_usd"),
        "over_cap_usd": budget.get("over_cap_usd"), "halted": budget.get("halted"),
        "spent_within_limit": budget.get("spent_usd", 0) <= limit + 1e-9,
    }


def markdown(results: list[dict[str, Any]]) -> str:
    lines = ["# Budget under concurrency: renders against a budget that fits a few", "",
             "`python -m bench.budget_scenario` (local runtime, provider key, loopback fake OpenRouter)", "",
             "| variant | renders | fits | hold per render $ | limit $ | served | refused (codes) | provider calls | "
             "calls by refused renders | spent $ | over cap $ | reserved after $ | spent <= limit |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| {r['variant']} | {r['renders']} | {r['fits']} | {r['render_hold_usd']} | {r['limit_usd']} | "
            f"{r['served']} | {r['refused']} ({', '.join(r['refusal_codes'])}) | {r['provider_calls']} | "
            f"{r['provider_calls_by_refused_renders']} | {r['spent_usd']} | {r['over_cap_usd']} | "
            f"{r['reserved_usd_after']} | {r['spent_within_limit']} |")
    lines += ["", "Target: 0 provider calls by refused renders and spend within the limit while providers bill within "
              "the caps; with an over-cap bill, the org's calls stop at the first one (budget_halted).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--fits", type=int, default=4)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    results = [run_variant(renders=args.renders, fits=args.fits, over_cap=False),
               run_variant(renders=args.renders, fits=args.fits, over_cap=True)]
    print(markdown(results))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "budget_scenario.json").write_text(json.dumps(results, indent=2) + "\n")
        (args.out / "budget_scenario.md").write_text(markdown(results))
    within = results[0]
    return 0 if within["provider_calls_by_refused_renders"] == 0 and within["spent_within_limit"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
