"""The brand canon routes: derive, read, edit, list versions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from sgd.contracts.common import Contract, HexColor, ModelCall, ProjectId, Reply, ResourceId

Phrase = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class Voice(Contract):
    tone: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    dos: list[Phrase] = Field(default_factory=list, max_length=50)
    donts: list[Phrase] = Field(default_factory=list, max_length=50)


ColorRole = Literal["primary", "secondary", "accent", "background", "neutral", "text"]


class UsageRule(Contract):
    """How one colour may be used. cta_only: only on calls to action; never_background: never a background fill;
    never_text: never a text colour; no_text_on: no text placed on it; proportion: its share of a design."""

    kind: Literal["cta_only", "never_background", "never_text", "no_text_on", "proportion"]
    hex: HexColor
    min_pct: float | None = Field(None, ge=0, le=100)
    max_pct: float | None = Field(None, ge=0, le=100)
    statement: str | None = Field(None, max_length=300, description="The guideline's words the rule comes from")


class Personality(Contract):
    """The design personality, each axis 0..1: calm (0) to energetic (1), formal to playful, minimal to rich."""

    energy: float = Field(ge=0, le=1)
    playfulness: float = Field(ge=0, le=1)
    richness: float = Field(ge=0, le=1)


class LogoVersion(Contract):
    """One uploaded version of the logo and the backgrounds it is made for."""

    asset_id: ResourceId = Field(description="The version's asset id (an upload id is accepted)")
    use_on: Literal["light", "dark", "any"] = Field(
        description="light: a dark logo for light backgrounds; dark: a light or reversed logo for dark backgrounds")


class Canon(Contract):
    """The brand rules render and critique enforce; mirrors guardrails/canon.json."""

    palette_hex: list[HexColor] = Field(min_length=2, max_length=24)
    forbidden_hex: list[HexColor] = Field(default_factory=list, max_length=24)
    fonts: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=6
    )
    voice: Voice
    logo_safe_zone_pct: float = Field(10.0, ge=0, le=40)
    logo_asset_id: ResourceId | None = Field(None, description="The logo's asset id (an upload id is accepted and "
                                             "stored as the asset id its file became)")
    logo_versions: list[LogoVersion] = Field(
        default_factory=list, max_length=6, description="The logo's uploaded versions (e.g. one for light and one "
        "for dark backgrounds); render draws the one made for the background under the logo and says so")
    color_roles: dict[HexColor, ColorRole] = Field(
        default_factory=dict, max_length=24, description="Each palette colour's role, keyed by its hex")
    usage_rules: list[UsageRule] = Field(default_factory=list, max_length=40)
    personality: Personality | None = Field(None, description="Derived from the voice when the canon is derived")
    logo_min_width_px: float | None = Field(None, ge=8, le=2000, description="The smallest width the logo is shown at")
    logo_plate: bool = Field(False, description="The guideline asks for a plate (a contrasting box) behind the logo")


class CanonDeriveRequest(Contract):
    project_id: ProjectId
    evidence_ids: list[ResourceId] = Field(default_factory=list, max_length=500, description="Empty: all.")
    model: Literal["auto", "off"] = Field(
        "auto", description="auto: the model's canon task runs too when a provider key is configured (a provider "
        "failure is an error, never a documents-only canon passed off as the full answer); off: derive from the "
        "documents alone, on purpose, with no model call")


class Provenance(Reply):
    field: str
    value: str
    evidence_ids: list[str]
    source: Literal["deterministic", "inferred", "model", "manual"]
    note: str | None = None


class CanonAudit(Reply):
    """The model gateway calls behind a derivation: local/extractor when the offline engine served it."""

    model_route: list[str] = Field(description="Models used in order; local/... marks the offline engine.")
    cost_usd: float = 0.0
    calls: list[ModelCall] = []
    notes: list[str] = Field([], description="Conflicts between evidence items or with the model, and defaults.")
    derived_from: Literal["documents", "documents_and_model"] | None = Field(
        None, description="What ran: the documents' deterministic derivation alone, or it and the model's canon task")


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
