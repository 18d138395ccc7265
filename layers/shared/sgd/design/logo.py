"""The logo in a design: decoded and cropped (cached for warm invocations), placed in a corner with its clear space,
and drawn on a plate when the colour under it would leave it illegible."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from sgd.design.color import parse_hex
from sgd.design.color_roles import ColorRoles
from sgd.design.layout import Box, Corner, LogoPlacement, margin_for, place_logo
from sgd.design.paint import Painted
from sgd.design.planner import TEMPLATE_LAYOUTS
from sgd.lru import LruCache

LOGO_MIN_CONTRAST = 3.0  # WCAG 1.4.11 non-text contrast
LOGO_LEGIBLE_SHARE = 0.6  # share of the logo's ink that must reach LOGO_MIN_CONTRAST, else it goes on a plate
LOGO_CORNERS: tuple[Corner, ...] = ("top-left", "top-right", "bottom-left", "bottom-right")
CORNER_BY_NAME: dict[str, Corner] = {corner: corner for corner in LOGO_CORNERS}


def logo_placement(logo: _Logo | None, layout_plan: Mapping[str, Any], template: str, canvas: Box,
                   clear: int, notes: list[str]) -> LogoPlacement | None:
    position = layout_plan.get("logo_position")
    if logo is None:
        if position in LOGO_CORNERS:
            notes.append("no logo available: the plan's logo_position was not used")
        return None
    if position == "none":
        notes.append("logo left out: the plan places no logo")
        return None
    corner = CORNER_BY_NAME.get(str(position), TEMPLATE_LAYOUTS[template].logo_corner)
    placement = place_logo(canvas, corner, logo.image.width, logo.image.height, clear, margin_for(canvas.w, canvas.h))
    if placement is None:
        notes.append(f"logo left out: with its clear space ({clear}px) it would be under 24px on this canvas")
    return placement


@dataclass(frozen=True)
class _Logo:
    image: Image.Image  # RGBA, transparent margins cropped
    digest: str  # identifies the logo file in the cache


_LOGO_CACHE_LIMIT = 16  # decoded and scaled logos, kept for warm invocations (a brand reuses one logo)
_logo_cache: LruCache[tuple[str, int, int], Any] = LruCache(_LOGO_CACHE_LIMIT)


def _cached(key: tuple[str, int, int], make: Any) -> Any:
    return _logo_cache.get_or_make(key, make)


def decode_logo(data: bytes, notes: list[str]) -> _Logo | None:
    digest = hashlib.sha256(data).hexdigest()
    decoded = _cached((digest, 0, 0), lambda: _read_logo(data))
    if isinstance(decoded, str):
        notes.append(decoded)
        return None
    return _Logo(decoded, digest)


def _read_logo(data: bytes) -> Image.Image | str:
    """The logo cropped to its visible pixels, or the note saying why it cannot be used."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            logo = opened.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError):
        return "logo left out: the logo file could not be read"
    bounds = logo.getchannel("A").getbbox()
    if bounds is None:
        return "logo left out: the logo is fully transparent"
    return logo.crop(bounds)  # transparent margins would eat into the clear space


def draw_logo(image: Image.Image, logo: _Logo, placement: LogoPlacement, painted: Painted,
              colors: ColorRoles, notes: list[str]) -> Box:
    box = placement.logo
    scaled: _ScaledLogo = _cached((logo.digest, box.w, box.h), lambda: _ScaledLogo.of(logo.image, box.w, box.h))
    under = _solid_color_under(placement.element, painted)
    if under is None or scaled.legible_share(under) < LOGO_LEGIBLE_SHARE:
        plate = max(colors.palette, key=scaled.legible_share)
        ImageDraw.Draw(image).rectangle(
            (placement.element.x, placement.element.y, placement.element.right - 1, placement.element.bottom - 1),
            fill=parse_hex(plate))
        painted.append((placement.element, "rect", plate, "logo_plate"))
        notes.append(f"logo placed on a {plate} plate for contrast")
        if scaled.legible_share(plate) < LOGO_LEGIBLE_SHARE:
            notes.append("no palette colour gives the logo 3:1 contrast; used the best plate")
    image.paste(scaled.image, (box.x, box.y), scaled.image)
    return box


def _solid_color_under(box: Box, painted: Painted) -> str | None:
    """The single solid colour under `box`, or None when imagery or more than one colour is there."""
    for region, kind, color, _name in reversed(painted):
        if region.intersects(box):
            return color if kind == "rect" and region.contains(box) else None
    return painted[0][2]


_LINEAR = np.array([c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
                    for c in (value / 255 for value in range(256))])


@dataclass(frozen=True)
class _ScaledLogo:
    image: Image.Image
    luminance: np.ndarray  # WCAG relative luminance per pixel
    alpha: np.ndarray

    @staticmethod
    def of(logo: Image.Image, width: int, height: int) -> _ScaledLogo:
        # Premultiplied alpha while resampling, so transparent pixels do not bleed dark fringes into the edges.
        scaled = logo.convert("RGBa").resize((width, height), Image.Resampling.LANCZOS).convert("RGBA")
        pixels = np.asarray(scaled)
        luminance = _LINEAR[pixels[..., :3]] @ np.array([0.2126, 0.7152, 0.0722])
        return _ScaledLogo(scaled, luminance, pixels[..., 3].astype(np.float64))

    def legible_share(self, color: str) -> float:
        """The alpha-weighted share of the logo's pixels with at least 3:1 contrast on `color`."""
        total = self.alpha.sum()
        if total <= 0:
            return 0.0
        red, green, blue = parse_hex(color)
        background = 0.2126 * _LINEAR[red] + 0.7152 * _LINEAR[green] + 0.0722 * _LINEAR[blue]
        lighter, darker = np.maximum(self.luminance, background), np.minimum(self.luminance, background)
        return float((self.alpha * ((lighter + 0.05) / (darker + 0.05) >= LOGO_MIN_CONTRAST)).sum() / total)
