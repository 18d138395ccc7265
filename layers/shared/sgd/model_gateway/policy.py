"""policies/openrouter_policy.json: which model serves each task, what it may cost, how failures are retried.

Validated against policies/openrouter_policy.schema.json when it loads (the cold start of every function that
calls models), so a bad policy stops the function with a message naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from sgd.guardrails import schema_errors
from sgd.model_gateway.port import Task
from sgd.resources import load_json
from sgd.settings import ConfigurationError

TASKS: tuple[Task, ...] = get_args(Task)
POLICY_FILE, POLICY_SCHEMA = "openrouter_policy.json", "openrouter_policy.schema.json"


@dataclass(frozen=True, slots=True)
class TaskPolicy:
    primary: str
    fallbacks: tuple[str, ...]
    max_cost_usd: float
    max_output_tokens: int
    timeout_ms: int

    @property
    def models(self) -> tuple[str, ...]:
        return (self.primary, *self.fallbacks)


@dataclass(frozen=True, slots=True)
class TokenPrice:
    input_per_million: float
    output_per_million: float

    def cost_usd(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_million + completion_tokens * self.output_per_million) / 1_000_000


@dataclass(frozen=True, slots=True)
class GatewayPolicy:
    version: int
    tasks: dict[Task, TaskPolicy]
    max_attempts: int
    backoff_base_ms: int
    backoff_max_ms: int
    backoff_jitter: bool
    max_retry_after_ms: int
    safety_margin_ms: int
    min_attempt_ms: int
    image_max_bytes: int
    image_max_pixels: int
    prices: dict[str, TokenPrice]
    org_daily_budget_usd: float
    budget_thresholds: tuple[float, ...]
    local_fallback: bool

    @classmethod
    def from_document(cls, document: Any) -> GatewayPolicy:
        """Validates the policy document; ConfigurationError names every offending field."""
        problems = schema_errors("policies", POLICY_SCHEMA, document)
        if not problems:
            problems = [
                f"tasks/{task}/fallbacks: must not repeat the primary model {spec['primary']}"
                for task, spec in document["tasks"].items() if spec["primary"] in spec["fallbacks"]
            ]
            backoff = document["retry"]["backoff_ms"]
            if backoff["base"] > backoff["max"]:
                problems.append("retry/backoff_ms/base: must not exceed retry/backoff_ms/max")
        if problems:
            raise ConfigurationError(f"invalid policies/{POLICY_FILE}: " + "; ".join(problems))
        retry, backoff = document["retry"], document["retry"]["backoff_ms"]
        return cls(
            version=document["version"],
            tasks={
                task: TaskPolicy(
                    primary=spec["primary"], fallbacks=tuple(spec["fallbacks"]), max_cost_usd=spec["max_cost_usd"],
                    max_output_tokens=spec["max_output_tokens"], timeout_ms=document["timeouts_ms"][task],
                )
                for task, spec in document["tasks"].items()
            },
            max_attempts=retry["max_attempts"],
            backoff_base_ms=backoff["base"],
            backoff_max_ms=backoff["max"],
            backoff_jitter=backoff["jitter"],
            max_retry_after_ms=retry.get("max_retry_after_ms", backoff["max"]),
            safety_margin_ms=document["deadline"]["safety_margin_ms"],
            min_attempt_ms=document["deadline"]["min_attempt_ms"],
            image_max_bytes=document["image_output"]["max_bytes"],
            image_max_pixels=document["image_output"]["max_pixels"],
            prices={
                model: TokenPrice(price["input"], price["output"])
                for model, price in document["prices_usd_per_million_tokens"].items()
            },
            org_daily_budget_usd=document["budgets"]["org_daily_usd"],
            budget_thresholds=tuple(sorted(document["budgets"]["thresholds"])),
            local_fallback=document["local_fallback"],
        )

    def backoff_ms(self, retry_number: int, random_fraction: float) -> float:
        """Exponential backoff before retry n (1-based), capped; 'full jitter' scales it by a random fraction."""
        ceiling = min(self.backoff_max_ms, self.backoff_base_ms * 2 ** (retry_number - 1))
        return ceiling * random_fraction if self.backoff_jitter else ceiling


def load_policy() -> GatewayPolicy:
    """policies/openrouter_policy.json, validated (the composition root loads it once, at cold start)."""
    return GatewayPolicy.from_document(load_json("policies", POLICY_FILE))
