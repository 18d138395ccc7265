"""POST /critique."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from sgd.contracts.common import Audit, Contract, ProjectId, Reply, ResourceId

ViolationKind = Literal["palette", "contrast", "logo_safe_zone", "format", "other"]


class CritiqueRequest(Contract):
    project_id: ProjectId
    asset_ids: list[ResourceId] = Field(min_length=1, max_length=10, description=(
        "Rendered assets or ingested images of this project, by asset id or by the upload id they were uploaded "
        "under; each is critiqued against the current canon"))


class Violation(Reply):
    kind: ViolationKind
    message: str = Field(description="What is wrong and what to do about it")
    asset_id: ResourceId
    severity: Literal["low", "medium", "high"] = "medium"
    box: tuple[int, int, int, int] | None = Field(None, description="x, y, width, height in the design's pixels")
    source: Literal["measured", "model"] = Field(
        "measured", description="measured: the pixel critic; model: a vision model's finding (never clears a "
                                "measured one)")


class AssetCritique(Reply):
    asset_id: ResourceId
    score: float = Field(ge=0, le=1, description="The measured score, lowered (never raised) by a model's")
    measured_score: float = Field(ge=0, le=1, description="The pixel critic's score alone")
    checks: dict[str, Any] = Field(description=(
        "The numbers behind the findings: palette clusters (hex, share, box, CIEDE2000 to the nearest canon "
        "colour), contrast per text box, logo clear-space distances, format"))
    annotated_url: str = Field(description="Presigned GET URL of a JPEG copy with every violation boxed, numbered "
                                           "and listed in a legend under the design")
    violations: list[Violation] = []
    repair_suggestions: list[str] = []


class CritiqueResponse(Reply):
    critique_id: ResourceId
    score: float = Field(ge=0, le=1, description="The lowest asset score: a batch is as on-brand as its weakest")
    violations: list[Violation]
    repair_suggestions: list[str]
    assets: list[AssetCritique]
    canon_version: int = Field(description="The canon version the designs were measured against")
    audit: Audit
