"""The model gateway port: every AI step (plan, canon, critique, imagery) goes through this interface.

Two implementations fill it (sgd.model_gateway): the policy-routed OpenRouter gateway (a key is configured) and the
offline local engine (no key; its results are labelled local/... in every audit, at zero cost).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sgd.adapters.clock import Deadline
from sgd.contracts.shapes import BrandCanon, NormalisedRequest
from sgd.tenancy import Tenant

Engine = Literal["openrouter", "local"]
Task = Literal["planner", "canon", "critic", "image"]
CostSource = Literal["provider", "price_table", "cap", "none"]  # where a call's cost came from


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One model call (or one local step), as it appears in a response's audit."""

    model: str
    attempt: int
    latency_ms: float
    tokens: int
    cost_usd: float
    outcome: str
    cost_source: CostSource = "none"

    def as_audit(self) -> dict[str, Any]:
        return {
            "model": self.model, "attempt": self.attempt, "latency_ms": round(self.latency_ms, 1),
            "tokens": self.tokens, "cost_usd": round(self.cost_usd, 6), "outcome": self.outcome,
            "cost_source": self.cost_source,
        }


@dataclass(slots=True)
class GatewayResult:
    output: Any
    calls: list[CallRecord] = field(default_factory=list)

    @property
    def model_route(self) -> list[str]:
        """The models whose output was used, in order (a repaired answer lists its model once)."""
        route: list[str] = []
        for call in self.calls:
            if call.outcome in ("ok", "repaired", "local_fallback") and call.model not in route:
                route.append(call.model)
        return route

    @property
    def cost_usd(self) -> float:
        return round(sum(call.cost_usd for call in self.calls), 6)


def audit_fields(*results: GatewayResult) -> dict[str, Any]:
    """model_route, cost_usd and calls of a response's audit, over every gateway call that served it."""
    combined = GatewayResult(None, [call for result in results for call in result.calls])
    return {"model_route": combined.model_route, "cost_usd": combined.cost_usd,
            "calls": [call.as_audit() for call in combined.calls]}


@dataclass(frozen=True, slots=True)
class ImageInput:
    """An image for a vision model: bytes (sent as a data URL) or a presigned HTTPS URL."""

    data: bytes | None = None
    mime: str = "image/png"
    url: str | None = None

    def __post_init__(self) -> None:
        if (self.data is None) == (self.url is None):
            raise ValueError("give exactly one of data or url")

    def as_url(self) -> str:
        if self.url is not None:
            return self.url
        return f"data:{self.mime};base64,{base64.b64encode(self.data or b'').decode('ascii')}"


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    data: bytes
    mime: str
    width: int
    height: int


class ModelGateway(Protocol):
    engine: Engine

    def budget(self, tenant: Tenant, calls: Mapping[Task, int]) -> AbstractAsyncContextManager[float]:
        """Holds an operation's worst case (`calls` per task, at the policy's caps) in the org's budget before its
        first paid call, or raises 429; the calls made inside draw from it. Yields the amount held (0 offline)."""
        ...

    async def plan(self, *, tenant: Tenant, instruction: str, canon: BrandCanon | None,
                   request: NormalisedRequest, deadline: Deadline) -> GatewayResult: ...

    async def extract_canon(self, *, tenant: Tenant, evidence: list[dict[str, Any]],
                            deadline: Deadline) -> GatewayResult: ...

    async def critique(self, *, tenant: Tenant, image: ImageInput, canon: BrandCanon,
                       deadline: Deadline) -> GatewayResult: ...

    async def generate_image(self, *, tenant: Tenant, prompt: str, width: int, height: int,
                             deadline: Deadline) -> GatewayResult: ...
