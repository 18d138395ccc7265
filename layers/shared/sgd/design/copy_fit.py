"""Fitting the copy into a layout's copy area: the font each part is set in (headline, subline, CTA), their sizes
down to the legible floors, and the stack they form; a part that cannot fit is left out, with a note."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from sgd.design.fonts import (
    REASON_GLYPHS,
    WIDE_COVERAGE_FAMILY,
    FontChoice,
    FontFile,
    ResolvedFamily,
    bundled_family,
    covers,
    record_substitution,
)
from sgd.design.layout import DEFAULT_MEDIA_SHARE, Box, LogoPlacement, Skeleton, balanced_media_share, build_skeleton
from sgd.design.typeset import Align, SetText, fit_text

ABSOLUTE_MIN_FONT_PX = 6  # below the legible floors, only to keep a verbatim headline on a tiny canvas


@dataclass(frozen=True)
class Faces:
    """The font file and family name each copy role is set in."""

    files: Mapping[str, FontFile]
    families: Mapping[str, str]


def faces_for_copy(copy: Mapping[str, str], fonts: FontChoice, substitutions: list[dict[str, str]],
                   notes: list[str]) -> Faces:
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
    return Faces(files, families)


@dataclass(frozen=True)
class Placed:
    role: Literal["headline", "subline", "cta", "kicker"]
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


def fit_copy_in(skeleton: Skeleton, copy: Mapping[str, str], faces: Faces, notes: list[str]) -> Stack | None:
    """The copy stack in the skeleton's copy area; over imagery, inset so the panel behind it stays in the area."""
    panel_pad = skeleton.gap if skeleton.panel_behind_copy else 0
    stack = _fit_copy(skeleton, skeleton.copy_area.inset(panel_pad), copy, faces, notes)
    if stack is None or not panel_pad:
        return stack
    bounds = _union(element.box for element in stack.elements)
    return replace(stack, panel=bounds.expand(panel_pad))


def balance_stack(skeleton: Skeleton, stack: Stack, copy: Mapping[str, str], faces: Faces,
                  placement: LogoPlacement | None) -> tuple[Skeleton, Stack]:
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
    refit = fit_copy_in(balanced, copy, faces, scratch)
    if refit is None or [element.role for element in refit.elements] != [element.role for element in stack.elements]:
        return skeleton, stack
    old_head, new_head = stack.get("headline"), refit.get("headline")
    if old_head is None or new_head is None or old_head.text is None or new_head.text is None or \
            new_head.text.size < old_head.text.size or new_head.text.lines != old_head.text.lines:
        return skeleton, stack
    return balanced, refit


def _fit_copy(skeleton: Skeleton, area: Box, copy: Mapping[str, str], faces: Faces,
              notes: list[str]) -> Stack | None:
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


def _try_stack(skeleton: Skeleton, area: Box, copy: Mapping[str, str], faces: Faces, include: Mapping[str, bool],
               absolute_floor: bool) -> tuple[Stack | None, str]:
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
    return Stack(_arrange(skeleton, area, kicker, parts), skeleton.variant.align, None), ""


@dataclass(frozen=True)
class _Floors:
    head: int
    body: int


# role, set text, gap before, extra width, extra height (the CTA button's padding on both sides)
_Part = tuple[str, SetText, int, int, int]


def _compose(copy: Mapping[str, str], faces: Faces, include: Mapping[str, bool], width: int, available: int,
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
