"""The ingest function's HTTP routes. S3 uploads arrive through sgd.ingest.uploads instead."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI

from sgd.api.pending import pipeline_not_built
from sgd.contracts.ingest import IngestRequest, IngestResponse, UploadRequest, UploadTicket
from sgd.http.app import create_api
from sgd.http.identity import Caller, current_caller

router = APIRouter(tags=["ingest"])


@router.post("/uploads", response_model=UploadTicket, summary="Get a presigned POST for one brand file")
def create_upload(body: UploadRequest, caller: Annotated[Caller, Depends(current_caller)]) -> UploadTicket:
    caller.tenant(body.project_id)
    pipeline_not_built("POST /uploads")


@router.post("/ingest", response_model=IngestResponse, summary="Ingest uploaded assets or https URLs")
def ingest(body: IngestRequest, caller: Annotated[Caller, Depends(current_caller)]) -> IngestResponse:
    caller.tenant(body.project_id)
    pipeline_not_built("POST /ingest")


def create_app() -> FastAPI:
    return create_api(title="SGD ingest", routers=[router])
