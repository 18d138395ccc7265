"""The canon function's routes (and /healthz, which API Gateway routes here)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Path

from sgd.api import health, usage
from sgd.api.pending import pipeline_not_built
from sgd.contracts.canon import Canon, CanonDeriveRequest, CanonDocument, CanonVersionList
from sgd.contracts.common import ProjectId
from sgd.http.app import create_api
from sgd.http.identity import Caller, current_caller

router = APIRouter(tags=["canon"])
ProjectPath = Annotated[ProjectId, Path(description="The project whose canon this is")]


@router.post("/canon/derive", response_model=CanonDocument, summary="Derive a new canon version from evidence")
def derive(body: CanonDeriveRequest, caller: Annotated[Caller, Depends(current_caller)]) -> CanonDocument:
    caller.tenant(body.project_id)
    pipeline_not_built("POST /canon/derive")


@router.get("/canon/{project_id}", response_model=CanonDocument, summary="Read the latest canon")
def read(project_id: ProjectPath, caller: Annotated[Caller, Depends(current_caller)]) -> CanonDocument:
    caller.tenant(project_id)
    pipeline_not_built("GET /canon/{project_id}")


@router.put("/canon/{project_id}", response_model=CanonDocument, summary="Edit the canon (new version)")
def edit(
    project_id: ProjectPath,
    body: Canon,
    caller: Annotated[Caller, Depends(current_caller)],
    if_match: Annotated[str | None, Header(description="The version being edited; stale gets 412")] = None,
) -> CanonDocument:
    caller.tenant(project_id)
    pipeline_not_built("PUT /canon/{project_id}")


@router.get("/canon/{project_id}/versions", response_model=CanonVersionList, summary="List canon versions")
def versions(project_id: ProjectPath, caller: Annotated[Caller, Depends(current_caller)]) -> CanonVersionList:
    caller.tenant(project_id)
    pipeline_not_built("GET /canon/{project_id}/versions")


def create_app() -> FastAPI:
    return create_api(title="SGD canon", routers=[router, usage.router, health.router])
