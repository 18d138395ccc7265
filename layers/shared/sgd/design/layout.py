"""Layout geometry of the design engine, pure and deterministic: the skeleton of each template (hero, split, band,
stack, frame) under each variation seed, plus the rectangle maths for logo clear space. Colours, fonts and pixels
are the engine's job (sgd.design.engine); this module only decides where things go."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

Align = Literal["left", "center", "right"]
VAlign = Literal["top", "middle", "bottom"]
Accent = Literal["band", "bar", "circle", "corner", "frame", "block"]
Scheme = Literal["brand", "inverted", "accent"]
Corner = Literal["top-left", "top-right", "bottom-left", "bottom-right"]
TEMPLATES = ("hero", "split", "band", "stack", "frame")
VARIANTS_PER_CYCLE = 6
DEFAULT_MEDIA_SHARE = 0.42  # stack and frame: the picture area's share of the height, the rest is the copy part


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in pixels: x, y of the top-left corner, width, height."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def area(self) -> int:
        return max(0, self.w) * max(0, self.h)

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]

    def inset(self, dx: int, dy: int | None = None) -> Box:
        dy = dx if dy is None else dy
        return Box(self.x + dx, self.y + dy, max(0, self.w - 2 * dx), max(0, self.h - 2 * dy))

    def expand(self, distance: int) -> Box:
        return Box(self.x - distance, self.y - distance, self.w + 2 * distance, self.h + 2 * distance)

    def intersects(self, other: Box) -> bool:
        """True when the two share area (touching edges do not count)."""
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom

    def contains(self, other: Box) -> bool:
        return self.x <= other.x and self.y <= other.y and other.right <= self.right and other.bottom <= self.bottom

    def intersection(self, other: Box) -> Box | None:
        x, y = max(self.x, other.x), max(self.y, other.y)
        right, bottom = min(self.right, other.right), min(self.bottom, other.bottom)
        return Box(x, y, right - x, bottom - y) if right > x and bottom > y else None

    def minus(self, other: Box) -> Box | None:
        """The largest rectangle of this box that does not overlap `other` (the box itself when they do not
        overlap; None when `other` covers it)."""
        if not self.intersects(other):
            return self
        pieces = [
            Box(self.x, self.y, other.x - self.x, self.h),  # left of other
            Box(other.right, self.y, self.right - other.right, self.h),  # right of other
            Box(self.x, self.y, self.w, other.y - self.y),  # above other
            Box(self.x, other.bottom, self.w, self.bottom - other.bottom),  # below other
        ]
        pieces = [piece for piece in pieces if piece.w > 0 and piece.h > 0]
        # Copy sets in lines, so a tall narrow column is worth less than its area: score width x min(height, width).
        # max() keeps the first of equals, so ties prefer the order above: deterministic.
        return max(pieces, key=lambda piece: piece.w * min(piece.h, piece.w)) if pieces else None


def clearance(first: Box, second: Box) -> int:
    """The clear space between two boxes: the larger of their horizontal and vertical gaps (negative when they
    overlap). An element keeps a clear space of c from a logo exactly when clearance >= c."""
    return max(second.x - first.right, first.x - second.right, second.y - first.bottom, first.y - second.bottom)


def edge_clearance(box: Box, canvas: Box) -> int:
    """The smallest distance from `box` to an edge of `canvas`."""
    return min(box.x - canvas.x, box.y - canvas.y, canvas.right - box.right, canvas.bottom - box.bottom)


@dataclass(frozen=True)
class Variant:
    """One of the visibly different arrangements a variation seed selects."""

    index: int
    align: Align  # copy alignment
    valign: VAlign  # where the copy block sits vertically in its area
    flip: bool  # mirrors the template's two parts (split: copy right; stack: copy below; band: media left)
    accent: Accent  # the accent shape
    scheme: Scheme  # colour roles: brand (plan colours), inverted (text colour as background), accent background


# Per template, six variants whose copy positions differ (alignment, vertical anchor or side), so seeds 0..5 give
# visibly different layouts. Seed 0 is the template's canonical layout (the planner's copy zone).
_TABLE: dict[str, tuple[tuple[Align, VAlign, bool, Accent, Scheme], ...]] = {
    "hero": (
        ("center", "middle", False, "band", "brand"),
        ("left", "bottom", False, "bar", "brand"),
        ("center", "top", True, "circle", "inverted"),
        ("right", "bottom", True, "corner", "brand"),
        ("left", "middle", False, "block", "accent"),
        ("center", "bottom", False, "frame", "inverted"),
    ),
    "split": (
        ("left", "middle", False, "bar", "brand"),
        ("left", "top", True, "block", "brand"),
        ("center", "middle", False, "circle", "inverted"),
        ("left", "bottom", True, "band", "accent"),
        ("right", "middle", False, "corner", "brand"),
        ("center", "top", True, "frame", "inverted"),
    ),
    "band": (
        ("left", "middle", False, "bar", "brand"),
        ("center", "middle", True, "block", "brand"),
        ("left", "middle", True, "circle", "inverted"),
        ("right", "middle", False, "corner", "accent"),
        ("center", "middle", False, "frame", "brand"),
        ("right", "middle", True, "band", "inverted"),
    ),
    "stack": (
        ("left", "top", False, "bar", "brand"),
        ("center", "bottom", True, "block", "brand"),
        ("center", "top", False, "circle", "inverted"),
        ("left", "bottom", True, "band", "accent"),
        ("right", "top", False, "corner", "brand"),
        ("center", "middle", True, "frame", "inverted"),
    ),
    "frame": (
        ("center", "middle", False, "bar", "brand"),
        ("left", "top", True, "circle", "brand"),
        ("left", "bottom", False, "corner", "inverted"),
        ("right", "middle", True, "band", "accent"),
        ("center", "top", False, "block", "brand"),
        ("left", "middle", True, "frame", "inverted"),
    ),
}
_SCHEMES: tuple[Scheme, ...] = ("brand", "inverted", "accent")
_ACCENTS: tuple[Accent, ...] = ("band", "bar", "circle", "corner", "frame", "block")


def variant_for(template: str, seed: int) -> Variant:
    """The variant a seed selects: seeds 0..5 walk the template's table; every further cycle of six keeps the
    positions and rotates the colour scheme and the accent shape."""
    if template not in _TABLE:
        raise ValueError(f"unknown template {template!r}; expected one of {', '.join(TEMPLATES)}")
    seed = abs(int(seed))
    align, valign, flip, accent, scheme = _TABLE[template][seed % VARIANTS_PER_CYCLE]
    cycle = seed // VARIANTS_PER_CYCLE
    if cycle:
        scheme = _SCHEMES[(_SCHEMES.index(scheme) + cycle) % len(_SCHEMES)]
        accent = _ACCENTS[(_ACCENTS.index(accent) + cycle) % len(_ACCENTS)]
    return Variant(seed, align, valign, flip, accent, scheme)


@dataclass(frozen=True)
class Shape:
    """A filled shape. `paint` names its colour role: media (the picture area without a picture), border (the frame
    template's surround), background (the canvas colour again, e.g. inside the frame) or accent (decoration)."""

    name: str
    kind: Literal["rect", "ellipse"]
    box: Box
    paint: Literal["media", "border", "background", "accent"]


@dataclass(frozen=True)
class Skeleton:
    template: str
    variant: Variant
    canvas: Box
    unit: int  # the shorter canvas side: sizes scale with it
    margin: int
    gap: int
    media: Box | None  # where imagery goes (cover-cropped); without imagery a surface, with the brand graphic on it
    surfaces: tuple[Shape, ...]  # solid areas other than the canvas background, painted before the copy
    decor: tuple[Shape, ...]  # accent shapes: kept clear of the copy and of the logo's clear space
    copy_area: Box  # where the copy stack goes; clear of every decor shape
    kicker: bool  # a short accent rule above the headline
    panel_behind_copy: bool  # the copy sits over imagery: a solid panel goes behind it


def margin_for(width: int, height: int) -> int:
    """The outer margin of a width x height canvas."""
    return max(2, round(0.06 * min(width, height)))


def build_skeleton(template: str, width: int, height: int, variant: Variant, has_imagery: bool,
                   keep_out: Box | None = None, *, media_graphic: bool = False,
                   media_share: float = DEFAULT_MEDIA_SHARE) -> Skeleton:
    """The skeleton of `template` on a width x height canvas under `variant`. `keep_out` is the logo's clear-space
    box: accent shapes move (mirrored) or shrink out of it and the copy area avoids it. `media_graphic`: the picture
    area gets the brand graphic (no accent shapes inside it then). `media_share`: stack and frame only, the picture
    area's share of the (inner) height."""
    canvas = Box(0, 0, width, height)
    unit = min(width, height)
    margin = margin_for(width, height)
    gap = max(2, round(0.03 * unit))
    base = Skeleton(template, variant, canvas, unit, margin, gap, None, (), (), canvas.inset(margin), False, False)
    if template == "hero":
        skeleton = _hero(base, has_imagery)
    elif template in ("split", "band"):
        skeleton = _side_by_side(base, has_imagery, media_graphic)
    elif template in ("stack", "frame"):
        skeleton = _stacked(base, has_imagery, media_graphic, media_share)
    else:
        raise ValueError(f"unknown template {template!r}; expected one of {', '.join(TEMPLATES)}")
    if keep_out is not None:
        skeleton = replace(skeleton, decor=avoid(skeleton.decor, keep_out, canvas))
    skeleton = _clear_copy_of_decor(skeleton)
    if keep_out is not None:
        area = skeleton.copy_area.minus(keep_out) if skeleton.copy_area.area else None
        skeleton = replace(skeleton, copy_area=area or Box(skeleton.copy_area.x, skeleton.copy_area.y, 0, 0))
    return skeleton


def _hero(base: Skeleton, has_imagery: bool) -> Skeleton:
    canvas, unit, variant = base.canvas, base.unit, base.variant
    width, height = canvas.w, canvas.h
    decor: list[Shape] = []
    if variant.accent == "band":
        thickness = max(2, round(0.07 * height))
        decor.append(Shape("band", "rect", Box(0, 0 if variant.flip else height - thickness, width, thickness),
                           "accent"))
    elif variant.accent == "circle":
        diameter = max(4, round(0.6 * unit))
        x = -diameter // 2 if variant.flip else width - diameter // 2
        y = height - diameter // 2 if variant.flip else -diameter // 2
        decor.append(Shape("circle", "ellipse", Box(x, y, diameter, diameter), "accent"))
    elif variant.accent == "corner":
        side = max(2, round(0.2 * unit))
        x, y = (0, 0) if variant.flip else (width - side, height - side)
        decor.append(Shape("corner", "rect", Box(x, y, side, side), "accent"))
    elif variant.accent == "block":
        side = max(2, round(0.16 * width))
        decor.append(Shape("block", "rect", Box(width - side if variant.flip else 0, 0, side, height), "accent"))
    elif variant.accent == "frame":
        decor.extend(_outline(canvas, unit))
    return replace(base, media=canvas if has_imagery else None, decor=tuple(decor),
                   copy_area=canvas.inset(_frame_inset(base)) if variant.accent == "frame" else base.copy_area,
                   kicker=variant.accent == "bar", panel_behind_copy=has_imagery)


def _side_by_side(base: Skeleton, has_imagery: bool, media_graphic: bool) -> Skeleton:
    """split: two halves; band (very wide): a media tile at one end and the copy across the rest."""
    canvas, variant = base.canvas, base.variant
    width, height = canvas.w, canvas.h
    media_width = width // 2 if base.template == "split" else min(round(1.4 * height), width // 3)
    media_on_left = variant.flip  # split: copy left, media right; band: media tile at the right end
    media = Box(0 if media_on_left else width - media_width, 0, media_width, height)
    copy_part = Box(media_width if media_on_left else 0, 0, width - media_width, height)
    margin_x = max(base.margin, round(0.02 * width)) if base.template == "band" else base.margin
    decor = _two_part_decor(base, media, copy_part, horizontal=True, media_filled=has_imagery or media_graphic)
    copy_area = copy_part.inset(margin_x, base.margin)
    if variant.accent == "frame":
        copy_area = copy_area.intersection(canvas.inset(_frame_inset(base))) or copy_area
    return replace(base, media=media, surfaces=() if has_imagery else (Shape("media", "rect", media, "media"),),
                   decor=tuple(decor), copy_area=copy_area, kicker=variant.accent == "bar")


def _stacked(base: Skeleton, has_imagery: bool, media_graphic: bool, media_share: float) -> Skeleton:
    """stack: copy above the media (below when flipped); frame: the same inside a solid border. The media takes
    `media_share` of the (inner) height."""
    canvas, unit, variant = base.canvas, base.unit, base.variant
    surfaces: list[Shape] = []
    inner = canvas
    if base.template == "frame":
        surfaces.append(Shape("border", "rect", canvas, "border"))
        inner = canvas.inset(_frame_border(unit))
    media_height = round(min(1.0, max(0.0, media_share)) * inner.h)
    media = Box(inner.x, inner.y if variant.flip else inner.bottom - media_height, inner.w, media_height)
    copy_part = Box(inner.x, media.bottom if variant.flip else inner.y, inner.w, inner.h - media_height)
    if base.template == "frame":
        # The inner area is the canvas background; the border is painted first and the inner area over it.
        surfaces.append(Shape("inner", "rect", inner, "background"))
    if not has_imagery:
        surfaces.append(Shape("media", "rect", media, "media"))
    decor = _two_part_decor(base, media, copy_part, horizontal=False, media_filled=has_imagery or media_graphic)
    copy_area = copy_part.inset(base.margin)
    if variant.accent == "frame" and base.template == "stack":
        copy_area = copy_area.intersection(canvas.inset(_frame_inset(base))) or copy_area
    return replace(base, media=media, surfaces=tuple(surfaces), decor=tuple(decor), copy_area=copy_area,
                   kicker=variant.accent == "bar")


def _frame_border(unit: int) -> int:
    return max(2, round(0.06 * unit))


MAX_MEDIA_SHARE = 0.62  # stack and frame: the picture area never takes more, so the copy keeps a generous part


def balanced_media_share(skeleton: Skeleton, copy_height: int) -> float:
    """stack and frame: the picture area's share of the inner height that leaves the copy part room for a copy
    block `copy_height` tall, the room the skeleton takes around it (margins, the logo's clear space) and some
    breathing room, between DEFAULT_MEDIA_SHARE and MAX_MEDIA_SHARE. Other templates: DEFAULT_MEDIA_SHARE."""
    if skeleton.template not in ("stack", "frame") or skeleton.media is None:
        return DEFAULT_MEDIA_SHARE
    inner_height = skeleton.canvas.h - (2 * _frame_border(skeleton.unit) if skeleton.template == "frame" else 0)
    copy_part = inner_height - skeleton.media.h
    around = max(0, copy_part - skeleton.copy_area.h)
    breathing = max(2 * skeleton.gap, round(0.25 * copy_height))
    wanted = copy_height + around + breathing
    share = 1 - wanted / inner_height if inner_height > 0 else DEFAULT_MEDIA_SHARE
    return min(MAX_MEDIA_SHARE, max(DEFAULT_MEDIA_SHARE, share))


def _two_part_decor(base: Skeleton, media: Box, copy_part: Box, *, horizontal: bool,
                    media_filled: bool) -> list[Shape]:
    """The accent shape of a two-part layout. Shapes inside the media area are left out over imagery or the brand
    graphic."""
    variant, unit = base.variant, base.unit
    media_side = min(media.w, media.h)
    if variant.accent == "band":
        if horizontal:  # along the bottom of the copy part
            thickness = max(2, round(0.06 * copy_part.h))
            return [Shape("band", "rect", Box(copy_part.x, copy_part.bottom - thickness, copy_part.w, thickness),
                          "accent")]
        thickness = max(2, round(0.035 * base.canvas.h))  # along the outer edge of the copy part
        outer_y = copy_part.bottom - thickness if variant.flip else copy_part.y
        return [Shape("band", "rect", Box(copy_part.x, outer_y, copy_part.w, thickness), "accent")]
    if variant.accent == "circle" and not media_filled:
        diameter = max(4, round(0.62 * media_side))
        return [Shape("circle", "ellipse", Box(media.x + (media.w - diameter) // 2,
                                                media.y + (media.h - diameter) // 2, diameter, diameter), "accent")]
    if variant.accent == "corner" and not media_filled:
        side = max(2, round(0.34 * media_side))
        # The media's outer corner, away from the seam.
        if horizontal:
            x = media.x if media.x == 0 else media.right - side
            return [Shape("corner", "rect", Box(x, media.bottom - side, side, side), "accent")]
        y = media.y if media.y == base.canvas.y else media.bottom - side
        return [Shape("corner", "rect", Box(media.right - side, y, side, side), "accent")]
    if variant.accent == "frame":
        return _outline(base.canvas, unit)
    if variant.accent == "block":  # a stripe along the seam, on the copy side
        if horizontal:
            thickness = max(2, round(0.02 * base.canvas.w))
            x = copy_part.x if copy_part.x > media.x else copy_part.right - thickness
            return [Shape("block", "rect", Box(x, 0, thickness, base.canvas.h), "accent")]
        thickness = max(2, round(0.015 * base.canvas.h))
        y = copy_part.y if copy_part.y > media.y else copy_part.bottom - thickness
        return [Shape("block", "rect", Box(copy_part.x, y, copy_part.w, thickness), "accent")]
    return []


def _outline(canvas: Box, unit: int) -> list[Shape]:
    """An inset outline around the canvas, as four strips (so clear space can shorten any one of them)."""
    inset = max(1, round(0.025 * unit))
    stroke = max(1, round(0.01 * unit))
    outer = canvas.inset(inset)
    return [
        Shape("frame", "rect", Box(outer.x, outer.y, outer.w, stroke), "accent"),
        Shape("frame", "rect", Box(outer.x, outer.bottom - stroke, outer.w, stroke), "accent"),
        Shape("frame", "rect", Box(outer.x, outer.y + stroke, stroke, outer.h - 2 * stroke), "accent"),
        Shape("frame", "rect", Box(outer.right - stroke, outer.y + stroke, stroke, outer.h - 2 * stroke), "accent"),
    ]


def _frame_inset(base: Skeleton) -> int:
    inset = max(1, round(0.025 * base.unit)) + max(1, round(0.01 * base.unit))
    return max(base.margin, inset + base.gap)


def _clear_copy_of_decor(skeleton: Skeleton) -> Skeleton:
    """Shrinks the copy area until every accent shape is at least `gap` away from it."""
    area: Box | None = skeleton.copy_area
    for shape in skeleton.decor:
        visible = shape.box.intersection(skeleton.canvas)
        if visible is not None and area is not None:
            area = area.minus(visible.expand(skeleton.gap))
    return replace(skeleton, copy_area=area or Box(skeleton.copy_area.x, skeleton.copy_area.y, 0, 0))


def avoid(shapes: tuple[Shape, ...], keep_out: Box, canvas: Box) -> tuple[Shape, ...]:
    """The shapes kept out of `keep_out`: a shape that reaches into it is mirrored (left-right, top-bottom, then
    both) to the first clear position; a rectangle with no clear mirror is cut back to its largest piece outside
    (dropped when under a third remains); any other shape with no clear mirror is dropped."""
    kept: list[Shape] = []
    for shape in shapes:
        visible = shape.box.intersection(canvas)
        if visible is None:
            continue
        if not visible.intersects(keep_out):
            kept.append(shape)
            continue
        mirrored = None
        if shape.name != "frame":  # an outline's strips mirror onto each other: they are cut back instead
            for flip_x, flip_y in ((True, False), (False, True), (True, True)):
                candidate = _mirror(shape.box, canvas, flip_x, flip_y)
                seen = candidate.intersection(canvas)
                if seen is not None and not seen.intersects(keep_out) and \
                        not any(seen.intersects(other.box) for other in kept):
                    mirrored = replace(shape, box=candidate)
                    break
        if mirrored is not None:
            kept.append(mirrored)
            continue
        if shape.kind != "rect":
            continue
        piece = visible.minus(keep_out)
        if piece is not None and piece.area * 3 >= visible.area:
            kept.append(replace(shape, box=piece))
    return tuple(kept)


def _mirror(box: Box, canvas: Box, flip_x: bool, flip_y: bool) -> Box:
    x = canvas.x + canvas.right - box.right if flip_x else box.x
    y = canvas.y + canvas.bottom - box.bottom if flip_y else box.y
    return Box(x, y, box.w, box.h)


# --- logo --------------------------------------------------------------------------------------------------------

LOGO_MIN_LONG_SIDE = 24  # px; a logo smaller than this is left out (illegible)
LOGO_MIN_SHORT_SIDE = 8


@dataclass(frozen=True)
class LogoPlacement:
    logo: Box  # where the logo image goes
    element: Box  # the logo plus the padding of its plate (the plate is drawn only when needed)
    keep_out: Box  # the element grown by the clear space: no other element may overlap it


def clear_space_px(logo_safe_zone_pct: float, canvas: Box) -> int:
    """The clear space in pixels: logo_safe_zone_pct (clamped to 0-40) of the shorter side, rounded up."""
    pct = min(40.0, max(0.0, float(logo_safe_zone_pct)))
    return math.ceil(pct * min(canvas.w, canvas.h) / 100 - 1e-9)


def place_logo(canvas: Box, corner: Corner, logo_width: int, logo_height: int, clear: int,
               margin: int) -> LogoPlacement | None:
    """The logo scaled (aspect kept) into `corner`, at least `clear` (and the margin) from the canvas edges, with
    room for a plate; None when it would be smaller than LOGO_MIN_LONG_SIDE / LOGO_MIN_SHORT_SIDE."""
    if logo_width <= 0 or logo_height <= 0:
        return None
    unit = min(canvas.w, canvas.h)
    inset = max(clear, margin)
    pad_ratio = 0.18  # plate padding, relative to the logo's height
    max_width = min(round(0.30 * unit), canvas.w - 2 * inset)
    max_height = min(round(0.13 * unit), canvas.h - 2 * inset)
    scale = min(max_width / logo_width, max_height / (logo_height * (1 + 2 * pad_ratio)))
    width, height = math.floor(logo_width * scale), math.floor(logo_height * scale)
    pad = math.ceil(pad_ratio * height)
    if width + 2 * pad > max_width:
        width = max(0, max_width - 2 * pad)
        height = math.floor(logo_height * width / logo_width)
    if max(width, height) < LOGO_MIN_LONG_SIDE or min(width, height) < LOGO_MIN_SHORT_SIDE:
        return None
    element_width, element_height = width + 2 * pad, height + 2 * pad
    x = inset if corner.endswith("left") else canvas.right - inset - element_width
    y = inset if corner.startswith("top") else canvas.bottom - inset - element_height
    element = Box(x, y, element_width, element_height)
    return LogoPlacement(Box(x + pad, y + pad, width, height), element, element.expand(clear))
