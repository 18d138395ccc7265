"""The render pipeline's repair loop in process, with a scripted critic and in-memory adapters: when it re-plans,
what the re-plan is told, which attempt is kept, where it stops; and the pure pieces (the critique's canon, the
summary, plan changes, the pixels measured, auto_repair in the cache key)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
from collections.abc import AsyncIterator, Mapping
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sgd.adapters.clock import Deadline
from sgd.composition import render_service
from sgd.contracts.render import RenderRequest
from sgd.critique.policy import CritiquePolicy, load_critique_policy
from sgd.design.engine import DesignRequest, render_design
from sgd.design.planner import rule_based_plan
from sgd.errors import ProviderError
from sgd.model_gateway.port import CallRecord, GatewayResult, GeneratedImage, Task
from sgd.render.cache import normalised_request, plan_cache_key
from sgd.render.constraints import ResolvedConstraints, resolve_constraints
from sgd.render.pipeline import (
    AssetCritic,
    Prepared,
    critique_canon,
    critique_summary,
    delivered_pixels,
    plan_changes,
)
from sgd.repositories.assets import AssetRecords
from sgd.repositories.canon import CanonVersion
from sgd.settings import Settings
from sgd.tenancy import Tenant

from tests.fakes import memory_adapters

TENANT = Tenant("acme", "spring")
CANON = {"palette_hex": ["#0B3D2E", "#F2E8CF", "#E07A5F"], "forbidden_hex": ["#FF00FF"], "fonts": ["Inter"],
         "voice": {"tone": "warm"}, "logo_safe_zone_pct": 8}
HEADLINE = "Fresh roast, every morning"


def green_picture(size: int = 256) -> bytes:
    rng = np.random.default_rng(3)
    light = np.linspace(0.3, 1.0, size)[np.newaxis, :] + rng.normal(0, 0.03, (size, size))
    picture = np.stack([50 * light, 230 * light, 40 * light], axis=-1)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


class ScriptedGateway:
    """Plans with the rule-based planner (recording each request); paints a green picture."""

    engine = "local"

    def __init__(self, *, fail_replans: bool = False) -> None:
        self.plan_requests: list[dict[str, Any]] = []
        self.fail_replans = fail_replans

    @contextlib.asynccontextmanager
    async def budget(self, tenant: Tenant, calls: Mapping[Task, int]) -> AsyncIterator[float]:
        yield 0.0

    async def plan(self, *, tenant: Tenant, instruction: str, canon: dict[str, Any] | None, request: dict[str, Any],
                   deadline: Deadline) -> GatewayResult:
        self.plan_requests.append(request)
        if self.fail_replans and "repair" in request:
            raise ProviderError("every planner model failed")
        return GatewayResult(rule_based_plan(instruction, canon, request),
                             [CallRecord("local/planner", 1, 1.0, 0, 0.0, "ok")])

    async def generate_image(self, *, tenant: Tenant, prompt: str, width: int, height: int,
                             deadline: Deadline) -> GatewayResult:
        return GatewayResult(GeneratedImage(green_picture(), "image/png", 256, 256),
                             [CallRecord("local/painter", 1, 1.0, 0, 0.0, "ok")])


class ScriptedCritic(AssetCritic):
    """Scores by the imagery treatment (as_is: an off-palette picture), or from a script of scores."""

    def __init__(self, policy: CritiquePolicy, scores: list[float] | None = None) -> None:
        object.__setattr__(self, "canon", {})
        object.__setattr__(self, "policy", policy)
        object.__setattr__(self, "logo", None)
        object.__setattr__(self, "scores", list(scores or []))
        object.__setattr__(self, "measured", [])

    def measure(self, design: Any) -> dict[str, Any]:
        self.measured.append(design.layout)  # type: ignore[attr-defined]
        scripted = self.scores.pop(0) if self.scores else None  # type: ignore[attr-defined]
        by_treatment = 1.0 if design.layout["imagery_treatment"] == "palette" else 0.65
        score = by_treatment if scripted is None else scripted
        violations = [] if score >= 1.0 else [{"kind": "palette", "message": f"#3CC828 covers the picture ({score})",
                                               "severity": "high", "box": design.layout["imagery_box"]}]
        return {"score": score, "passed": score >= self.policy.repair_threshold, "violations": violations,
                "source": "measured"}


def run_render(critic: ScriptedCritic | None, *, auto_repair: bool | None = None, count: int = 1,
               gateway: ScriptedGateway | None = None, remaining_ms: float = 60_000,
               policy: CritiquePolicy | None = None) -> tuple[Any, Any, AssetRecords]:
    """The render function's pipeline as the composition root builds it, over in-memory adapters, with a scripted
    gateway and critic."""
    gateway = gateway or ScriptedGateway()
    adapters = memory_adapters()
    policy = policy or load_critique_policy()
    service = render_service(Settings.from_environment(), adapters, gateway=gateway,  # type: ignore[arg-type]
                             critique_policy=policy, critic_for=lambda *_: critic)
    body = RenderRequest.model_validate({
        "project_id": TENANT.project, "auto_repair": auto_repair,
        "prompts": {"task": "create", "instruction": f'A post saying "{HEADLINE}"'},
        "outputs": {"count": count, "format": "png", "dimensions": "320x320"}})
    request = service.normalised(body)
    canon = CanonVersion(TENANT.project, 1, CANON, [], "2026-12-01T00:00:00+00:00", "test", "manual")
    prepared = Prepared(TENANT, request, canon, resolve_constraints(CANON, None),
                        cache_key=plan_cache_key(TENANT, 1, "local", request, [], policy.fingerprint),
                        cache_looked_up=True)
    outcome = asyncio.run(service.pipeline.run(prepared, deadline=Deadline(remaining_ms), trace_id="t"))
    return outcome.response, gateway, AssetRecords(adapters.assets_table)


def policy_with(**changes: Any) -> CritiquePolicy:
    return dataclasses.replace(load_critique_policy(), **changes)


# -- the loop ---------------------------------------------------------------------------------------------------------
def test_a_failing_asset_is_re_planned_with_its_violations_and_the_repair_is_delivered() -> None:
    critic = ScriptedCritic(policy_with(max_repair_attempts=2))
    response, gateway, assets = run_render(critic)
    assert len(gateway.plan_requests) == 2
    repair = gateway.plan_requests[1]["repair"]
    assert repair["attempt"] == 1
    assert [finding["kind"] for finding in repair["violations"]] == ["palette"]
    repairs = [entry.model_dump() for entry in response.audit.repairs]
    assert [(entry["attempt"], entry["score"], entry["passed"], entry["kept"]) for entry in repairs] == [
        (0, 0.65, False, False), (1, 1.0, True, True)]
    assert repairs[0]["violation_kinds"] == ["palette"]
    assert repairs[0]["changes"] == []
    assert "imagery_treatment: as_is -> palette" in repairs[1]["changes"]
    asset = response.assets[0]
    assert asset.critique is not None
    assert asset.critique.score == 1.0
    assert asset.critique.passed
    assert asset.layout.imagery_treatment == "palette"
    record = assets.get(TENANT, asset.id)
    assert record is not None
    assert record.critique is not None
    assert record.layout is not None
    assert record.critique["score"] == 1.0
    assert record.layout["imagery_treatment"] == "palette"


def test_the_best_scoring_attempt_is_kept_and_the_attempts_are_bounded_by_the_policy() -> None:
    critic = ScriptedCritic(policy_with(max_repair_attempts=2), scores=[0.6, 0.3, 0.55])
    response, gateway, _assets = run_render(critic)
    assert len(gateway.plan_requests) == 3  # the plan and two re-plans, no more
    assert [(entry.attempt, entry.score, entry.kept) for entry in response.audit.repairs] == [
        (0, 0.6, True), (1, 0.3, False), (2, 0.55, False)]
    assert response.assets[0].critique.score == 0.6
    # The second re-plan is told every violation found so far, the latest first.
    messages = [finding["message"] for finding in gateway.plan_requests[2]["repair"]["violations"]]
    assert messages == ["#3CC828 covers the picture (0.3)", "#3CC828 covers the picture (0.6)"]


def test_equal_scores_keep_the_earlier_attempt() -> None:
    critic = ScriptedCritic(policy_with(max_repair_attempts=1), scores=[0.65, 0.65])
    response, _gateway, _assets = run_render(critic)
    assert [entry.kept for entry in response.audit.repairs] == [True, False]


@pytest.mark.parametrize(("auto_repair", "default", "repaired"), [
    (False, True, False), (None, False, False), (None, True, True), (True, False, True)])
def test_auto_repair_follows_the_request_then_the_policy_default(auto_repair: bool | None, default: bool,
                                                                 repaired: bool) -> None:
    policy = policy_with(auto_repair_default=default)
    response, gateway, _assets = run_render(ScriptedCritic(policy), auto_repair=auto_repair, policy=policy)
    assert len(gateway.plan_requests) == (2 if repaired else 1)
    assert bool(response.audit.repairs) is repaired
    assert response.assets[0].critique.passed is repaired


def test_a_passing_asset_is_not_re_planned() -> None:
    response, gateway, _assets = run_render(ScriptedCritic(load_critique_policy(), scores=[0.95, 0.95]), count=2)
    assert len(gateway.plan_requests) == 1
    assert response.audit.repairs == []
    assert [asset.critique.score for asset in response.assets] == [0.95, 0.95]


def test_each_asset_is_repaired_on_its_own() -> None:
    response, gateway, _assets = run_render(ScriptedCritic(load_critique_policy()), count=3)
    assert len(gateway.plan_requests) == 4
    assert sorted({entry.asset_id for entry in response.audit.repairs}) == [asset.id for asset in response.assets]
    assert all(asset.critique.passed for asset in response.assets)


def test_a_failed_re_plan_keeps_the_first_render_and_says_why() -> None:
    response, _gateway, _assets = run_render(ScriptedCritic(load_critique_policy()),
                                             gateway=ScriptedGateway(fail_replans=True))
    assert response.assets[0].critique.score == 0.65
    assert response.audit.repairs == []
    assert any("could not be planned: every planner model failed" in note for note in response.audit.notes)


def test_no_repair_is_started_without_time_left_for_it() -> None:
    response, gateway, _assets = run_render(ScriptedCritic(load_critique_policy()), remaining_ms=2_000)
    assert len(gateway.plan_requests) == 1
    assert any("was not repaired further: too little time left" in note for note in response.audit.notes)


def test_a_critic_failure_delivers_the_design_without_a_summary() -> None:
    class BrokenCritic(ScriptedCritic):
        def measure(self, design: Any) -> dict[str, Any]:
            raise RuntimeError("critic defect")

    response, gateway, _assets = run_render(BrokenCritic(load_critique_policy()))
    assert response.assets[0].critique is None
    assert len(gateway.plan_requests) == 1
    assert any("could not be critiqued" in note for note in response.audit.notes)


# -- the pure pieces ------------------------------------------------------------------------------------------------
def test_the_critique_canon_is_what_the_render_used_plus_the_forbidden_colours() -> None:
    narrowed = resolve_constraints(CANON, {"palette_hex": ["#F2E8CF", "#0B3D2E"], "logo_safe_zone_pct": 12})
    view = critique_canon(CANON, narrowed)
    assert view["palette_hex"] == ["#F2E8CF", "#0B3D2E"]
    assert view["forbidden_hex"] == ["#FF00FF"]
    assert view["logo_safe_zone_pct"] == 12
    neutral = critique_canon(None, ResolvedConstraints(("#FFFFFF", "#111111"), (), 10.0, "neutral"))
    assert neutral["forbidden_hex"] == []
    assert neutral["logo_asset_id"] is None


def test_the_summary_keeps_the_finding_fields_and_judges_against_the_threshold() -> None:
    policy = load_critique_policy()
    measurement = dataclasses.make_dataclass("M", ["score", "violations"])(
        policy.repair_threshold, [{"kind": "contrast", "message": "2.1:1 under 4.5:1", "severity": "low",
                                   "box": (1, 2, 3, 4), "asset_id": "x", "ratio": 2.1}])
    summary = critique_summary(measurement, policy)
    assert summary == {"score": policy.repair_threshold, "passed": True, "source": "measured", "violations": [
        {"kind": "contrast", "message": "2.1:1 under 4.5:1", "severity": "low", "box": [1, 2, 3, 4]}]}


def test_plan_changes_name_each_changed_field() -> None:
    before = {"layout": {"template": "hero", "logo_position": "top-left", "imagery_prompt": "a"}}
    after = {"layout": {"template": "stack", "logo_position": "none", "imagery_prompt": "b",
                        "imagery_treatment": "palette"}}
    assert plan_changes(before, after) == ["template: hero -> stack", "logo_position: top-left -> none",
                                           "imagery_treatment: as_is -> palette", "imagery_prompt changed"]
    assert plan_changes(after, after) == []


@pytest.mark.parametrize(("image_format", "pil_format"), [("png", "PNG"), ("jpg", "JPEG"), ("webp", "WEBP")])
def test_the_pixels_measured_are_the_delivered_ones(image_format: str, pil_format: str) -> None:
    plan = rule_based_plan(f'Post "{HEADLINE}"', CANON, {"outputs": {"dimensions": "300x200"}})
    design = render_design(DesignRequest(plan=plan, width=300, height=200, format=image_format,  # type: ignore
                                         palette=tuple(CANON["palette_hex"]), imagery=green_picture()))
    pixels = delivered_pixels(design)
    assert (pixels.format, pixels.mode, pixels.size) == (pil_format, "RGB", (300, 200))
    assert pixels.tobytes() == Image.open(io.BytesIO(design.data)).convert("RGB").tobytes()
    assert design.image is not None
    assert design.image.format is None


@pytest.mark.parametrize("default", [True, False])
def test_auto_repair_is_resolved_into_the_cache_key(default: bool) -> None:
    def request(flag: bool | None) -> dict[str, Any]:
        return normalised_request(RenderRequest.model_validate({
            "project_id": "p", "prompts": {"task": "create", "instruction": "Hello there"}, "auto_repair": flag}),
            auto_repair_default=default)

    assert request(None)["auto_repair"] is default
    assert request(None) == request(default)
    assert plan_cache_key(TENANT, 1, "local", request(True), [], "policy") != plan_cache_key(
        TENANT, 1, "local", request(False), [], "policy")


def test_a_render_cached_under_another_critique_policy_is_not_replayed() -> None:
    import copy

    from sgd.resources import load_json

    document = load_json("policies", "critique_policy.json")
    changed = copy.deepcopy(document)
    changed["repair"]["threshold"] = 0.99
    current, other = (CritiquePolicy.from_document(doc).fingerprint for doc in (document, changed))
    assert current == load_critique_policy().fingerprint
    assert current != other
    request = normalised_request(RenderRequest.model_validate({
        "project_id": "p", "prompts": {"task": "create", "instruction": "Hello there"}}), auto_repair_default=True)
    assert plan_cache_key(TENANT, 1, "local", request, [], current) != plan_cache_key(
        TENANT, 1, "local", request, [], other)


def test_the_model_planner_gets_the_repair_beside_the_request_and_is_told_to_fix_it() -> None:
    import json

    from sgd.model_gateway.prompts import planner_content, structured_request

    finding = {"kind": "palette", "message": "#3CC828 covers 40% of the canvas", "severity": "high",
               "box": [0, 0, 10, 10]}
    request = {"prompts": {"task": "edit"}, "repair": {"attempt": 2, "violations": [finding]}}
    content = json.loads(planner_content("Edit it", CANON, request))
    assert content["repair"] == {"attempt": 2, "violations": [finding]}
    assert content["request"] == {"prompts": {"task": "edit"}}
    assert "repair" not in json.loads(planner_content("Edit it", CANON, {"prompts": {}}))
    messages, response_format = structured_request("planner", planner_content("Edit it", CANON, request))
    assert "violations" in messages[0]["content"]
    assert "imagery_treatment" in response_format["json_schema"]["schema"]["properties"]["layout"]["properties"]
