"""The model gateway port: every AI step (plan, canon, critique, imagery) goes through this interface.

Two implementations fill it: the OpenRouter client (a key is configured) and the offline local engine
(no key; its results are labelled local/... in every audit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Task = Literal["planner", "canon", "critic", "image"]


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One model call, as it appears in a response's audit."""

    model: str
    attempt: int
    latency_ms: float
    tokens: int
    cost_usd: float
    outcome: str


@dataclass(slots=True)
class GatewayResult:
    output: Any
    calls: list[CallRecord] = field(default_factory=list)

    @property
    def model_route(self) -> list[str]:
        return [call.model for call in self.calls if call.outcome == "ok"]

    @property
    def cost_usd(self) -> float:
        return round(sum(call.cost_usd for call in self.calls), 6)


class ModelGateway(Protocol):
    def plan(self, *, instruction: str, canon: dict[str, Any], request: dict[str, Any]) -> GatewayResult: ...
    def extract_canon(self, *, evidence: list[dict[str, Any]]) -> GatewayResult: ...
    def critique(self, *, image: bytes, canon: dict[str, Any]) -> GatewayResult: ...
    def generate_image(self, *, prompt: str, width: int, height: int) -> GatewayResult: ...
