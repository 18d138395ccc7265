"""The ingest function's HTTP routes. S3 uploads arrive through IngestService.on_upload_event instead."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, cast, get_args

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request

from sgd.contracts.common import ProjectId, ResourceId
from sgd.contracts.ingest import (
    IngestItem,
    IngestRequest,
    IngestResponse,
    PendingAsset,
    RejectedAsset,
    RejectionCode,
    UploadRequest,
    UploadStatus,
    UploadTicket,
)
from sgd.contracts.shapes import default_purpose
from sgd.http.app import Middleware, create_api
from sgd.http.identity import Caller, current_caller
from sgd.ingest.service import IngestService

router = APIRouter(tags=["ingest"])
UPLOAD_KINDS = ("pdf", "image", "logo", "font", "text")


def ingest_service(request: Request) -> IngestService:
    return cast(IngestService, request.app.state.service)


Service = Annotated[IngestService, Depends(ingest_service)]


@router.post("/uploads", response_model=UploadTicket, summary="Get a presigned POST for one brand file")
def create_upload(body: UploadRequest, caller: Annotated[Caller, Depends(current_caller)],
                  service: Service) -> UploadTicket:
    tenant = caller.tenant(body.project_id)
    ticket = service.create_upload(tenant, filename=body.filename, content_type=body.content_type,
                                   size_bytes=body.size_bytes, purpose=body.purpose)
    return UploadTicket(upload_id=ticket.upload_id, key=ticket.key, url=ticket.url, fields=ticket.fields,
                        expires_at=ticket.expires_at, max_bytes=ticket.max_bytes)


@router.get("/uploads/{upload_id}", response_model=UploadStatus, summary="Follow one upload through ingestion")
def upload_status(upload_id: Annotated[ResourceId, Path(description="The id POST /uploads returned")],
                  project_id: Annotated[ProjectId, Query(description="The project the upload belongs to")],
                  caller: Annotated[Caller, Depends(current_caller)], service: Service) -> UploadStatus:
    entry = service.upload(caller.tenant(project_id), upload_id)
    kind = entry.asset_kind
    return UploadStatus(
        upload_id=upload_id, project_id=project_id, status=entry.status, filename=entry.filename, size=entry.size,
        code=rejection_code(entry.code) if entry.status == "rejected" else None,
        reason=entry.reason, asset_id=entry.asset_id, evidence_id=entry.evidence_id,
        kind=kind if kind in UPLOAD_KINDS else None, points=entry.points,  # type: ignore[arg-type]
        purpose=entry.purpose or (default_purpose(kind) if entry.status == "indexed" else None),  # type: ignore[arg-type]
        received_at=_timestamp(entry.received_at), processed_at=_timestamp(entry.processed_at))


def rejection_code(code: str | None) -> RejectionCode:
    return cast(RejectionCode, code) if code in get_args(RejectionCode) else "rejected"


def _timestamp(value: Any) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(UTC) if isinstance(value, str) and value else None


@router.post("/ingest", response_model=IngestResponse, summary="Ingest uploaded assets or https URLs")
def ingest(body: IngestRequest, caller: Annotated[Caller, Depends(current_caller)],
           service: Service) -> IngestResponse:
    outcomes = service.ingest(caller.tenant(body.project_id), body.assets)
    items = [IngestItem(asset=o.asset, evidence_id=o.evidence_id or "", kind=o.kind or "text",  # type: ignore[arg-type]
                        status=o.status)  # type: ignore[arg-type]
             for o in outcomes if o.status in ("indexed", "duplicate")]
    rejected = [RejectedAsset(asset=o.asset, code=rejection_code(o.code), reason=o.reason or "rejected")
                for o in outcomes if o.status == "rejected"]
    processing = [PendingAsset(asset=o.asset, reason=o.reason or "still being ingested") for o in outcomes
                  if o.status == "processing"]
    return IngestResponse(processed=len(items), qdrant_ids=[pid for o in outcomes for pid in o.point_ids],
                          items=items, rejected=rejected, processing=processing)


def create_app(service: IngestService, *, org_claim: str, middleware: Middleware = ()) -> FastAPI:
    return create_api(title="SGD ingest", routers=[router], state={"service": service, "org_claim": org_claim},
                      middleware=middleware)
