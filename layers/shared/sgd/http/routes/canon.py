"""The canon function's routes (and /healthz and /usage, which API Gateway routes here)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Request, Response

from sgd.adapters.clock import Deadline
from sgd.canon.service import CanonService, parse_if_match
from sgd.contracts.canon import Canon, CanonDeriveRequest, CanonDocument, CanonVersionList, CanonVersionSummary
from sgd.contracts.common import ProjectId
from sgd.contracts.shapes import BrandCanon
from sgd.http.app import Middleware, create_api
from sgd.http.identity import Caller, current_caller
from sgd.http.routes import health, usage
from sgd.model_gateway.budget import UsageAccounting
from sgd.repositories.canon import CanonVersion

router = APIRouter(tags=["canon"])
ProjectPath = Annotated[ProjectId, Path(description="The project whose canon this is")]


def canon_service(request: Request) -> CanonService:
    return cast(CanonService, request.app.state.canon)


Service = Annotated[CanonService, Depends(canon_service)]


def _with_etag(response: Response, document: CanonVersion, **extra: Any) -> CanonDocument:
    response.headers["ETag"] = f'"{document.version}"'
    return CanonDocument.model_validate(document.as_document() | extra)


@router.post("/canon/derive", response_model=CanonDocument, summary="Derive a new canon version from evidence")
async def derive(body: CanonDeriveRequest, request: Request, response: Response,
                 caller: Annotated[Caller, Depends(current_caller)], service: Service) -> CanonDocument:
    tenant = caller.tenant(body.project_id)
    derivation = await service.derive(tenant, body.evidence_ids, created_by=caller.subject,
                                      deadline=Deadline.from_lambda_context(request.scope.get("aws.context")),
                                      use_model=body.model != "off")
    return _with_etag(response, derivation.document, audit=derivation.audit)


@router.get("/canon/{project_id}", response_model=CanonDocument, summary="Read the latest canon")
def read(project_id: ProjectPath, response: Response, caller: Annotated[Caller, Depends(current_caller)],
         service: Service) -> CanonDocument:
    return _with_etag(response, service.latest(caller.tenant(project_id)))


@router.put("/canon/{project_id}", response_model=CanonDocument, summary="Edit the canon (new version)")
def edit(
    project_id: ProjectPath,
    body: Canon,
    response: Response,
    caller: Annotated[Caller, Depends(current_caller)],
    service: Service,
    if_match: Annotated[str | None, Header(description="The version being edited; stale gets 412")] = None,
) -> CanonDocument:
    tenant = caller.tenant(project_id)
    document = service.edit(tenant, cast(BrandCanon, body.model_dump(mode="json")), created_by=caller.subject,
                            expected_version=parse_if_match(if_match))
    return _with_etag(response, document)


@router.get("/canon/{project_id}/versions", response_model=CanonVersionList, summary="List canon versions")
def versions(project_id: ProjectPath, caller: Annotated[Caller, Depends(current_caller)],
             service: Service) -> CanonVersionList:
    summaries = service.versions(caller.tenant(project_id))
    return CanonVersionList(project_id=project_id, versions=[
        CanonVersionSummary.model_validate(dataclasses.asdict(summary)) for summary in summaries])


def create_app(canon: CanonService, accounting: UsageAccounting, health_info: health.HealthInfo, *,
               org_claim: str, middleware: Middleware = ()) -> FastAPI:
    """The canon function's app, over the services the composition root built."""
    return create_api(title="SGD canon", routers=[router, usage.router, health.router],
                      state={"canon": canon, "accounting": accounting, "health": health_info,
                             "org_claim": org_claim}, middleware=middleware)
