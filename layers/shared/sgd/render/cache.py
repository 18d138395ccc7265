"""What identifies a render for the plan cache (sgd.repositories.caches.PlanCache, 24 h): a repeated identical
request makes no model call and renders nothing again.

The key hashes everything that changes the output: the tenant, the canon version, the model engine, the project's
uploaded fonts, the critique policy and the normalised request (key order, hex case and whitespace do not matter;
it includes the resolved auto_repair).
"""

from __future__ import annotations

from sgd.contracts.render import RenderRequest, parse_dimensions
from sgd.contracts.shapes import NormalisedRequest
from sgd.render.constraints import normalise_constraints
from sgd.repositories.caches import PlanCache
from sgd.tenancy import Tenant

# Bump when the pipeline or the design engine changes what a request renders: old entries then miss.
# v2: results carry each asset's critique summary and the audit's repair attempts.
CACHE_SCHEMA = "render-v2"


def normalise_instruction(text: str) -> str:
    return " ".join(text.split())


def normalised_request(body: RenderRequest, *, auto_repair_default: bool) -> NormalisedRequest:
    """The request as the pipeline uses it. The planner sees this too, so equal keys mean equal output. auto_repair
    is resolved (null means the critique policy's default), since it changes which assets are delivered."""
    width, height = parse_dimensions(body.outputs.dimensions)
    constraints = body.constraints.model_dump() if body.constraints is not None else None
    return {
        "project_id": body.project_id,
        "prompts": {"task": body.prompts.task, "instruction": normalise_instruction(body.prompts.instruction),
                    "references": list(body.prompts.references)},
        "outputs": {"count": body.outputs.count, "format": body.outputs.format, "dimensions": f"{width}x{height}"},
        "constraints": normalise_constraints(constraints) if constraints is not None else None,
        "auto_repair": body.auto_repair if body.auto_repair is not None else auto_repair_default,
    }


def plan_cache_key(tenant: Tenant, canon_version: int | None, engine: str, request: NormalisedRequest,
                   fonts_fingerprint: list[str], critique_policy_fingerprint: str) -> str:
    # The critique policy decides each asset's critique and repairs: a render made under another one is not reused.
    return PlanCache.key({"schema": CACHE_SCHEMA, "tenant": tenant.partition_key, "canon_version": canon_version,
                          "engine": engine, "request": request, "fonts": sorted(fonts_fingerprint),
                          "critique_policy": critique_policy_fingerprint})
