"""GET /healthz."""

from __future__ import annotations

from typing import Literal

from sgd.contracts.common import Reply


class HealthResponse(Reply):
    status: str
    service: str
    version: str
    stage: str
    model_engine: Literal["openrouter", "local"]
    model_policy_version: int
