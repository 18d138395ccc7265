"""GET /healthz."""

from __future__ import annotations

from sgd.contracts.common import Reply


class HealthResponse(Reply):
    status: str
    service: str
    version: str
    stage: str
    model_engine: str
