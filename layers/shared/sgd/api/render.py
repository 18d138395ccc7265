"""The render function's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Path

from sgd.api.pending import pipeline_not_built
from sgd.contracts.common import ResourceId
from sgd.contracts.render import RenderAccepted, RenderJob, RenderRequest, RenderResponse
from sgd.http.app import create_api
from sgd.http.identity import Caller, current_caller

router = APIRouter(tags=["render"])
JobId = Annotated[ResourceId, Path(description="The id POST /render returned with 202")]


@router.post("/render", response_model=RenderResponse, summary="Render on-brand designs",
             responses={202: {"model": RenderAccepted, "description": "Accepted as an async job"}})
def render(
    body: RenderRequest,
    caller: Annotated[Caller, Depends(current_caller)],
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
    prefer: Annotated[str | None, Header()] = None,
) -> RenderResponse:
    caller.tenant(body.project_id)
    pipeline_not_built("POST /render")


@router.get("/render/jobs/{job_id}", response_model=RenderJob, summary="Read an async render job")
def get_job(job_id: JobId, caller: Annotated[Caller, Depends(current_caller)]) -> RenderJob:
    pipeline_not_built("GET /render/jobs/{job_id}")


@router.delete("/render/jobs/{job_id}", response_model=RenderJob, summary="Cancel a queued or running job")
def cancel_job(job_id: JobId, caller: Annotated[Caller, Depends(current_caller)]) -> RenderJob:
    pipeline_not_built("DELETE /render/jobs/{job_id}")


def create_app() -> FastAPI:
    return create_api(title="SGD render", routers=[router])
