"""POST /critique."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from sgd.contracts.common import Audit, Contract, ProjectId, Reply, ResourceId

ViolationKind = Literal["palette", "contrast", "logo_safe_zone", "format", "other"]


class CritiqueRequest(Contract):
    project_id: ProjectId
    asset_ids: list[ResourceId] = Field(min_length=1, max_length=10)


class Violation(Reply):
    kind: ViolationKind
    message: str
    asset_id: ResourceId
    severity: Literal["low", "medium", "high"] = "medium"
    box: tuple[int, int, int, int] | None = None
    source: Literal["measured", "model"] = "measured"


class AssetCritique(Reply):
    asset_id: ResourceId
    score: float = Field(ge=0, le=1)
    checks: dict[str, Any]
    annotated_url: str
    violations: list[Violation] = []


class CritiqueResponse(Reply):
    score: float = Field(ge=0, le=1)
    violations: list[Violation]
    repair_suggestions: list[str]
    assets: list[AssetCritique]
    audit: Audit
