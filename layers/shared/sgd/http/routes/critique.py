"""The critique function's routes."""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request

from sgd.contracts.critique import CritiqueRequest, CritiqueResponse
from sgd.http.app import create_api
from sgd.http.identity import Caller, current_caller
from sgd.model_gateway.port import ModelGateway
from sgd.settings import get_settings

router = APIRouter(tags=["critique"])


def default_gateway() -> ModelGateway:
    from sgd.model_gateway import model_gateway

    return model_gateway()


@functools.cache
def _service(gateway: Any) -> Any:
    """The critique service of this process (tables, bucket and gateway made once, reused while warm)."""
    from sgd.adapters.storage import S3ObjectStorage
    from sgd.adapters.tables import DynamoItemTable
    from sgd.critique.policy import load_critique_policy
    from sgd.critique.service import CritiqueService
    from sgd.repositories.canon import CanonStore

    settings = get_settings()
    assets = DynamoItemTable(settings.assets_table)
    return CritiqueService(
        storage=S3ObjectStorage(settings.assets_bucket), assets=assets,
        canon=CanonStore(DynamoItemTable(settings.canon_table), DynamoItemTable(settings.cache_table)),
        gateway=gateway, policy=load_critique_policy(), presign_ttl_seconds=settings.presign_ttl_seconds)


@router.post("/critique", response_model=CritiqueResponse, summary="Critique designs against the canon")
async def critique(body: CritiqueRequest, request: Request,
                   caller: Annotated[Caller, Depends(current_caller)]) -> CritiqueResponse:
    tenant = caller.tenant(body.project_id)
    from sgd.adapters.clock import Deadline
    from sgd.observability import trace_id_or

    service = _service(getattr(request.app.state, "gateway", None) or default_gateway)
    return await service.critique(tenant, body.asset_ids,
                                  deadline=Deadline.from_lambda_context(request.scope.get("aws.context")),
                                  trace_id=trace_id_or(caller.request_id))


def create_app(gateway: ModelGateway | None = None) -> FastAPI:
    """The critique function's app; `gateway` is the model gateway its critiques call (built lazily if None)."""
    app = create_api(title="SGD critique", routers=[router])
    app.state.gateway = (lambda: gateway) if gateway is not None else None
    return app
