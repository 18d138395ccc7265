"""GET /healthz: the only unauthenticated route. Cheap on purpose: no calls to dependencies."""

from __future__ import annotations

from fastapi import APIRouter

from sgd import __version__
from sgd.contracts.health import HealthResponse
from sgd.model_gateway.policy import load_policy
from sgd.settings import get_settings

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthResponse, summary="Liveness and build information")
def healthz() -> HealthResponse:
    settings = get_settings()
    return HealthResponse(
        status="ok",
        service=settings.service,
        version=__version__,
        stage=settings.stage,
        model_engine=settings.model_engine,
        model_policy_version=load_policy().version,
    )
