"""POST /uploads, POST /ingest and the S3 upload ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from sgd.contracts.common import AssetRef, Contract, ProjectId, Reply, ResourceId

FileName = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^/\\\x00-\x1f]+$")]
ContentType = Annotated[str, StringConstraints(pattern=r"^[a-z]+/[a-z0-9.+-]+$", max_length=100)]


class UploadRequest(Contract):
    project_id: ProjectId
    filename: FileName
    content_type: ContentType
    size_bytes: int = Field(ge=1, description="Declared size; the presigned POST enforces it as a limit.")


class UploadTicket(Reply):
    upload_id: ResourceId
    key: str
    url: str
    fields: dict[str, str] = Field(description="Form fields to send with the file in a multipart POST.")
    expires_at: datetime
    max_bytes: int


class IngestRequest(Contract):
    project_id: ProjectId
    assets: list[AssetRef] = Field(min_length=1, max_length=50, description="Upload ids or https URLs.")


class IngestItem(Reply):
    asset: str
    evidence_id: str
    kind: Literal["pdf", "image", "logo", "font", "text"]
    status: Literal["indexed", "duplicate"]


class RejectedAsset(Reply):
    asset: str
    reason: str


class IngestResponse(Reply):
    processed: int
    qdrant_ids: list[str]
    items: list[IngestItem]
    rejected: list[RejectedAsset]
