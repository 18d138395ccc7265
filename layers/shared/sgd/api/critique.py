"""The critique function's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI

from sgd.api.pending import pipeline_not_built
from sgd.contracts.critique import CritiqueRequest, CritiqueResponse
from sgd.http.app import create_api
from sgd.http.identity import Caller, current_caller

router = APIRouter(tags=["critique"])


@router.post("/critique", response_model=CritiqueResponse, summary="Critique designs against the canon")
def critique(body: CritiqueRequest, caller: Annotated[Caller, Depends(current_caller)]) -> CritiqueResponse:
    caller.tenant(body.project_id)
    pipeline_not_built("POST /critique")


def create_app() -> FastAPI:
    return create_api(title="SGD critique", routers=[router])
