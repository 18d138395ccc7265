"""The ingest function's HTTP routes. S3 uploads arrive through sgd.ingest.uploads instead.

The pipeline (admission, extraction, Qdrant) is imported inside the routes that run it: the cold start of this
function loads none of it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query

from sgd.contracts.common import ProjectId, ResourceId
from sgd.contracts.ingest import (
    IngestItem,
    IngestRequest,
    IngestResponse,
    PendingAsset,
    RejectedAsset,
    UploadRequest,
    UploadStatus,
    UploadTicket,
)
from sgd.errors import NotFound, ValidationFailed
from sgd.http.app import create_api
from sgd.http.identity import Caller, current_caller
from sgd.settings import get_settings

router = APIRouter(tags=["ingest"])
UPLOAD_KINDS = ("pdf", "image", "logo", "font", "text")


def _ledger() -> Any:
    from sgd.adapters.tables import DynamoItemTable

    return DynamoItemTable(get_settings().assets_table)


@router.post("/uploads", response_model=UploadTicket, summary="Get a presigned POST for one brand file")
def create_upload(body: UploadRequest, caller: Annotated[Caller, Depends(current_caller)]) -> UploadTicket:
    tenant = caller.tenant(body.project_id)
    settings = get_settings()
    if body.size_bytes > settings.max_upload_bytes:
        raise ValidationFailed(f"the file is {body.size_bytes:,} bytes; uploads are limited to "
                               f"{settings.max_upload_bytes:,} bytes: compress or split it",
                               code="too_large", details={"max_bytes": settings.max_upload_bytes})
    from sgd.adapters.clock import SystemClock
    from sgd.adapters.storage import S3ObjectStorage
    from sgd.ingest.uploads import ticket_item

    upload_id = f"up-{uuid.uuid4().hex}"  # server-generated: a client can never choose or reuse a key
    key = tenant.upload_key(upload_id, body.filename)
    post = S3ObjectStorage(settings.assets_bucket).presign_post(
        key, content_type=body.content_type, max_bytes=body.size_bytes, ttl_seconds=settings.presign_ttl_seconds)
    clock = SystemClock()
    _ledger().put(ticket_item(tenant, upload_id=upload_id, filename=body.filename, key=key,
                              content_type=body.content_type, max_bytes=body.size_bytes, clock=clock))
    return UploadTicket(upload_id=upload_id, key=key, url=post["url"], fields=post["fields"],
                        expires_at=clock.now() + timedelta(seconds=settings.presign_ttl_seconds),
                        max_bytes=body.size_bytes)


@router.get("/uploads/{upload_id}", response_model=UploadStatus, summary="Follow one upload through ingestion")
def upload_status(upload_id: Annotated[ResourceId, Path(description="The id POST /uploads returned")],
                  project_id: Annotated[ProjectId, Query(description="The project the upload belongs to")],
                  caller: Annotated[Caller, Depends(current_caller)]) -> UploadStatus:
    tenant = caller.tenant(project_id)
    from sgd.ingest.uploads import ledger_key

    item = _ledger().get(tenant.partition_key, ledger_key(upload_id))
    if item is None:
        raise NotFound(f"no upload {upload_id!r} in project {project_id!r}")
    kind = item.get("asset_kind")
    return UploadStatus(
        upload_id=upload_id, project_id=project_id, status=item["status"], filename=item.get("filename"),
        size=item.get("size"), reason=item.get("reason"), asset_id=item.get("asset_id"),
        evidence_id=item.get("evidence_id"), kind=kind if kind in UPLOAD_KINDS else None, points=item.get("points"),
        received_at=_timestamp(item.get("received_at")), processed_at=_timestamp(item.get("processed_at")))


def _timestamp(value: Any) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(UTC) if isinstance(value, str) and value else None


@router.post("/ingest", response_model=IngestResponse, summary="Ingest uploaded assets or https URLs")
def ingest(body: IngestRequest, caller: Annotated[Caller, Depends(current_caller)]) -> IngestResponse:
    tenant = caller.tenant(body.project_id)
    from sgd.ingest.pipeline import fetch_through_guard, ingest_assets, process_deps

    deps = process_deps()
    outcomes = ingest_assets(tenant, body.assets, deps=deps, fetch_url=fetch_through_guard)
    items = [IngestItem(asset=o.asset, evidence_id=o.evidence_id or "", kind=o.kind or "text", status=o.status)
             for o in outcomes if o.status in ("indexed", "duplicate")]
    rejected = [RejectedAsset(asset=o.asset, reason=o.reason or "rejected") for o in outcomes
                if o.status == "rejected"]
    processing = [PendingAsset(asset=o.asset, reason=o.reason or "still being ingested") for o in outcomes
                  if o.status == "processing"]
    return IngestResponse(processed=len(items), qdrant_ids=[pid for o in outcomes for pid in o.point_ids],
                          items=items, rejected=rejected, processing=processing)


def create_app() -> FastAPI:
    return create_api(title="SGD ingest", routers=[router])
