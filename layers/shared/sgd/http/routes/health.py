"""GET /healthz: the only unauthenticated route. Cheap on purpose: no calls to dependencies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from fastapi import APIRouter, Request

from sgd import __version__
from sgd.contracts.health import HealthResponse

router = APIRouter(tags=["health"])


@dataclass(frozen=True, slots=True)
class HealthInfo:
    """What /healthz reports, fixed at cold start."""

    service: str
    stage: str
    model_engine: Literal["openrouter", "local"]
    model_policy_version: int


@router.get("/healthz", response_model=HealthResponse, summary="Liveness and build information")
def healthz(request: Request) -> HealthResponse:
    info = cast(HealthInfo, request.app.state.health)
    return HealthResponse(status="ok", service=info.service, version=__version__, stage=info.stage,
                          model_engine=info.model_engine, model_policy_version=info.model_policy_version)
