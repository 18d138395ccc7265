"""POST /uploads, POST /ingest and the S3 upload ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from sgd.contracts.common import Contract, ProjectId, Reply, ResourceId

# An upload id, or a URL. Only https URLs are fetched: any other URL reaches the SSRF guard and is listed in
# `rejected[]` with its reason (a per-asset problem, not a malformed request).
IngestAssetRef = Annotated[
    str, StringConstraints(pattern=r"^([A-Za-z0-9_-]{1,64}|https?://[^\s/$.?#][^\s]*)$", max_length=2048)
]
FileName = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^/\\\x00-\x1f]+$")]
ContentType = Annotated[str, StringConstraints(pattern=r"^[a-z]+/[a-z0-9.+-]+$", max_length=100)]


AssetPurpose = Literal["guideline", "logo", "font", "imagery", "example"]


class UploadRequest(Contract):
    project_id: ProjectId
    filename: FileName
    content_type: ContentType
    size_bytes: int = Field(ge=1, description="Declared size; the presigned POST enforces it as a limit.")
    purpose: AssetPurpose | None = Field(
        None, description="What the file is for. Default by kind: PDFs and text are guidelines, fonts fonts, an image "
                          "detected as the logo the logo, other images brand imagery (they fill the picture areas of "
                          "renders made without a model key). 'example' keeps an image out of the imagery.")


class UploadTicket(Reply):
    upload_id: ResourceId
    key: str
    url: str
    fields: dict[str, str] = Field(description="Form fields to send with the file in a multipart POST.")
    expires_at: datetime
    max_bytes: int


UploadStatusName = Literal["pending", "received", "indexed", "duplicate", "rejected"]
RejectionCode = Literal[
    # admission (the file itself): see the README's Ingest section
    "empty", "too_large", "corrupt", "encrypted", "type_not_allowed", "executable", "archive", "svg", "polyglot",
    "too_many_pages", "too_many_pixels",
    # the reference or the delivery
    "unknown_upload", "not_uploaded", "upload_expired", "file_missing", "fetch_refused", "fetch_failed",
    "rejected",  # a rejection recorded before codes were kept
]
AssetKind = Literal["pdf", "image", "logo", "font", "text"]


class UploadStatus(Reply):
    """One upload's progress: pending (ticket issued, no file yet), received (S3 reported the file), then
    indexed, duplicate (the same content was ingested before) or rejected (with the reason)."""

    upload_id: ResourceId
    project_id: ProjectId
    status: UploadStatusName
    filename: str | None = None
    size: int | None = None
    code: RejectionCode | None = Field(None, description="A rejection's stable, machine-readable code")
    reason: str | None = None
    asset_id: str | None = None
    evidence_id: str | None = None
    kind: AssetKind | None = None
    purpose: AssetPurpose | None = None
    points: int | None = Field(None, description="Text chunks indexed for search.")
    received_at: datetime | None = None
    processed_at: datetime | None = None


class IngestRequest(Contract):
    project_id: ProjectId
    assets: list[IngestAssetRef] = Field(min_length=1, max_length=50, description="Upload ids or https URLs.")


class IngestItem(Reply):
    asset: str
    evidence_id: str
    kind: AssetKind
    status: Literal["indexed", "duplicate"]


class RejectedAsset(Reply):
    asset: str
    code: RejectionCode = Field(description="Stable and machine-readable: what kind of problem it is")
    reason: str = Field(description="What is wrong and what to do about it")


class PendingAsset(Reply):
    asset: str
    reason: str = Field(description="Why it has no result yet, and how to follow it (GET /uploads/{upload_id}).")


class IngestResponse(Reply):
    processed: int = Field(description="Assets admitted (indexed or duplicate); rejected ones are listed apart.")
    qdrant_ids: list[str] = Field(description="Vector points written by this request (none for duplicates).")
    items: list[IngestItem]
    rejected: list[RejectedAsset]
    processing: list[PendingAsset] = Field(
        default_factory=list, description="Uploads another delivery (e.g. the S3 event) is still ingesting.")
