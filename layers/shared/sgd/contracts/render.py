"""POST /render and the render job routes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from sgd.contracts.common import (
    AssetRef,
    Audit,
    Contract,
    ErrorDetail,
    HexColor,
    ProjectId,
    Reply,
    ResourceId,
)

MIN_SIDE, MAX_SIDE, MAX_AREA = 64, 4096, 16_777_216
_DIMENSIONS = re.compile(r"^(\d{1,5})x(\d{1,5})$")
FontName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# https in production. The SSRF guard (sgd.net.outbound) refuses plain http, except to loopback where the local
# runtime allows it (SGD_OUTBOUND_ALLOW_LOOPBACK), so the contract leaves the scheme check to it.
WebhookUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/$.?#][^\s]*$", max_length=2048)]


def parse_dimensions(value: str) -> tuple[int, int]:
    """'1200x628' -> (1200, 628); ValueError names the limit that was broken."""
    match = _DIMENSIONS.fullmatch(value)
    if not match:
        raise ValueError("dimensions must be WIDTHxHEIGHT, e.g. 1080x1080")
    width, height = int(match[1]), int(match[2])
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise ValueError(f"each side must be {MIN_SIDE}-{MAX_SIDE} px")
    if width * height > MAX_AREA:
        raise ValueError(f"area must be at most {MAX_AREA} px")
    return width, height


class RenderPrompts(Contract):
    task: Literal["create", "edit", "variations"]
    instruction: str = Field(min_length=5, max_length=2000)
    references: list[AssetRef] = Field(default_factory=list, max_length=8)


class RenderOutputs(Contract):
    count: int = Field(1, ge=1, le=6)
    format: Literal["png", "jpg", "webp"] = "png"
    dimensions: str = Field("1080x1080", examples=["1200x628"])

    @field_validator("dimensions")
    @classmethod
    def _dimensions_within_limits(cls, value: str) -> str:
        parse_dimensions(value)
        return value


class RenderConstraints(Contract):
    palette_hex: list[HexColor] = Field(default_factory=list, max_length=12)
    fonts: list[FontName] = Field(default_factory=list, max_length=6)
    logo_safe_zone_pct: float | None = Field(None, ge=0, le=40)
    override: bool = Field(False, description="Allow constraints that conflict with the canon; audited.")


class RenderRequest(Contract):
    project_id: ProjectId
    prompts: RenderPrompts
    outputs: RenderOutputs = Field(default_factory=RenderOutputs)
    constraints: RenderConstraints | None = None
    webhook_url: WebhookUrl | None = Field(
        None, description="https URL called (HMAC-signed) when an async job finishes; must pass the SSRF guard")
    run_async: bool = Field(False, alias="async", description="Same as the header Prefer: respond-async.")
    auto_repair: bool | None = Field(None, description="Re-render assets whose critique score is low.")


class TextBox(Reply):
    role: Literal["headline", "subline", "cta", "other"]
    text: str
    box: tuple[int, int, int, int] = Field(description="x, y, width, height in pixels")
    font: str
    size_px: int
    color: HexColor
    background: HexColor
    contrast_ratio: float


class AssetLayout(Reply):
    text_boxes: list[TextBox] = []
    logo_box: tuple[int, int, int, int] | None = None
    colors_used: list[HexColor] = []
    clear_space_px: int | None = Field(None, description="The logo clear space kept, in pixels")
    template: str | None = Field(None, description="hero, split, band, frame or stack")
    variant: int | None = Field(None, description="The layout variation (the asset's seed)")


class SynthId(Reply):
    present: bool
    payload: str | None = None


class RenderedAsset(Reply):
    id: ResourceId
    url: str = Field(description="Presigned GET URL; expires (SGD_PRESIGN_TTL_SECONDS).")
    width: int
    height: int
    format: Literal["png", "jpg", "webp"]
    synthid: SynthId
    layout: AssetLayout
    critique: dict[str, Any] | None = None


class FontSubstitution(Reply):
    requested: str
    used: str
    reason: str


class RenderAudit(Audit):
    cache: Literal["hit", "miss"]
    plan: dict[str, Any]
    font_substitutions: list[FontSubstitution] = []
    notes: list[str] = []


class RenderResponse(Reply):
    render_id: ResourceId
    assets: list[RenderedAsset]
    audit: RenderAudit


JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class WebhookDelivery(Reply):
    status: Literal["delivered", "failed", "refused"]
    attempts: int
    last_status: int | None = Field(None, description="The receiver's last HTTP status (none: no answer)")
    delivery_id: str | None = Field(None, description="Sent as SGD-Delivery")
    reason: str | None = None


class RenderJob(Reply):
    job_id: ResourceId
    project_id: ProjectId | None = None
    status: JobStatus
    progress: float = Field(ge=0, le=1, description="Share of the job's assets rendered so far")
    created_at: datetime
    updated_at: datetime
    result: RenderResponse | None = None
    error: ErrorDetail | None = Field(None, description="Why a failed job failed, in the error shape's terms")
    webhook: WebhookDelivery | None = Field(None, description="The completion webhook's delivery, once sent")


class RenderAccepted(Reply):
    job_id: ResourceId
    status: JobStatus
    location: str = Field(description="Poll here: /render/jobs/{job_id}")


class WebhookSigningSecret(Reply):
    """GET /webhooks/signing-secret: the caller's org's key for verifying its webhook deliveries."""

    secret: Annotated[str, StringConstraints(pattern=r"^whsec_[0-9a-f]{64}$")] = Field(
        description="This org's signing key (derived per org; another org's receivers hold another key). "
                    "Keep it server-side, like a password")
    algorithm: Literal["HMAC-SHA256"] = "HMAC-SHA256"
    signature_header: Literal["SGD-Signature"] = Field(
        "SGD-Signature", description="Carries 'v1=<hex digest>'; several comma-separated during a rotation")
    timestamp_header: Literal["SGD-Timestamp"] = Field(
        "SGD-Timestamp", description="Unix seconds; reject deliveries more than 5 minutes off")
    signed_payload: Literal["{timestamp}.{raw body}"] = Field(
        "{timestamp}.{raw body}", description="What the HMAC covers: the timestamp, a dot, the exact body bytes")
