"""The design engine's request and result (DesignRequest, Design), its output formats and the request check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sgd.contracts.shapes import RenderPlan

if TYPE_CHECKING:
    from PIL import Image

Format = Literal["png", "jpg", "webp"]
MIME_TYPES: dict[str, str] = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}


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
