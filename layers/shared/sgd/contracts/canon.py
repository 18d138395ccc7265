"""The brand canon routes: derive, read, edit, list versions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, TypedDict

from pydantic import Field, StringConstraints

from sgd.contracts.common import Contract, HexColor, ModelCall, ProjectId, Reply, ResourceId

Phrase = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class VoiceFields(TypedDict, total=False):
    tone: str
    dos: list[str]
    donts: list[str]


class BrandCanon(TypedDict, total=False):
    """A canon as the services pass it around: the JSON object guardrails/canon.json validates (a stored canon has
    every required key; a partial one, mid-derivation or narrowed by a request, may lack some)."""

    palette_hex: list[str]
    forbidden_hex: list[str]
    fonts: list[str]
    voice: VoiceFields
    logo_safe_zone_pct: float
    logo_asset_id: str | None


class Voice(Contract):
    tone: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    dos: list[Phrase] = Field(default_factory=list, max_length=50)
    donts: list[Phrase] = Field(default_factory=list, max_length=50)


class Canon(Contract):
    """The brand rules render and critique enforce; mirrors guardrails/canon.json."""

    palette_hex: list[HexColor] = Field(min_length=2, max_length=24)
    forbidden_hex: list[HexColor] = Field(default_factory=list, max_length=24)
    fonts: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=6
    )
    voice: Voice
    logo_safe_zone_pct: float = Field(10.0, ge=0, le=40)
    logo_asset_id: ResourceId | None = None


class CanonDeriveRequest(Contract):
    project_id: ProjectId
    evidence_ids: list[ResourceId] = Field(default_factory=list, max_length=500, description="Empty: all.")


class Provenance(Reply):
    field: str
    value: str
    evidence_ids: list[str]
    source: Literal["deterministic", "model", "manual"]
    note: str | None = None


class CanonAudit(Reply):
    """The model gateway calls behind a derivation: local/extractor when the offline engine served it."""

    model_route: list[str] = Field(description="Models used in order; local/... marks the offline engine.")
    cost_usd: float = 0.0
    calls: list[ModelCall] = []
    notes: list[str] = Field([], description="Conflicts between evidence items or with the model, and defaults.")


class CanonDocument(Reply):
    project_id: ProjectId
    version: int = Field(ge=1)
    canon: Canon
    provenance: list[Provenance] = []
    created_at: datetime
    created_by: str
    source: Literal["derived", "manual"]
    audit: CanonAudit | None = Field(None, description="Present on POST /canon/derive.")


class CanonVersionSummary(Reply):
    version: int
    created_at: datetime
    created_by: str
    source: Literal["derived", "manual"]


class CanonVersionList(Reply):
    project_id: ProjectId
    versions: list[CanonVersionSummary]
