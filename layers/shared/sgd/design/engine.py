"""The offline design engine: a render plan (guardrails/render_plan.json), a palette, fonts and a logo in, a finished
design out. Deterministic: the same request gives byte-identical output (no clock, no randomness, fixed encoder
settings, no metadata). Fills and text use palette colours only; every text box is checked for WCAG contrast
against the colour actually under it; the logo keeps its clear space from the edges and from every other element.

Route modules must import this module lazily (inside the handler): it loads numpy and Pillow at import time."""

from __future__ import annotations

import hashlib
import io
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from sgd.design.color import AA_LARGE_TEXT, AA_NORMAL_TEXT, contrast_ratio, normalize_hex, parse_hex
from sgd.design.fonts import (
    REASON_GLYPHS,
    WIDE_COVERAGE_FAMILY,
    FontChoice,
    FontFile,
    ResolvedFamily,
    bundled_family,
    covers,
    record_substitution,
    resolve_fonts,
)
from sgd.design.graphics import draw_graphic, graphic_colors, style_for
from sgd.design.layout import (
    DEFAULT_MEDIA_SHARE,
    TEMPLATES,
    Box,
    LogoPlacement,
    Shape,
    Skeleton,
    balanced_media_share,
    build_skeleton,
    clear_space_px,
    margin_for,
    place_logo,
    variant_for,
)
from sgd.design.planner import FALLBACK_HEADLINE, TEMPLATE_LAYOUTS, choose_colors, template_for
from sgd.design.typeset import Align, SetText, fit_text
from sgd.lru import LruCache

Format = Literal["png", "jpg", "webp"]
MIME_TYPES: dict[str, str] = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
LARGE_TEXT_PX = 24  # WCAG large text: 18 pt = 24 px; such text needs 3:1 instead of 4.5:1
ABSOLUTE_MIN_FONT_PX = 6  # below the legible floors, only to keep a verbatim headline on a tiny canvas
LOGO_MIN_CONTRAST = 3.0  # WCAG 1.4.11 non-text contrast
LOGO_LEGIBLE_SHARE = 0.6  # share of the logo's ink that must reach LOGO_MIN_CONTRAST, else it goes on a plate
# The share of the canvas anti-aliased text edges may take (they blend two palette colours, so they are off the
# palette); above it the copy is drawn with hinted monochrome glyphs.
ANTIALIAS_BUDGET = 0.04
PNG_COMPRESS_LEVEL = 1  # flat colour compresses well even at the fastest zlib level
JPEG_QUALITY = WEBP_QUALITY = 90
WEBP_METHOD = 2  # libwebp effort 0-6: 2 encodes a 1080x1080 design about twice as fast as 4 for a few % more bytes
LOGO_CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
ImageryTreatment = Literal["as_is", "palette"]
IMAGERY_TREATMENTS: tuple[ImageryTreatment, ...] = ("as_is", "palette")
# The palette treatment re-tones a picture in palette colours by lightness (a posterised duotone/tritone). Palette
# colours closer in luma than this would only band the picture's noise, so the later of such a pair is not a tone.
TONE_MIN_LUMA_STEP = 24
TONE_DETAIL_PX = 360  # the treated picture keeps about this much detail across its shorter side: no speckle
TONE_BLUR = 1  # box-blur radius at the reduced size: evens out grain before the lightness picks a tone
TONE_MAX_GAIN = 3.0  # how far a low-contrast picture's tones are stretched (more would band its noise)
TONE_CLIP_SHARE = 0.02  # darkest and lightest shares of the picture ignored when stretching its tones


@dataclass(frozen=True)
class DesignRequest:
    plan: dict[str, Any]  # a plan valid against guardrails/render_plan.json
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


def render_design(request: DesignRequest) -> Design:
    """Renders one design. Raises ValueError for a request no design can satisfy (bad size, format or palette)."""
    _validate(request)
    palette = list(dict.fromkeys(normalize_hex(color) for color in request.palette))
    layout_plan: dict[str, Any] = dict(request.plan.get("layout") or {})
    notes: list[str] = []
    canvas = Box(0, 0, request.width, request.height)

    template = layout_plan.get("template")
    if template not in TEMPLATES:
        template = template_for(request.width, request.height)
    headline = (layout_plan.get("headline") or "").strip()
    if not headline:
        headline = FALLBACK_HEADLINE
        notes.append(f"the plan has no headline; used {FALLBACK_HEADLINE!r}")
    copy = {"headline": headline, "subline": (layout_plan.get("subline") or "").strip(),
            "cta": (layout_plan.get("cta") or "").strip()}

    fonts = resolve_fonts(request.fonts, request.project_fonts)
    substitutions = list(fonts.substitutions)
    imagery = _decode_imagery(request.imagery, notes) if request.imagery else None
    variant = variant_for(template, request.seed)
    logo_image = _decode_logo(request.logo, notes) if request.logo else None
    clear = clear_space_px(request.logo_safe_zone_pct, canvas)
    placement = _logo_placement(logo_image, layout_plan, template, canvas, clear, notes)
    media_graphic = imagery is None and len(palette) > 1
    skeleton = build_skeleton(template, request.width, request.height, variant, has_imagery=imagery is not None,
                              keep_out=placement.keep_out if placement else None, media_graphic=media_graphic)

    faces = _faces_for_copy(copy, fonts, substitutions, notes)
    stack = _fit_copy_in(skeleton, copy, faces, notes)
    if stack is None and placement is not None:
        notes.append("logo left out: its clear space leaves no room for the headline")
        placement = None
        skeleton = build_skeleton(template, request.width, request.height, variant, has_imagery=imagery is not None,
                                  media_graphic=media_graphic)
        stack = _fit_copy_in(skeleton, copy, faces, notes)
    if stack is None:
        # Last resort for tiny canvases: the whole canvas for the copy, without picture or accent shapes.
        notes.append("picture area and accent shapes left out to make room for the headline")
        imagery = None
        skeleton = replace(skeleton, media=None, surfaces=(), decor=(), kicker=False, panel_behind_copy=False,
                           copy_area=skeleton.canvas.inset(max(1, skeleton.margin // 2)))
        stack = _fit_copy_in(skeleton, copy, faces, notes)
    if stack is None:  # pragma: no cover - within the API's limits a headline always fits at the absolute floor
        raise ValueError(f"the headline cannot fit a {request.width}x{request.height} canvas")
    if media_graphic and skeleton.media is not None:
        skeleton, stack = _balance_stack(skeleton, stack, copy, faces, placement)
    colors = _ColorRoles.choose(palette, layout_plan, skeleton, stack)
    treatment = _imagery_treatment(layout_plan, notes) if imagery is not None else None
    image, painted = _paint_background(skeleton, colors, imagery, treatment, skeleton.decor,
                                       placement.keep_out if placement else None, request.seed)
    imagery_box = next((box for box, _kind, _color, name in painted if name == "imagery"), None)
    text_boxes = _draw_copy(image, stack, colors, faces, painted, notes)
    logo_box = _draw_logo(image, logo_image, placement, painted, colors, notes) if placement and logo_image else None

    layout = {
        "text_boxes": text_boxes,
        "logo_box": logo_box.as_list() if logo_box else None,
        "imagery_box": imagery_box.as_list() if imagery_box else None,
        "imagery_treatment": treatment if imagery_box else None,
        "colors_used": list(dict.fromkeys(color for _box, _kind, color, _name in painted if color)
                            | dict.fromkeys(box["color"] for box in text_boxes)),
        "clear_space_px": clear,
        "template": template,
        "variant": request.seed,
        "shapes": [{"name": name, "kind": kind, "box": box.as_list(), "color": color}
                   for box, kind, color, name in painted[1:] if color],
    }
    data = _encode(image, request.format)
    return Design(data, request.width, request.height, request.format, MIME_TYPES[request.format], layout,
                  substitutions, list(dict.fromkeys(notes)), image)


def _validate(request: DesignRequest) -> None:
    if request.format not in MIME_TYPES:
        raise ValueError(f"format must be one of {', '.join(MIME_TYPES)}, got {request.format!r}")
    if not (1 <= request.width <= 16384 and 1 <= request.height <= 16384):
        raise ValueError(f"canvas size out of range: {request.width}x{request.height}")
    if not request.palette:
        raise ValueError("the palette is empty; the design engine needs at least one colour")


# --- copy -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Faces:
    """The font file and family name each copy role is set in."""

    files: Mapping[str, FontFile]
    families: Mapping[str, str]


def _faces_for_copy(copy: Mapping[str, str], fonts: FontChoice, substitutions: list[dict[str, str]],
                    notes: list[str]) -> _Faces:
    """Headline and CTA in the headline family's bold, the subline in the body family's regular; a role whose copy
    has characters its font lacks moves to the wider-coverage bundled family when that has them."""
    roles: dict[str, tuple[ResolvedFamily, Literal["regular", "bold"]]] = {
        "headline": (fonts.headline, "bold"), "subline": (fonts.body, "regular"), "cta": (fonts.headline, "bold")}
    files: dict[str, FontFile] = {}
    families: dict[str, str] = {}
    for role, (family, weight) in roles.items():
        font_file = family.file(weight)
        assert font_file is not None  # every resolved family has a regular file
        files[role], families[role] = font_file, family.family
        text = copy.get(role) or ""
        if not text or family.source == "builtin" or covers(font_file, text):
            continue
        wide = bundled_family(WIDE_COVERAGE_FAMILY)
        wide_file = wide.file(weight) if wide else None
        if wide_file is not None and covers(wide_file, text):
            files[role], families[role] = wide_file, WIDE_COVERAGE_FAMILY
            record_substitution(substitutions, family.family, WIDE_COVERAGE_FAMILY, REASON_GLYPHS)
        else:
            notes.append(f"some characters of the {role} have no glyph in the available fonts")
    return _Faces(files, families)


@dataclass(frozen=True)
class _Placed:
    role: Literal["headline", "subline", "cta", "kicker"]
    box: Box
    text: SetText | None = None  # None for the kicker rule
    padding: tuple[int, int] = (0, 0)  # the CTA button's padding around its label


@dataclass(frozen=True)
class _Stack:
    elements: tuple[_Placed, ...]
    align: Align
    panel: Box | None  # behind the copy, over imagery

    def get(self, role: str) -> _Placed | None:
        return next((element for element in self.elements if element.role == role), None)


def _fit_copy_in(skeleton: Skeleton, copy: Mapping[str, str], faces: _Faces, notes: list[str]) -> _Stack | None:
    """The copy stack in the skeleton's copy area; over imagery, inset so the panel behind it stays in the area."""
    panel_pad = skeleton.gap if skeleton.panel_behind_copy else 0
    stack = _fit_copy(skeleton, skeleton.copy_area.inset(panel_pad), copy, faces, notes)
    if stack is None or not panel_pad:
        return stack
    bounds = _union(element.box for element in stack.elements)
    return replace(stack, panel=bounds.expand(panel_pad))


def _balance_stack(skeleton: Skeleton, stack: _Stack, copy: Mapping[str, str], faces: _Faces,
                   placement: LogoPlacement | None) -> tuple[Skeleton, _Stack]:
    """stack and frame with the brand graphic: gives the graphic the copy part's empty height, so copy and graphic
    share a tall canvas without a large empty region. Kept only when the copy still fits as it did (same parts, the
    headline as large); otherwise the skeleton stays as it was."""
    block = _union(element.box for element in stack.elements)
    share = balanced_media_share(skeleton, block.h)
    if skeleton.media is None or round(share * 100) <= round(DEFAULT_MEDIA_SHARE * 100):
        return skeleton, stack
    canvas = skeleton.canvas
    balanced = build_skeleton(skeleton.template, canvas.w, canvas.h, skeleton.variant, has_imagery=False,
                              keep_out=placement.keep_out if placement else None, media_graphic=True,
                              media_share=share)
    scratch: list[str] = []
    refit = _fit_copy_in(balanced, copy, faces, scratch)
    if refit is None or [element.role for element in refit.elements] != [element.role for element in stack.elements]:
        return skeleton, stack
    old_head, new_head = stack.get("headline"), refit.get("headline")
    if old_head is None or new_head is None or old_head.text is None or new_head.text is None or \
            new_head.text.size < old_head.text.size or new_head.text.lines != old_head.text.lines:
        return skeleton, stack
    return balanced, refit


def _fit_copy(skeleton: Skeleton, area: Box, copy: Mapping[str, str], faces: _Faces,
              notes: list[str]) -> _Stack | None:
    """Fits the copy stack into `area`, leaving out the subline, then the CTA, when they cannot fit."""
    include = {"subline": bool(copy["subline"]), "cta": bool(copy["cta"])}
    dropped: list[str] = []
    absolute_floor = False
    while True:
        stack, failed = _try_stack(skeleton, area, copy, faces, include, absolute_floor)
        if stack is not None:
            break
        optional = failed if failed in ("subline", "cta") and include[failed] else None
        optional = optional or next((role for role in ("subline", "cta") if include[role]), None)
        if optional is not None:
            include[optional] = False
            dropped.append(optional)
            continue
        if absolute_floor:
            return None
        absolute_floor = True
    for role in dropped:
        label = "call to action" if role == "cta" else role
        notes.append(f"{label} left out: it does not fit the {skeleton.canvas.w}x{skeleton.canvas.h} canvas")
    headline = stack.get("headline")
    if headline and headline.text and headline.text.broke_words:
        notes.append("a word of the headline was too long for one line and was broken across lines")
    if absolute_floor and headline and headline.text:
        notes.append(f"headline set at {headline.text.size}px, below the legible floor, to fit the canvas")
    return stack


def _try_stack(skeleton: Skeleton, area: Box, copy: Mapping[str, str], faces: _Faces, include: Mapping[str, bool],
               absolute_floor: bool) -> tuple[_Stack | None, str]:
    """One attempt at the copy stack: (stack, "") or (None, the role that did not fit). The headline starts at the
    largest size that leaves the other copy room at its floor, and shrinks until the subline and CTA fit at sizes
    in proportion to it; failing that, they may go down to their floors."""
    unit = skeleton.unit
    if area.w <= 0 or area.h <= 0:
        return None, "headline"
    floors = _Floors(ABSOLUTE_MIN_FONT_PX if absolute_floor else max(8, round(0.035 * unit)),
                     max(7, round(0.022 * unit)))
    kicker = None
    if skeleton.kicker:
        kicker_height = max(2, round(0.012 * unit))
        kicker = (min(area.w, max(3 * kicker_height, round(0.16 * area.w))), kicker_height,
                  max(2, round(0.025 * unit)))
    available = area.h - (kicker[1] + kicker[2] if kicker else 0)
    reserve = 0
    if include["subline"]:
        reserve += math.ceil(floors.body * 1.25) + 2
    if include["cta"]:
        reserve += math.ceil(floors.body * 2.2) + 3
    head_cap = max(floors.head, round(min(0.15 * area.w, 0.42 * area.h)))
    first = fit_text(copy["headline"], faces.files["headline"], area.w, available - reserve, head_cap, floors.head,
                     line_spacing=1.08)
    if first is None:
        return None, "headline"
    size, failed = first.size, "headline"
    while True:
        parts, failed = _compose(copy, faces, include, area.w, available, size, floors, proportional=True)
        if parts is not None or size <= floors.head:
            break
        size = max(floors.head, min(size - 1, math.floor(size * 0.9)))
    if parts is None:
        parts, failed = _compose(copy, faces, include, area.w, available, floors.head, floors, proportional=False)
    if parts is None:
        return None, failed
    return _Stack(_arrange(skeleton, area, kicker, parts), skeleton.variant.align, None), ""


@dataclass(frozen=True)
class _Floors:
    head: int
    body: int


# role, set text, gap before, extra width, extra height (the CTA button's padding on both sides)
_Part = tuple[str, SetText, int, int, int]


def _compose(copy: Mapping[str, str], faces: _Faces, include: Mapping[str, bool], width: int, available: int,
             head_size: int, floors: _Floors, *, proportional: bool) -> tuple[list[_Part] | None, str]:
    """Headline at most head_size, then the CTA and the subline in what remains, sized in proportion to the
    headline (down to their floors only when not `proportional`)."""
    head = fit_text(copy["headline"], faces.files["headline"], width, available, head_size, floors.head,
                    line_spacing=1.08)
    if head is None:
        return None, "headline"
    parts: list[_Part] = [("headline", head, 0, 0, 0)]
    remaining = available - head.height
    sub_gap = max(2, round(0.3 * head.size))
    sub_cap = max(floors.body, round(0.45 * head.size))
    sub_floor = min(sub_cap, max(floors.body, round(0.3 * head.size))) if proportional else floors.body
    sub_minimum = math.ceil(sub_floor * 1.25) + sub_gap if include["subline"] else 0
    cta_part = None
    if include["cta"]:
        target = max(floors.body, round(0.36 * head.size))
        cta_floor = min(target, max(floors.body, round(0.28 * head.size))) if proportional else floors.body
        pad_x, pad_y = max(3, round(0.9 * target)), max(2, round(0.45 * target))
        gap = max(3, round(0.45 * head.size))
        label = fit_text(copy["cta"], faces.files["cta"], width - 2 * pad_x,
                         remaining - gap - 2 * pad_y - sub_minimum, target, cta_floor, line_spacing=1.1)
        if label is None:
            return None, "cta"
        cta_part = ("cta", label, gap, 2 * pad_x, 2 * pad_y)
        remaining -= gap + label.height + 2 * pad_y
    if include["subline"]:
        sub = fit_text(copy["subline"], faces.files["subline"], width, remaining - sub_gap, sub_cap, sub_floor,
                       line_spacing=1.25)
        if sub is None:
            return None, "subline"
        parts.append(("subline", sub, sub_gap, 0, 0))
    if cta_part:
        parts.append(cta_part)
    return parts, ""


def _arrange(skeleton: Skeleton, area: Box, kicker: tuple[int, int, int] | None,
             parts: list[_Part]) -> tuple[_Placed, ...]:
    """Stacks the parts top to bottom and anchors the block in the area by the variant's alignment."""
    rows: list[tuple[str, int, int, int, SetText | None, tuple[int, int]]] = []  # role, w, h, gap, text, padding
    if kicker:
        rows.append(("kicker", kicker[0], kicker[1], 0, None, (0, 0)))
    for index, (role, text, gap, extra_width, extra_height) in enumerate(parts):
        gap = kicker[2] if kicker and index == 0 else gap
        rows.append((role, text.width + extra_width, text.height + extra_height, gap, text,
                     (extra_width // 2, extra_height // 2)))
    block_height = sum(row[2] + row[3] for row in rows)
    valign, align = skeleton.variant.valign, skeleton.variant.align
    top = area.y if valign == "top" else area.bottom - block_height if valign == "bottom" else \
        area.y + (area.h - block_height) // 2
    elements = []
    for role, width, height, gap, text, padding in rows:
        top += gap
        x = area.x if align == "left" else area.right - width if align == "right" else \
            area.x + (area.w - width) // 2
        elements.append(_Placed(role, Box(x, top, width, height), text, padding))  # type: ignore[arg-type]
        top += height
    return tuple(elements)


def _union(boxes: Iterable[Box]) -> Box:
    boxes = list(boxes)
    x, y = min(box.x for box in boxes), min(box.y for box in boxes)
    return Box(x, y, max(box.right for box in boxes) - x, max(box.bottom for box in boxes) - y)


# --- colour -------------------------------------------------------------------------------------------------------


def text_threshold(size_px: int) -> float:
    """The WCAG contrast a text of this size needs: 3:1 from 24 px (large text), else 4.5:1."""
    return AA_LARGE_TEXT if size_px >= LARGE_TEXT_PX else AA_NORMAL_TEXT


@dataclass(frozen=True)
class _ColorRoles:
    palette: tuple[str, ...]
    background: str  # the canvas, under the copy unless a panel is
    text: str  # the preferred text colour
    media: str
    border: str
    accent: str  # accent shapes and the kicker rule
    panel: str | None  # behind the copy over imagery
    button: str | None

    @staticmethod
    def choose(palette: list[str], layout_plan: Mapping[str, Any], skeleton: Skeleton, stack: _Stack) -> _ColorRoles:
        """Colour roles from the plan's colours (when in the palette) rearranged by the variant's scheme. Every
        surface under copy is a colour that some palette colour reaches the copy's contrast on, whenever the
        palette has such a pair."""
        base = _plan_colors(palette, layout_plan)
        plan_background, plan_text, plan_accent = base
        scheme = skeleton.variant.scheme
        if scheme == "inverted":
            backgrounds, text, accents = [plan_text, plan_background], plan_background, [plan_accent, plan_background]
        elif scheme == "accent":
            backgrounds, text, accents = [plan_accent, plan_background], plan_text, [plan_background, plan_text]
        else:
            backgrounds, text, accents = [plan_background, plan_text], plan_text, [plan_accent, plan_text]
        copy_threshold = max((text_threshold(element.text.size) for element in stack.elements
                              if element.text is not None and element.role != "cta"), default=AA_LARGE_TEXT)
        panel = None
        if stack.panel is not None:
            panel = _readable_fill([plan_background, plan_text], palette, copy_threshold)
            background = _first_other(backgrounds, palette, avoid=())
        else:
            background = _readable_fill(backgrounds, palette, copy_threshold)
        border = _first_other([plan_accent, plan_text], palette, avoid=(background,))
        media = _first_other([plan_accent, *accents], palette, avoid=(background, border))
        accent = _first_other(accents, palette, avoid=(background, media))
        button = None
        cta = stack.get("cta")
        if cta is not None and cta.text is not None:
            under = panel or background
            button = _readable_fill([plan_accent, *accents, plan_text], palette, text_threshold(cta.text.size),
                                    avoid=(under,))
        return _ColorRoles(tuple(palette), background, text, media, border, accent, panel, button)

    def text_on(self, surface: str, size_px: int) -> tuple[str, float]:
        """The text colour for `surface`: the preferred one when it reaches the size's threshold, else the first
        palette colour that does, else the palette colour with the best contrast."""
        threshold = text_threshold(size_px)
        candidates = [color for color in dict.fromkeys([self.text, *self.palette]) if color != surface] or [surface]
        for color in candidates:
            ratio = contrast_ratio(surface, color)
            if ratio >= threshold:
                return color, ratio
        best = max(candidates, key=lambda color: contrast_ratio(surface, color))
        return best, contrast_ratio(surface, best)


def _plan_colors(palette: list[str], layout_plan: Mapping[str, Any]) -> tuple[str, str, str]:
    """(background, text, accent): the plan's, when they are palette colours, else the planner's choice."""
    derived = choose_colors(palette)
    chosen = []
    for key in ("background_hex", "text_hex", "accent_hex"):
        value = layout_plan.get(key)
        try:
            color = normalize_hex(value) if isinstance(value, str) else None
        except ValueError:
            color = None
        chosen.append(color if color in palette else derived.get(key, palette[0]))
    return chosen[0], chosen[1], chosen[2]


def _best_partner_ratio(fill: str, palette: Sequence[str]) -> float:
    return max((contrast_ratio(fill, other) for other in palette if other != fill), default=1.0)


def _readable_fill(preferred: Sequence[str], palette: Sequence[str], threshold: float,
                   avoid: Sequence[str] = ()) -> str:
    """The first colour (preferred ones first, then palette order, avoided ones last) that some other palette
    colour reaches `threshold` on; else the one with the best partner (a member of the best pair)."""
    order = list(dict.fromkeys([*preferred, *palette]))
    order = [color for color in order if color not in avoid] + [color for color in order if color in avoid]
    for color in order:
        if _best_partner_ratio(color, palette) >= threshold:
            return color
    return max(order, key=lambda color: _best_partner_ratio(color, palette))


def _first_other(preferred: Sequence[str], palette: Sequence[str], avoid: Sequence[str]) -> str:
    """The first preferred (then palette) colour not in `avoid`; the first preferred one when all are avoided."""
    order = list(dict.fromkeys([*preferred, *palette]))
    return next((color for color in order if color not in avoid), order[0])


# --- painting -------------------------------------------------------------------------------------------------------

# (box, kind, colour or None for imagery, name), in paint order; index 0 is the canvas background.
Painted = list[tuple[Box, str, str | None, str]]


def _paint_background(skeleton: Skeleton, colors: _ColorRoles, imagery: Image.Image | None,
                      treatment: ImageryTreatment | None, decor: Sequence[Shape], keep_out: Box | None,
                      seed: int) -> tuple[Image.Image, Painted]:
    """The canvas, surfaces, the imagery (re-toned in palette colours under the "palette" treatment) or (without
    it) the brand graphic in the media area, then the accent shapes. The graphic keeps out of the logo's clear
    space (`keep_out`)."""
    canvas = skeleton.canvas
    image = Image.new("RGB", (canvas.w, canvas.h), parse_hex(colors.background))
    draw = ImageDraw.Draw(image)
    painted: Painted = [(canvas, "rect", colors.background, "background")]
    roles = {"media": colors.media, "border": colors.border, "background": colors.background,
             "accent": colors.accent}
    for shape in skeleton.surfaces:
        _fill(draw, shape.box, shape.kind, roles[shape.paint])
        painted.append((shape.box, shape.kind, roles[shape.paint], shape.name))
    if imagery is not None and skeleton.media is not None:
        media = skeleton.media
        picture = ImageOps.fit(imagery, (media.w, media.h), Image.Resampling.LANCZOS)
        if treatment == "palette":
            picture = map_to_palette(picture, colors.palette)
        image.paste(picture, (media.x, media.y))
        painted.append((media, "rect", None, "imagery"))
    elif skeleton.media is not None:
        inks = _graphic_inks(colors.media, colors)
        graphic = draw_graphic(image, skeleton.media, inks, style_for(skeleton.template, seed), seed, keep_out)
        if graphic is not None:
            # One entry per region and colour: the region holds that palette colour among others.
            painted.extend((region, "graphic", color, "graphic") for region in graphic.regions
                           for color in graphic.colors if color != colors.media)
    for shape in decor:
        _fill(draw, shape.box, shape.kind, roles[shape.paint])
        painted.append((shape.box, shape.kind, roles[shape.paint], shape.name))
        if imagery is None and shape.name == "block" and skeleton.template == "hero":
            # The hero's side block carries the brand graphic: it is clear of the copy and of the logo already.
            color = roles[shape.paint]
            graphic = draw_graphic(image, shape.box, _graphic_inks(color, colors), style_for("hero", seed), seed)
            if graphic is not None:
                painted.extend((region, "graphic", ink, shape.name) for region in graphic.regions
                               for ink in graphic.colors if ink != color)
    return image, painted


def _imagery_treatment(layout_plan: Mapping[str, Any], notes: list[str]) -> ImageryTreatment:
    treatment = layout_plan.get("imagery_treatment") or "as_is"
    if treatment not in IMAGERY_TREATMENTS:
        notes.append(f"unknown imagery_treatment {treatment!r}: the picture was used as it is")
        return "as_is"
    return treatment  # type: ignore[no-any-return]


def map_to_palette(picture: Image.Image, palette: Sequence[str]) -> Image.Image:
    """The picture re-toned in palette colours, every pixel exactly one of them: its lightness (smoothed, so tone
    boundaries are clean curves without speckle, and stretched to the palette's range when the picture is flat) picks
    the palette colour of the nearest lightness. Deterministic and a few milliseconds for a 1080x1080 picture."""
    tones = _palette_tones(palette)
    size = picture.size
    if len(tones) == 1:
        return Image.new("RGB", size, parse_hex(tones[0][1]))
    luma = picture.convert("L")
    factor = max(2, round(min(size) / TONE_DETAIL_PX))
    if min(size) >= 4 * factor:
        # Reduced, lightly blurred and enlarged again: a band-limited lightness field thresholds into smooth regions.
        luma = luma.reduce(factor).filter(ImageFilter.BoxBlur(TONE_BLUR)).resize(size, Image.Resampling.BILINEAR)
    index = luma.point(_tone_lut(luma.histogram(), [level for level, _color in tones]))
    rgb = [parse_hex(color) for _level, color in tones]
    return Image.merge("RGB", [index.point([rgb[i][channel] for i in range(len(rgb))] + [0] * (256 - len(rgb)))
                               for channel in range(3)])


def _luma(color: str) -> int:
    """ITU-R 601 luma as Pillow's convert("L") computes it, so palette tones and picture pixels compare."""
    red, green, blue = parse_hex(color)
    return (red * 299 + green * 587 + blue * 114) // 1000


def _palette_tones(palette: Sequence[str]) -> list[tuple[int, str]]:
    """(luma, colour) of the palette colours whose lightness differs enough, dominant colours first, darkest first."""
    tones: list[tuple[int, str]] = []
    for color in palette:
        level = _luma(color)
        if all(abs(level - kept) >= TONE_MIN_LUMA_STEP for kept, _color in tones):
            tones.append((level, color))
    return sorted(tones)


def _tone_lut(histogram: Sequence[int], levels: Sequence[int]) -> list[int]:
    """Luma (0-255) -> the index of the tone level it maps to. The picture's tonal range (its extreme
    TONE_CLIP_SHARE left out) is stretched onto the tones' range, at most TONE_MAX_GAIN times; a picture with less
    contrast keeps its own lightness (moved only as far as the tones' range needs), so a flat picture becomes its
    nearest tone instead of being split at a boundary between two."""
    total = sum(histogram)
    cumulative = np.cumsum(histogram)
    low = int(np.searchsorted(cumulative, TONE_CLIP_SHARE * total))
    high = int(np.searchsorted(cumulative, (1 - TONE_CLIP_SHARE) * total))
    gain = min(TONE_MAX_GAIN, (levels[-1] - levels[0]) / max(1, high - low))
    middle, half = (low + high) / 2, (high - low) / 2 * gain
    centre = min(max(middle, levels[0] + half), levels[-1] - half)
    mapped = centre + (np.arange(256) - middle) * gain
    nearest = np.abs(mapped[:, np.newaxis] - np.asarray(levels, dtype=np.float64)[np.newaxis, :]).argmin(axis=1)
    return [int(value) for value in nearest]


def _graphic_inks(base: str, colors: _ColorRoles) -> tuple[str, ...]:
    """The graphic's colours on `base`: the palette's colours other than the canvas background (so the graphic
    stays distinct from the copy beside it), the background too only when nothing else is left."""
    inks = graphic_colors(base, colors.palette, last=(colors.background,))
    without_background = tuple(color for color in inks if color != colors.background or color == base)
    return without_background if len(without_background) > 1 else inks


def _fill(draw: ImageDraw.ImageDraw, box: Box, kind: str, color: str) -> None:
    if box.w <= 0 or box.h <= 0:
        return
    corners = (box.x, box.y, box.right - 1, box.bottom - 1)
    if kind == "ellipse":
        draw.ellipse(corners, fill=parse_hex(color))
    else:
        draw.rectangle(corners, fill=parse_hex(color))


def _draw_copy(image: Image.Image, stack: _Stack, colors: _ColorRoles, faces: _Faces, painted: Painted,
               notes: list[str]) -> list[dict[str, Any]]:
    draw = ImageDraw.Draw(image)
    surface = colors.background
    if stack.panel is not None and colors.panel is not None:
        surface = colors.panel
        _fill(draw, stack.panel, "rect", surface)
        painted.append((stack.panel, "rect", surface, "panel"))
    texts = [element for element in stack.elements if element.text is not None]
    masks = _text_masks(texts, stack.align, image.width * image.height)
    text_boxes: list[dict[str, Any]] = []
    for element in stack.elements:
        if element.text is None:  # the kicker rule
            _fill(draw, element.box, "rect", colors.accent)
            painted.append((element.box, "rect", colors.accent, element.role))
            continue
        under = surface
        if element.role == "cta" and colors.button is not None:
            under = colors.button
            box = element.box
            radius = max(1, min(box.h // 2, round(0.3 * element.text.size)))
            draw.rounded_rectangle((box.x, box.y, box.right - 1, box.bottom - 1), radius=radius,
                                   fill=parse_hex(under))
            painted.append((box, "rect", under, "button"))
        color, ratio = colors.text_on(under, element.text.size)
        threshold = text_threshold(element.text.size)
        if ratio < threshold:
            notes.append(f"no palette pair reaches {threshold:g}:1; used the best pair ({_floor2(ratio):.2f}:1)")
        mask = masks[texts.index(element)]
        image.paste(parse_hex(color), (element.box.x + element.padding[0], element.box.y + element.padding[1]),
                    mask)
        text_boxes.append({
            "role": element.role, "text": element.text.text, "box": element.box.as_list(),
            "font": faces.families[element.role], "size_px": element.text.size, "color": color,
            "background": under, "contrast_ratio": _floor2(ratio), "lines": list(element.text.lines),
        })
    return text_boxes


def _text_mask(element: _Placed, align: Align, antialias: bool) -> Image.Image:
    """The coverage mask of an element's text, exactly the size of its set block (nothing can spill out)."""
    assert element.text is not None
    mask = Image.new("L", (element.text.width, element.text.height), 0)
    element.text.draw(ImageDraw.Draw(mask), 0, 0, (255,), align, antialias=antialias)
    return mask


def _text_masks(texts: Sequence[_Placed], align: Align, canvas_area: int) -> list[Image.Image]:
    """The coverage masks of the copy: anti-aliased while the partly covered (blended, so off-palette) edge pixels
    stay within ANTIALIAS_BUDGET of the canvas. Small copy on a small canvas would exceed it: it is then drawn with
    hinted monochrome glyphs, crisper at a few pixels and exactly palette-coloured."""
    masks = [_text_mask(element, align, antialias=True) for element in texts]
    partial = sum(sum(mask.histogram()[1:255]) for mask in masks)
    if partial <= ANTIALIAS_BUDGET * canvas_area:
        return masks
    return [_text_mask(element, align, antialias=False) for element in texts]


def _floor2(ratio: float) -> float:
    """Two decimals, rounded down: WCAG forbids rounding a ratio up to a threshold."""
    return math.floor(ratio * 100 + 1e-9) / 100


# --- logo -----------------------------------------------------------------------------------------------------------


def _logo_placement(logo: _Logo | None, layout_plan: Mapping[str, Any], template: str, canvas: Box,
                    clear: int, notes: list[str]) -> LogoPlacement | None:
    position = layout_plan.get("logo_position")
    if logo is None:
        if position in LOGO_CORNERS:
            notes.append("no logo available: the plan's logo_position was not used")
        return None
    if position == "none":
        notes.append("logo left out: the plan places no logo")
        return None
    corner = position if position in LOGO_CORNERS else TEMPLATE_LAYOUTS[template].logo_corner
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


def _decode_logo(data: bytes, notes: list[str]) -> _Logo | None:
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


def _decode_imagery(data: bytes, notes: list[str]) -> Image.Image | None:
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.draft("RGB", (4096, 4096))  # JPEG: decode at a reduced scale when the source is huge
            return ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        notes.append("imagery left out: the picture could not be read")
        return None


def _draw_logo(image: Image.Image, logo: _Logo, placement: LogoPlacement, painted: Painted,
               colors: _ColorRoles, notes: list[str]) -> Box:
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


# --- output ---------------------------------------------------------------------------------------------------------


def _encode(image: Image.Image, image_format: str) -> bytes:
    """Fixed encoder settings and no metadata (no EXIF, ICC, text chunks or timestamps): same pixels, same bytes."""
    buffer = io.BytesIO()
    if image_format == "png":
        # Z_RLE: flat colour runs compress about as well as with the default strategy, at a third less time.
        image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL, compress_type=zlib.Z_RLE, optimize=False)
    elif image_format == "jpg":
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY, subsampling=0, optimize=False, progressive=False)
    else:
        image.save(buffer, format="WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD, exact=False)
    return buffer.getvalue()
