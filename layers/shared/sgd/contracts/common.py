"""Types shared by every route's contract."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from sgd.tenancy import IDENTIFIER_PATTERN

ProjectId = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]
ResourceId = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]
HexColor = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$")]
HttpsUrl = Annotated[str, StringConstraints(pattern=r"^https://[^\s/$.?#][^\s]*$", max_length=2048)]
AssetRef = Annotated[
    str, StringConstraints(pattern=r"^([A-Za-z0-9_-]{1,64}|https://[^\s/$.?#][^\s]*)$", max_length=2048)
]


def is_url(reference: str) -> bool:
    """An asset reference that is a URL (to fetch through sgd.net.outbound), not an asset or upload id."""
    return reference.startswith(("https://", "http://"))


class Contract(BaseModel):
    """Base of every request model: unknown fields are a client mistake, so they are rejected."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class Reply(BaseModel):
    model_config = ConfigDict(defer_build=True)


class ErrorDetail(Reply):
    code: str = Field(description="Stable machine-readable code, e.g. validation_error, not_found.")
    message: str = Field(description="What went wrong and what to fix, for humans.")
    details: Any = Field(None, description="Structured specifics, e.g. the invalid fields.")


class ErrorResponse(Reply):
    """The one error shape of every 4xx and 5xx response of every function."""

    error: ErrorDetail
    request_id: str = Field(description="API Gateway request id; quote it when reporting a problem.")


class ModelCall(Reply):
    model: str
    attempt: int
    latency_ms: float
    tokens: int = 0
    cost_usd: float = 0.0
    outcome: str = Field(description="ok, repaired, invalid_output, timeout, rate_limited, server_error, ...")
    cost_source: Literal["provider", "price_table", "cap", "none"] = Field(
        "none", description="provider: reported by OpenRouter; price_table: tokens x policy prices; cap: unknown, "
        "charged at the task's max_cost_usd")


class Audit(Reply):
    trace_id: str
    model_route: list[str] = Field(description="Models used in order; local/... marks the offline engine.")
    cost_usd: float = 0.0
    guardrails_ok: bool
    verified_by: Literal["declared", "external", "none"] = "none"
    calls: list[ModelCall] = []
