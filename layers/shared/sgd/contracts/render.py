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
from sgd.contracts.shapes import CacheState, OutputFormat

MIN_SIDE, MAX_SIDE, MAX_AREA = 32, 4096, 16_777_216  # 32: a 320x50 mobile banner fits
_DIMENSIONS = re.compile(r"^(\d{1,5})x(\d{1,5})$")
FontName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# https in production. The SSRF guard (sgd.net.outbound) refuses plain http, except to loopback where the local
# runtime allows it (SGD_OUTBOUND_ALLOW_LOOPBACK), so the contract leaves the scheme check to it.
WebhookUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/$.?#][^\s]*$", max_length=2048)]


def integer_range_pattern(low: int, high: int) -> str:
    """A regular expression matching exactly the decimal integers low..high (no sign, no leading zeros), so that a
    JSON Schema can state a numeric range inside a string: 64..4096 -> 6[4-9]|[7-9][0-9]|[1-9][0-9]{2}|..."""

    def same_length(lo: str, hi: str) -> list[str]:
        if not lo:
            return [""]
        if lo[0] == hi[0]:
            return [lo[0] + rest for rest in same_length(lo[1:], hi[1:])]
        tail = len(lo) - 1
        parts = []
        if lo[1:] != "0" * tail:  # lo's first digit with the rest from lo up
            parts += [lo[0] + rest for rest in same_length(lo[1:], "9" * tail)]
            first = int(lo[0]) + 1
        else:
            first = int(lo[0])
        last = int(hi[0]) if hi[1:] == "9" * tail else int(hi[0]) - 1
        if first <= last:
            digit = str(first) if first == last else f"[{first}-{last}]"
            parts.append(digit + ("[0-9]" if tail == 1 else f"[0-9]{{{tail}}}" if tail else ""))
        if hi[1:] != "9" * tail:
            parts += [hi[0] + rest for rest in same_length("0" * tail, hi[1:])]
        return parts

    alternatives: list[str] = []
    for digits in range(len(str(low)), len(str(high)) + 1):
        lo = max(low, 10 ** (digits - 1) if digits > 1 else 0)
        hi = min(high, 10 ** digits - 1)
        alternatives += same_length(str(lo), str(hi))
    return "|".join(alternatives)


_SIDE = integer_range_pattern(MIN_SIDE, MAX_SIDE)
DIMENSIONS_SCHEMA = {
    "pattern": f"^({_SIDE})x({_SIDE})$",
    "x-min-side-px": MIN_SIDE, "x-max-side-px": MAX_SIDE, "x-max-area-px": MAX_AREA,
}


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
    references: list[AssetRef] = Field(default_factory=list, max_length=8, description=(
        "Images of this project (asset ids, or the upload ids they were uploaded under) or https URLs"))


class RenderOutputs(Contract):
    count: int = Field(1, ge=1, le=6)
    format: OutputFormat = "png"
    dimensions: str = Field(
        "1080x1080", examples=["1200x628"], json_schema_extra=DIMENSIONS_SCHEMA,
        description=f"WIDTHxHEIGHT in pixels: each side {MIN_SIDE}-{MAX_SIDE}, the area at most {MAX_AREA:,} px")

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
    outputs: RenderOutputs = Field(default_factory=lambda: RenderOutputs.model_validate({}))
    constraints: RenderConstraints | None = None
    webhook_url: WebhookUrl | None = Field(
        None, description="https URL called (HMAC-signed) when an async job finishes; must pass the SSRF guard")
    run_async: bool = Field(False, alias="async", description="Same as the header Prefer: respond-async.")
    auto_repair: bool | None = Field(
        None, description="Re-plan and re-render an asset whose critique score is below the policy's threshold, "
        "with its violations as input, keeping the best-scoring attempt (null: the critique policy's default)")


class TextBox(Reply):
    role: Literal["eyebrow", "headline", "subline", "cta", "legal", "other"]
    text: str
    box: tuple[int, int, int, int] = Field(description="x, y, width, height in pixels")
    font: str
    weight: Literal["regular", "bold"] | None = Field(
        None, description="The weight the text is set in: WCAG counts bold text from 14 pt (18.67 px) as large")
    size_px: int
    color: HexColor
    background: HexColor
    contrast_ratio: float


class LogoUsed(Reply):
    """Which version of the logo a design shows, and how."""

    asset_id: str | None = Field(None, description="The logo version's asset id (none when the file has no id, "
                                 "e.g. a logo passed to the engine directly)")
    use_on: Literal["light", "dark", "any"] = Field(description="The backgrounds that version is made for")
    treatment: Literal["as_is", "knockout", "plate"] = Field(
        description="as_is: the file as uploaded; knockout: a one-colour version derived from its alpha channel; "
        "plate: on a contrasting box")
    background: HexColor = Field(description="The colour under the logo (the plate's, for a plate)")


class AssetLayout(Reply):
    text_boxes: list[TextBox] = []
    logo_box: tuple[int, int, int, int] | None = None
    logo_version: LogoUsed | None = Field(
        None, description="The logo version drawn: the canon's logo_versions give one per background (light, dark); "
        "with a single logo, a one-colour knockout is derived where the logo itself is not legible")
    imagery_box: tuple[int, int, int, int] | None = Field(
        None, description="Where a picture (model imagery or the edit/variations reference) was painted: x, y, width, "
        "height; none when the design has no picture")
    imagery_treatment: Literal["as_is", "palette", "duotone"] | None = Field(
        None, description="How the picture was painted: as it is, re-toned in palette colours, or as a duotone "
        "between the palette's darkest and lightest colours")
    colors_used: list[HexColor] = []
    clear_space_px: int | None = Field(None, description="The logo clear space kept, in pixels")
    template: str | None = Field(None, description="hero, split, band, stack, frame, editorial, diagonal, spotlight, "
                                 "strip, signoff or tower")
    variant: int | None = Field(None, description="The layout variation (the asset's seed)")
    personality: str | None = Field(None, description="The brand personality the style followed, e.g. 'calm, formal, "
                                    "minimal'; none when the canon says nothing of it")
    color_shares: dict[HexColor, float] | None = Field(
        None, description="Palette colours' shares of the design in %, when the canon states proportions")


class SynthId(Reply):
    present: bool
    payload: str | None = None


class CritiqueFinding(Reply):
    kind: Literal["palette", "contrast", "logo_safe_zone", "format", "other"]
    message: str = Field(description="What is wrong and what to do about it")
    severity: Literal["low", "medium", "high"]
    box: tuple[int, int, int, int] | None = Field(None, description="x, y, width, height of the offending region")


class AssetCritiqueSummary(Reply):
    """The pixel critic's verdict on one rendered asset, measured against the canon the render used."""

    score: float = Field(ge=0, le=1, description="1 less each violation's penalty (policies/critique_policy.json)")
    passed: bool = Field(description="score reaches the critique policy's threshold")
    violations: list[CritiqueFinding] = []
    source: Literal["measured"] = Field("measured", description="measured: the deterministic pixel checks")


class RenderedAsset(Reply):
    id: ResourceId
    url: str = Field(description="Presigned GET URL; expires (SGD_PRESIGN_TTL_SECONDS).")
    width: int
    height: int
    format: OutputFormat
    synthid: SynthId
    layout: AssetLayout
    critique: AssetCritiqueSummary | None = Field(
        None, description="The critique of the delivered asset (after any repair); none when it could not be measured")


class FontSubstitution(Reply):
    requested: str
    used: str
    reason: str


class RepairAttempt(Reply):
    """One critique-and-render attempt of an asset that went through the repair loop (attempt 0 is the first
    render); only the kept attempt is stored and delivered."""

    asset_id: ResourceId
    attempt: int = Field(ge=0)
    score: float = Field(ge=0, le=1)
    passed: bool
    violation_kinds: list[str] = Field(description="The kinds of the attempt's violations, e.g. palette, contrast")
    changes: list[str] = Field(description="How this attempt's plan differed from the previous attempt's")
    kept: bool = Field(description="The delivered attempt: the best score, the earliest among equals")


class RenderAudit(Audit):
    cache: CacheState
    plan: dict[str, Any] = Field(description="The plan every asset was first rendered from; a repaired asset's "
                                             "re-plans are in `repairs` (their `changes`)")
    font_substitutions: list[FontSubstitution] = []
    repairs: list[RepairAttempt] = Field(
        [], description="Every attempt of each asset the critique sent back for repair, with its score")
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
