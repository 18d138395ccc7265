"""The canon function's routes (and /healthz, which API Gateway routes here)."""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Request, Response

from sgd.contracts.canon import Canon, CanonDeriveRequest, CanonDocument, CanonVersionList, CanonVersionSummary
from sgd.contracts.common import ProjectId
from sgd.http.app import create_api
from sgd.http.identity import Caller, current_caller
from sgd.http.routes import health, usage
from sgd.model_gateway.port import ModelGateway
from sgd.settings import get_settings

router = APIRouter(tags=["canon"])
ProjectPath = Annotated[ProjectId, Path(description="The project whose canon this is")]


def default_gateway() -> ModelGateway:
    from sgd.canon.service import local_canon_extractor
    from sgd.model_gateway import model_gateway

    return model_gateway(canon_extractor=local_canon_extractor)


@functools.cache
def _service(gateway: Any) -> Any:
    """The canon service of this process (tables, bucket and gateway made once, reused while warm)."""
    from sgd.adapters.storage import S3ObjectStorage
    from sgd.adapters.tables import DynamoItemTable
    from sgd.canon.service import CanonService
    from sgd.repositories.canon import CanonStore

    settings = get_settings()
    store = CanonStore(DynamoItemTable(settings.canon_table), DynamoItemTable(settings.cache_table))
    return CanonService(store, DynamoItemTable(settings.assets_table), S3ObjectStorage(settings.assets_bucket),
                        gateway)


def canon_service(request: Request) -> Any:
    return _service(getattr(request.app.state, "gateway", None) or default_gateway)


def _with_etag(response: Response, document: dict[str, Any]) -> CanonDocument:
    response.headers["ETag"] = f'"{document["version"]}"'
    return CanonDocument.model_validate(document)


@router.post("/canon/derive", response_model=CanonDocument, summary="Derive a new canon version from evidence")
async def derive(body: CanonDeriveRequest, request: Request, response: Response,
                 caller: Annotated[Caller, Depends(current_caller)]) -> CanonDocument:
    tenant = caller.tenant(body.project_id)
    from sgd.adapters.clock import Deadline

    derivation = await canon_service(request).derive(
        tenant, body.evidence_ids, created_by=caller.subject,
        deadline=Deadline.from_lambda_context(request.scope.get("aws.context")))
    return _with_etag(response, derivation.document | {"audit": derivation.audit})


@router.get("/canon/{project_id}", response_model=CanonDocument, summary="Read the latest canon")
def read(project_id: ProjectPath, request: Request, response: Response,
         caller: Annotated[Caller, Depends(current_caller)]) -> CanonDocument:
    tenant = caller.tenant(project_id)
    return _with_etag(response, canon_service(request).latest(tenant))


@router.put("/canon/{project_id}", response_model=CanonDocument, summary="Edit the canon (new version)")
def edit(
    project_id: ProjectPath,
    body: Canon,
    request: Request,
    response: Response,
    caller: Annotated[Caller, Depends(current_caller)],
    if_match: Annotated[str | None, Header(description="The version being edited; stale gets 412")] = None,
) -> CanonDocument:
    tenant = caller.tenant(project_id)
    from sgd.repositories.canon import parse_if_match

    document = canon_service(request).edit(tenant, body.model_dump(mode="json"), created_by=caller.subject,
                                           expected_version=parse_if_match(if_match))
    return _with_etag(response, document)


@router.get("/canon/{project_id}/versions", response_model=CanonVersionList, summary="List canon versions")
def versions(project_id: ProjectPath, request: Request,
             caller: Annotated[Caller, Depends(current_caller)]) -> CanonVersionList:
    tenant = caller.tenant(project_id)
    summaries = canon_service(request).versions(tenant)
    return CanonVersionList(project_id=project_id,
                            versions=[CanonVersionSummary.model_validate(summary) for summary in summaries])


def create_app(gateway: ModelGateway | None = None) -> FastAPI:
    """The canon function's app; `gateway` is the model gateway its derivations call (built lazily if None)."""
    app = create_api(title="SGD canon", routers=[router, usage.router, health.router])
    app.state.gateway = (lambda: gateway) if gateway is not None else None
    return app
