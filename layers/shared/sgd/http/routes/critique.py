"""The critique function's routes."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Depends, FastAPI, Request

from sgd.adapters.clock import Deadline
from sgd.contracts.critique import CritiqueRequest, CritiqueResponse
from sgd.critique.service import CritiqueService
from sgd.http.app import Middleware, create_api
from sgd.http.identity import Caller, current_caller
from sgd.observability import trace_id_or

router = APIRouter(tags=["critique"])


def critique_service(request: Request) -> CritiqueService:
    return cast(CritiqueService, request.app.state.critique)


@router.post("/critique", response_model=CritiqueResponse, summary="Critique designs against the canon")
async def critique(body: CritiqueRequest, request: Request, caller: Annotated[Caller, Depends(current_caller)],
                   service: Annotated[CritiqueService, Depends(critique_service)]) -> CritiqueResponse:
    return await service.critique(caller.tenant(body.project_id), body.asset_ids,
                                  deadline=Deadline.from_lambda_context(request.scope.get("aws.context")),
                                  trace_id=trace_id_or(caller.request_id))


def create_app(critique: CritiqueService, *, org_claim: str, middleware: Middleware = ()) -> FastAPI:
    """The critique function's app, over the service the composition root built."""
    return create_api(title="SGD critique", routers=[router], state={"critique": critique, "org_claim": org_claim},
                      middleware=middleware)
