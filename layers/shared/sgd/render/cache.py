"""The plan cache (cache table, pk plan#{sha256}, TTL 24 h): a repeated identical request makes no model call.

The key is the sha256 of everything that changes the output: the tenant, the canon version, the model engine,
the project's uploaded fonts and the normalised request (key order, hex case and whitespace do not matter; it
includes auto_repair). The entry holds the plan and, once rendered, the stored assets with their critique summaries
and the repair attempts, so an identical request re-renders and re-measures nothing.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sgd.adapters.clock import Clock, SystemClock, epoch_seconds
from sgd.adapters.tables import ItemTable
from sgd.contracts.render import RenderRequest, parse_dimensions
from sgd.render.constraints import normalise_constraints
from sgd.tenancy import Tenant

PLAN_TTL_SECONDS = 24 * 3600
# Bump when the pipeline or the design engine changes what a request renders: old entries then miss.
# v2: results carry each asset's critique summary and the audit's repair attempts.
CACHE_SCHEMA = "render-v2"


def normalise_instruction(text: str) -> str:
    return " ".join(text.split())


def resolved_auto_repair(flag: bool | None) -> bool:
    """The request's auto_repair, or the critique policy's default when the request leaves it out."""
    if flag is not None:
        return flag
    from sgd.critique.policy import load_critique_policy

    return load_critique_policy().auto_repair_default


def normalised_request(body: RenderRequest) -> dict[str, Any]:
    """The request as the pipeline uses it. The planner sees this too, so equal keys mean equal output. auto_repair
    is resolved (null means the policy's default), since it changes which assets are delivered."""
    width, height = parse_dimensions(body.outputs.dimensions)
    constraints = body.constraints.model_dump() if body.constraints is not None else None
    return {
        "project_id": body.project_id,
        "prompts": {"task": body.prompts.task, "instruction": normalise_instruction(body.prompts.instruction),
                    "references": list(body.prompts.references)},
        "outputs": {"count": body.outputs.count, "format": body.outputs.format, "dimensions": f"{width}x{height}"},
        "constraints": normalise_constraints(constraints) if constraints is not None else None,
        "auto_repair": resolved_auto_repair(body.auto_repair),
    }


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def plan_cache_key(tenant: Tenant, canon_version: int | None, engine: str, request: dict[str, Any],
                   fonts_fingerprint: list[str]) -> str:
    from sgd.critique.policy import critique_policy_fingerprint

    # The critique policy decides each asset's critique and repairs: a render made under another one is not reused.
    material = {"schema": CACHE_SCHEMA, "tenant": tenant.partition_key, "canon_version": canon_version,
                "engine": engine, "request": request, "fonts": sorted(fonts_fingerprint),
                "critique_policy": critique_policy_fingerprint()}
    return "plan#" + hashlib.sha256(canonical_json(material).encode()).hexdigest()


class PlanCache:
    def __init__(self, table: ItemTable, clock: Clock | None = None) -> None:
        self._table = table
        self._clock = clock or SystemClock()

    @property
    def table(self) -> ItemTable:
        return self._table

    def get(self, key: str) -> dict[str, Any] | None:
        return self.live(self._table.get(key))

    def live(self, item: dict[str, Any] | None) -> dict[str, Any] | None:
        """The entry unless it expired (DynamoDB's TTL deletes lazily, so expiry is checked here too)."""
        if item is None or item.get("expires_at", 0) <= epoch_seconds(self._clock):
            return None
        return json.loads(item["entry"])

    def put(self, key: str, *, plan: dict[str, Any], plan_audit: dict[str, Any],
            result: dict[str, Any] | None = None) -> None:
        entry: dict[str, Any] = {"plan": plan, "plan_audit": plan_audit}
        if result is not None:
            entry["result"] = result
        # One JSON string, not a nested map: DynamoDB (and moto far more) decodes deep maps item by item, which
        # made reading a cached six-asset layout ~6x slower than the one string.
        self._table.put({"pk": key, "entry": canonical_json(entry),
                         "expires_at": epoch_seconds(self._clock) + PLAN_TTL_SECONDS})
