"""The JSON shapes the services pass between them, as TypedDicts: a canon, a plan, a normalised render request.

They describe plain dicts (what the guardrails validate, what is stored and hashed) at no runtime cost: no pydantic
here, so every function can import them at cold start. The API's pydantic contracts live beside this module.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class VoiceFields(TypedDict, total=False):
    tone: str
    dos: list[str]
    donts: list[str]


ColorRole = Literal["primary", "secondary", "accent", "background", "neutral", "text"]
RuleKind = Literal["cta_only", "never_background", "never_text", "no_text_on", "proportion"]


class UsageRuleFields(TypedDict, total=False):
    kind: RuleKind
    hex: str
    min_pct: float | None
    max_pct: float | None
    statement: str | None


LogoBackground = Literal["light", "dark", "any"]


class LogoVersionFields(TypedDict):
    """One uploaded version of the logo and the backgrounds it is made for: `light` (a dark logo for light
    backgrounds), `dark` (a light or reversed logo for dark backgrounds), `any`."""

    asset_id: str
    use_on: LogoBackground


class PersonalityFields(TypedDict):
    energy: float  # 0 calm .. 1 energetic
    playfulness: float  # 0 formal .. 1 playful
    richness: float  # 0 minimal .. 1 rich


class BrandCanon(TypedDict, total=False):
    """A canon as the services pass it around: the JSON object guardrails/canon.json validates (a stored canon has
    every required key; a partial one, mid-derivation or narrowed by a request, may lack some)."""

    palette_hex: list[str]
    forbidden_hex: list[str]
    fonts: list[str]
    voice: VoiceFields
    logo_safe_zone_pct: float
    logo_asset_id: str | None
    logo_versions: list[LogoVersionFields]  # the uploaded versions (light, dark); render picks by background
    color_roles: dict[str, ColorRole]  # hex -> role
    usage_rules: list[UsageRuleFields]
    personality: PersonalityFields | None
    logo_min_width_px: float | None
    logo_plate: bool


OutputFormat = Literal["png", "jpg", "webp"]
CacheState = Literal["hit", "miss"]  # whether a render was planned (or replayed) from the plan cache


class PlanLayout(TypedDict, total=False):
    """The layout intent of a plan (guardrails/render_plan.json's "layout")."""

    template: str
    eyebrow: str
    headline: str
    subline: str
    cta: str
    legal: str
    background_hex: str
    accent_hex: str
    text_hex: str
    logo_position: str
    imagery_prompt: str
    imagery_treatment: str


class RenderPlan(TypedDict, total=False):
    """What a planner (a model or the rule-based one) returns; valid against guardrails/render_plan.json."""

    goal: str
    ops: list[str]
    safety: dict[str, bool]
    layout: PlanLayout


class RequestPrompts(TypedDict):
    task: str
    instruction: str
    references: list[str]


class RequestOutputs(TypedDict):
    count: int
    format: OutputFormat
    dimensions: str  # WIDTHxHEIGHT


class RepairRequest(TypedDict):
    """What a re-plan after a failed critique is told: the attempt and every violation found so far."""

    attempt: int
    violations: list[dict[str, Any]]


class NormalisedRequest(TypedDict):
    """A render request as the pipeline (and the plan cache key, and the planner) uses it: sgd.render.cache."""

    project_id: str
    prompts: RequestPrompts
    outputs: RequestOutputs
    constraints: dict[str, Any] | None
    auto_repair: bool
    repair: NotRequired[RepairRequest]


def default_purpose(kind: str | None) -> str | None:
    """What a file is for when its upload did not say: guidelines for documents, fonts for fonts, the logo for the
    image admission recognised as one, brand imagery for other images."""
    return {"pdf": "guideline", "text": "guideline", "font": "font", "logo": "logo", "image": "imagery"}.get(kind or "")
