"""Fitting the copy into a layout's copy area: the font each part is set in (headline, subline, CTA), their sizes
down to the legible floors, and the stack they form; a part that cannot fit is left out, with a note."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from sgd.design.fonts import (
    REASON_GLYPHS,
    WIDE_COVERAGE_FAMILY,
    FontChoice,
    FontFile,
    ResolvedFamily,
    bundled_family,
    covers,
    load_face,
    record_substitution,
)
from sgd.design.geometry import Box, Skeleton
from sgd.design.layout import DEFAULT_MEDIA_SHARE, balanced_media_share
from sgd.design.typeset import Align, SetText, fit_text

ABSOLUTE_MIN_FONT_PX = 6  # below the legible floors, only to keep a verbatim headline on a tiny canvas
MIN_BODY_PX = 9  # the smallest subline, CTA, eyebrow or legal line: smaller copy is left out, not set illegibly
# The body floor per size class, by the canvas's shorter side: strips (728x90, 320x50, 320x100) keep 9 px, where a
# larger floor would leave no copy beside the headline; skyscrapers (160x600) get 10 px; a 250 px side and up
# (300x250, 300x600, 970x250 and every social size) 11 px, where 9 px sublines and buttons read poorly.
BODY_FLOOR_BY_SIDE: tuple[tuple[int, int], ...] = ((250, 11), (150, 10))
# The subline is a sentence read, not a label glanced at: from a 250 px side up it is set at 12 px or more, or left
# out (at 11 px on a 300x250 the OCR check lost a word of it; the call to action and the legal line keep their floor).
SUBLINE_FLOOR_BY_SIDE: tuple[tuple[int, int], ...] = ((250, 12),)


def body_floor(unit: int) -> int:
    """The smallest secondary copy (subline, CTA, eyebrow, legal line) on a canvas whose shorter side is `unit`."""
    by_class = next((size for side, size in BODY_FLOOR_BY_SIDE if unit >= side), MIN_BODY_PX)
    return max(MIN_BODY_PX, by_class, round(0.022 * unit))


def subline_floor(unit: int) -> int:
    """The smallest subline on a canvas whose shorter side is `unit`: the body floor, or SUBLINE_FLOOR_BY_SIDE's."""
    return max(body_floor(unit), next((size for side, size in SUBLINE_FLOOR_BY_SIDE if unit >= side), 0))
SMALL_HEADLINE_PX = 18  # a headline smaller than this gets the secondary copy's room when that makes it larger


@dataclass(frozen=True)
class Faces:
    """The font file and family name each copy role is set in."""

    files: Mapping[str, FontFile]
    families: Mapping[str, str]
    weights: Mapping[str, Literal["regular", "bold"]] = field(default_factory=dict)  # the weight each role is set in


COPY_ROLES = ("eyebrow", "headline", "subline", "cta", "legal")  # top to bottom
OPTIONAL_ROLES = ("eyebrow", "subline", "cta", "legal")
DROP_ORDER = ("legal", "eyebrow", "subline", "cta")  # what goes first when the copy does not fit


def faces_for_copy(copy: Mapping[str, str], fonts: FontChoice, substitutions: list[dict[str, str]],
                   notes: list[str], headline_weight: Literal["regular", "bold"] = "bold") -> Faces:
    """The headline in the headline family (bold, or regular for calm, formal brands), the CTA and the eyebrow in
    its bold, the subline and the legal line in the body family's regular; a role whose copy has characters its
    font lacks moves to the wider-coverage bundled family when that has them."""
    roles: dict[str, tuple[ResolvedFamily, Literal["regular", "bold"]]] = {
        "headline": (fonts.headline, headline_weight), "subline": (fonts.body, "regular"),
        "cta": (fonts.headline, "bold"), "eyebrow": (fonts.body, "bold"), "legal": (fonts.body, "regular")}
    files: dict[str, FontFile] = {}
    families: dict[str, str] = {}
    weights: dict[str, Literal["regular", "bold"]] = {}
    for role, (family, weight) in roles.items():
        font_file = family.file(weight) or family.file("regular")
        assert font_file is not None  # every resolved family has a regular file
        files[role], families[role] = font_file, family.family
        weights[role] = weight if weight in family.files else "regular"  # a family without a bold sets regular
        text = copy.get(role) or ""
        if not text or family.source == "builtin" or covers(font_file, text):
            continue
        wide = bundled_family(WIDE_COVERAGE_FAMILY)
        wide_file = wide.file(weight) if wide else None
        if wide_file is not None and covers(wide_file, text):
            files[role], families[role] = wide_file, WIDE_COVERAGE_FAMILY
            weights[role] = weight if wide is not None and weight in wide.files else "regular"
            record_substitution(substitutions, family.family, WIDE_COVERAGE_FAMILY, REASON_GLYPHS)
        else:
            notes.append(f"some characters of the {role} have no glyph in the available fonts")
    return Faces(files, families, weights)


@dataclass(frozen=True)
class Placed:
    role: Literal["eyebrow", "headline", "subline", "cta", "legal", "kicker"]
    box: Box
    text: SetText | None = None  # None for the kicker rule
    padding: tuple[int, int] = (0, 0)  # the CTA button's padding around its label


@dataclass(frozen=True)
class Stack:
    elements: tuple[Placed, ...]
    align: Align
    panel: Box | None  # behind the copy, over imagery

    def get(self, role: str) -> Placed | None:
        return next((element for element in self.elements if element.role == role), None)


def fit_copy_in(skeleton: Skeleton, copy: Mapping[str, str], faces: Faces, notes: list[str],
                headline_scale: float = 1.0) -> Stack | None:
    """The copy stack in the skeleton's copy area (the call to action in the skeleton's CTA area when it has one);
    over imagery, inset so the panel behind it stays in the area. `headline_scale`: the brand style's headline size
    relative to the default."""
    panel_pad = skeleton.gap if skeleton.panel_behind_copy else 0
    stack = _fit_copy(skeleton, skeleton.copy_area.inset(panel_pad), copy, faces, notes, headline_scale)
    if stack is None or not panel_pad:
        return stack
    bounds = _union(element.box for element in stack.elements if element.role != "cta" or
                    skeleton.cta_area is None)
    return replace(stack, panel=bounds.expand(panel_pad))


def balance_stack(skeleton: Skeleton, stack: Stack, copy: Mapping[str, str], faces: Faces,
                  rebuild: Callable[[float], Skeleton], headline_scale: float = 1.0) -> tuple[Skeleton, Stack]:
    """stack and frame with the brand graphic: gives the graphic the copy part's empty height, so copy and graphic
    share a tall canvas without a large empty region. Kept only when the copy still fits as it did (same parts, the
    headline as large); otherwise the skeleton stays as it was."""
    block = _union(element.box for element in stack.elements)
    share = balanced_media_share(skeleton, block.h)
    if skeleton.media is None or round(share * 100) <= round(DEFAULT_MEDIA_SHARE * 100):
        return skeleton, stack
    balanced = rebuild(share)
    scratch: list[str] = []
    refit = fit_copy_in(balanced, copy, faces, scratch, headline_scale)
    if refit is None or [element.role for element in refit.elements] != [element.role for element in stack.elements]:
        return skeleton, stack
    old_head, new_head = stack.get("headline"), refit.get("headline")
    if old_head is None or new_head is None or old_head.text is None or new_head.text is None or \
            new_head.text.size < old_head.text.size or new_head.text.lines != old_head.text.lines:
        return skeleton, stack
    return balanced, refit


def _fit_copy(skeleton: Skeleton, area: Box, copy: Mapping[str, str], faces: Faces, notes: list[str],
              headline_scale: float) -> Stack | None:
    """Fits the copy stack into `area`, leaving out the legal line, the eyebrow, the subline, then the CTA, when
    they cannot fit."""
    include = {role: bool(copy.get(role)) for role in OPTIONAL_ROLES}
    dropped: list[str] = []
    absolute_floor = False
    while True:
        stack, failed = _try_stack(skeleton, area, copy, faces, include, absolute_floor, headline_scale)
        if stack is not None:
            break
        optional = failed if failed in OPTIONAL_ROLES and include[failed] else None
        optional = optional or next((role for role in DROP_ORDER if include[role]), None)
        if optional is not None:
            include[optional] = False
            dropped.append(optional)
            continue
        if absolute_floor:
            return None
        absolute_floor = True
    headline = stack.get("headline")
    # A headline set small to leave room for the secondary copy: the legal line, the eyebrow, then the subline go
    # first, while that lets the headline grow (a legible headline matters more than a subline).
    for role in DROP_ORDER[:3]:
        size = headline.text.size if headline is not None and headline.text is not None else 0
        if size >= SMALL_HEADLINE_PX or not include[role]:
            continue
        lighter = {**include, role: False}
        retry, _failed = _try_stack(skeleton, area, copy, faces, lighter, absolute_floor, headline_scale)
        grown = retry.get("headline") if retry is not None else None
        if retry is not None and grown is not None and grown.text is not None and grown.text.size > size:
            stack, include, headline = retry, lighter, grown
            dropped.append(role)
    for role in dropped:
        label = {"cta": "call to action", "legal": "legal line"}.get(role, role)
        notes.append(f"{label} left out: it does not fit the {skeleton.canvas.w}x{skeleton.canvas.h} canvas")
    if headline and headline.text and headline.text.broke_words:
        notes.append("a word of the headline was too long for one line and was broken across lines")
    if absolute_floor and headline and headline.text:
        notes.append(f"headline set at {headline.text.size}px, below the legible floor, to fit the canvas")
    return stack


def _try_stack(skeleton: Skeleton, area: Box, copy: Mapping[str, str], faces: Faces, include: Mapping[str, bool],
               absolute_floor: bool, headline_scale: float = 1.0) -> tuple[Stack | None, str]:
    """One attempt at the copy stack: (stack, "") or (None, the role that did not fit). The headline starts at the
    largest size that leaves the other copy room at its floor, and shrinks until the other parts fit at sizes in
    proportion to it; failing that, they may go down to their floors. A skeleton with a CTA area (banners) sets
    the call to action there, apart from the copy."""
    unit = skeleton.unit
    if area.w <= 0 or area.h <= 0:
        return None, "headline"
    floors = _Floors(ABSOLUTE_MIN_FONT_PX if absolute_floor else max(8, round(0.035 * unit)),
                     body_floor(unit), subline_floor(unit))
    kicker = None
    if skeleton.kicker:
        kicker_height = max(2, round(0.012 * unit))
        kicker = (min(area.w, max(3 * kicker_height, round(0.16 * area.w))), kicker_height,
                  max(2, round(0.025 * unit)))
    cta_apart: Placed | None = None
    if include["cta"] and skeleton.cta_area is not None:
        cta_apart = _cta_in_area(skeleton, copy, faces, floors)
        if cta_apart is None:
            return None, "cta"
        include = {**include, "cta": False}
    if cta_apart is not None and cta_apart.box.x - 2 * skeleton.gap > area.right:
        # The button came out narrower than its area: the copy takes the room it left, unless that room is on
        # another surface (the signoff's end field, where the button sits above the logo).
        wider = Box(area.x, area.y, cta_apart.box.x - 2 * skeleton.gap - area.x, area.h)
        if not any(shape.name == "ground" and shape.box.intersects(wider) and not shape.box.intersects(area)
                   for shape in skeleton.surfaces):
            area = wider
    available = area.h - (kicker[1] + kicker[2] if kicker else 0)
    reserve = 0
    if include["subline"]:
        reserve += math.ceil(floors.subline * 1.25) + 2
    if include["cta"]:
        reserve += math.ceil(floors.body * 2.2) + 3
    for role in ("eyebrow", "legal"):
        if include[role]:
            reserve += math.ceil(floors.body * 1.2) + 2
    head_cap = max(floors.head, round(min(0.15 * area.w, 0.42 * area.h) * headline_scale))
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
    elements = _arrange(skeleton, area, kicker, parts)
    if cta_apart is not None:
        elements = (*elements, cta_apart)
    return Stack(elements, skeleton.variant.align, None), ""


def _cta_in_area(skeleton: Skeleton, copy: Mapping[str, str], faces: Faces, floors: _Floors) -> Placed | None:
    """The call to action as a button filling at most the skeleton's CTA area, centred in it."""
    area = skeleton.cta_area
    assert area is not None
    target = max(floors.body, round(0.36 * area.h))
    pad_x, pad_y = max(3, round(0.7 * target)), max(2, round(0.3 * target))
    # One line when it fits at a legible size (a button label wrapped in a banner reads as two words, not one
    # action); else wrapped.
    # The size s at which the label and its padding (0.7 s a side) fill the area's width on one line.
    length = load_face(faces.files["cta"], target).getlength(copy["cta"].strip()) / target
    one_line = min(target, math.floor((area.w - 6) / (length + 1.4)))
    label = fit_text(copy["cta"], faces.files["cta"], area.w - 2 * max(3, round(0.7 * one_line)),
                     area.h - 2 * pad_y, one_line, floors.body, line_spacing=1.1) if one_line >= floors.body else None
    if label is None or len(label.lines) > 1:
        label = fit_text(copy["cta"], faces.files["cta"], area.w - 2 * pad_x, area.h - 2 * pad_y, target,
                         floors.body, line_spacing=1.1)
    if label is None:
        return None
    pad_x, pad_y = max(3, round(0.7 * label.size)), max(2, round(0.3 * label.size))
    width, height = label.width + 2 * pad_x, label.height + 2 * pad_y
    box = Box(area.right - width, area.y + (area.h - height) // 2, width, height)
    return Placed("cta", box, label, (pad_x, pad_y))


@dataclass(frozen=True)
class _Floors:
    head: int
    body: int
    subline: int


# role, set text, gap before, extra width, extra height (the CTA button's padding on both sides)
_Part = tuple[str, SetText, int, int, int]


def _compose(copy: Mapping[str, str], faces: Faces, include: Mapping[str, bool], width: int, available: int,
             head_size: int, floors: _Floors, *, proportional: bool) -> tuple[list[_Part] | None, str]:
    """Headline at most head_size, then the CTA, the subline, the eyebrow and the legal line in what remains,
    sized in proportion to the headline (down to their floors only when not `proportional`)."""
    small = max(floors.body, round(0.2 * head_size)) if proportional else floors.body
    small_parts: dict[str, SetText] = {}
    for role in ("eyebrow", "legal"):
        if include[role]:
            text = fit_text(copy[role], faces.files[role], width, math.ceil(small * 2.6), small, floors.body,
                            line_spacing=1.2)
            if text is None:
                return None, role
            small_parts[role] = text
    small_gap = max(2, round(0.35 * small))
    available -= sum(text.height + small_gap for text in small_parts.values())
    head = fit_text(copy["headline"], faces.files["headline"], width, available, head_size, floors.head,
                    line_spacing=1.08)
    if head is None:
        return None, "headline"
    parts: list[_Part] = []
    if "eyebrow" in small_parts:
        parts.append(("eyebrow", small_parts["eyebrow"], 0, 0, 0))
    parts.append(("headline", head, small_gap if parts else 0, 0, 0))
    remaining = available - head.height
    sub_gap = max(2, round(0.3 * head.size))
    sub_cap = max(floors.subline, round(0.45 * head.size))
    sub_floor = min(sub_cap, max(floors.subline, round(0.3 * head.size))) if proportional else floors.subline
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
    if "legal" in small_parts:
        parts.append(("legal", small_parts["legal"], small_gap, 0, 0))
    return parts, ""


def _arrange(skeleton: Skeleton, area: Box, kicker: tuple[int, int, int] | None,
             parts: list[_Part]) -> tuple[Placed, ...]:
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
        elements.append(Placed(role, Box(x, top, width, height), text, padding))  # type: ignore[arg-type]
        top += height
    return tuple(elements)


def _union(boxes: Iterable[Box]) -> Box:
    boxes = list(boxes)
    x, y = min(box.x for box in boxes), min(box.y for box in boxes)
    return Box(x, y, max(box.right for box in boxes) - x, max(box.bottom for box in boxes) - y)
