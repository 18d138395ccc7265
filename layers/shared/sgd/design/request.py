"""The design engine's request and result (DesignRequest, Design), its output formats and the request check."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sgd.contracts.shapes import BrandCanon, PersonalityFields, RenderPlan, UsageRuleFields, VoiceFields

if TYPE_CHECKING:
    from PIL import Image

Format = Literal["png", "jpg", "webp"]
MIME_TYPES: dict[str, str] = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}


# A don't that forbids recolouring the logo: the engine then puts it on a plate rather than knocking it out.
_NO_RECOLOUR = re.compile(r"\b(?:re-?colou?r|change (?:the )?colou?rs? of)\b", re.IGNORECASE)


@dataclass(frozen=True)
class BrandLook:
    """What the canon says of how the brand looks beyond its palette, fonts and clear space."""

    personality: PersonalityFields | None = None  # stated; else the voice implies one
    voice: VoiceFields | None = None
    color_roles: Mapping[str, str] = field(default_factory=dict)  # hex -> primary, secondary, accent, ...
    usage_rules: tuple[UsageRuleFields, ...] = ()
    logo_min_width_px: int | None = None  # the guideline's minimum logo width; None: the engine's default
    logo_plate: bool = False  # the guideline puts the logo on a plate (a solid box)
    logo_recolour: bool = True  # a one-colour knockout version may be derived when the logo is not legible

    @staticmethod
    def of(canon: BrandCanon | None) -> BrandLook:
        if not canon:
            return BrandLook()
        voice = canon.get("voice")
        donts = (voice or {}).get("donts") or []
        minimum = canon.get("logo_min_width_px")
        return BrandLook(
            personality=canon.get("personality"), voice=voice, color_roles=dict(canon.get("color_roles") or {}),
            usage_rules=tuple(canon.get("usage_rules") or ()),
            logo_min_width_px=round(minimum) if minimum else None, logo_plate=bool(canon.get("logo_plate")),
            logo_recolour=not any("logo" in dont.lower() and _NO_RECOLOUR.search(dont) for dont in donts))


@dataclass(frozen=True)
class LogoVersion:
    """An uploaded version of the logo and the backgrounds it is made for (the canon's logo_versions)."""

    data: bytes
    use_on: str = "any"  # light: a dark logo for light backgrounds; dark: a light or reversed one; any
    asset_id: str | None = None


@dataclass(frozen=True)
class DesignRequest:
    plan: RenderPlan
    width: int
    height: int
    format: Format
    palette: tuple[str, ...]  # the allowed colours (#RRGGBB); never empty
    fonts: tuple[str, ...] = ()  # requested families in priority order (headline font first)
    logo: bytes | None = None  # the brand's ingested logo (PNG, usually with alpha)
    logo_safe_zone_pct: float = 10.0  # clear space, % of the shorter canvas side
    seed: int = 0  # variation index: 0..5 give visibly different layouts
    imagery: bytes | None = None  # optional picture (model imagery or an edit/variations reference)
    project_fonts: Mapping[str, bytes] = field(default_factory=dict)  # family -> TTF/OTF bytes of this project
    look: BrandLook = field(default_factory=BrandLook)
    # The logo's uploaded versions: the one made for the background under the logo is drawn (`logo` places it).
    logo_versions: tuple[LogoVersion, ...] = ()


@dataclass(frozen=True)
class Design:
    data: bytes
    width: int
    height: int
    format: str
    mime: str
    layout: dict[str, Any]  # text_boxes, logo_box, imagery_box, colors_used, clear_space_px, template, variant, shapes
    font_substitutions: list[dict[str, str]]  # {"requested", "used", "reason"}
    notes: list[str]
    # The RGB pixels that were encoded, so a caller can measure the design without decoding `data` again. Not part
    # of the design's value: it is neither compared nor serialised.
    image: Image.Image | None = field(default=None, repr=False, compare=False)


def validate_request(request: DesignRequest) -> None:
    if request.format not in MIME_TYPES:
        raise ValueError(f"format must be one of {', '.join(MIME_TYPES)}, got {request.format!r}")
    if not (1 <= request.width <= 16384 and 1 <= request.height <= 16384):
        raise ValueError(f"canvas size out of range: {request.width}x{request.height}")
    if not request.palette:
        raise ValueError("the palette is empty; the design engine needs at least one colour")
