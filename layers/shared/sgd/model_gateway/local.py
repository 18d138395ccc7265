"""The offline local engine: the gateway interface served without a model, deterministically, at zero cost.

Every result says so in its audit (model_route local/..., cost 0). The planner is rule-based
(sgd.design.planner); canon extraction is a hook the canon function registers. There is no vision model offline:
the critique service's pixel critic (sgd.critique.measure, audited as local/critic) always runs, with or without
a model; this engine's critique task adds nothing to it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from sgd.adapters.clock import Deadline, monotonic_ms
from sgd.contracts.shapes import BrandCanon, NormalisedRequest
from sgd.errors import NotImplementedYet
from sgd.guardrails import validate_contract
from sgd.model_gateway.port import CallRecord, Engine, GatewayResult, ImageInput, Task
from sgd.tenancy import Tenant

CanonExtractor = Callable[[list[dict[str, Any]]], BrandCanon]


def _local_result(step: str, started_ms: float, output: Any) -> GatewayResult:
    return GatewayResult(output, [CallRecord(f"local/{step}", 1, monotonic_ms() - started_ms, 0, 0.0, "ok")])


class LocalEngine:
    engine: Engine = "local"

    def __init__(self, *, canon_extractor: CanonExtractor | None = None) -> None:
        self.canon_extractor = canon_extractor

    @contextlib.asynccontextmanager
    async def budget(self, tenant: Tenant, calls: Mapping[Task, int]) -> AsyncIterator[float]:
        """Local steps cost nothing: nothing to hold."""
        yield 0.0

    async def plan(self, *, tenant: Tenant, instruction: str, canon: BrandCanon | None,
                   request: NormalisedRequest, deadline: Deadline) -> GatewayResult:
        from sgd.design.planner import rule_based_plan

        started = monotonic_ms()
        plan = rule_based_plan(instruction, canon, request)
        validate_contract("render_plan.json", plan)  # the same guardrail a model's plan must pass
        return _local_result("planner", started, plan)

    async def extract_canon(self, *, tenant: Tenant, evidence: list[dict[str, Any]],
                            deadline: Deadline) -> GatewayResult:
        if self.canon_extractor is None:
            raise NotImplementedYet("the deterministic canon extractor is not registered in this function")
        started = monotonic_ms()
        canon = self.canon_extractor(evidence)
        validate_contract("canon.json", canon)
        return _local_result("extractor", started, canon)

    async def critique(self, *, tenant: Tenant, image: ImageInput, canon: BrandCanon,
                       deadline: Deadline) -> GatewayResult:
        """No vision model offline: nothing to add to the measured critique, which POST /critique always runs. The
        neutral answer (score 1.0, no findings) cannot change a measured score or finding under the merge rules, so
        the policy's local_fallback after a provider failure leaves the measured critique standing, audited."""
        return _local_result("critic", monotonic_ms(), {"score": 1.0, "violations": [], "repair_suggestions": []})

    async def generate_image(self, *, tenant: Tenant, prompt: str, width: int, height: int,
                             deadline: Deadline) -> GatewayResult:
        """No imagery offline: the design engine composes the whole design itself (output None)."""
        return _local_result("compositor", monotonic_ms(), None)
