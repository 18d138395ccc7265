"""The design engine's geometry, pure data: boxes and the rectangle maths of clear space, the shapes a layout
paints, the variants a seed selects and the skeleton a layout family builds (sgd.design.layout, .families)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Align = Literal["left", "center", "right"]
VAlign = Literal["top", "middle", "bottom"]
Accent = Literal["band", "bar", "circle", "corner", "frame", "block"]
Scheme = Literal["brand", "inverted", "accent"]
Corner = Literal["top-left", "top-right", "bottom-left", "bottom-right"]


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


@dataclass(frozen=True)
class Shape:
    """A filled shape. `paint` names its colour role: media (the picture area without a picture), border (the frame
    template's surround), background (the canvas colour again, e.g. inside the frame), accent (decoration) or ground (a
    part of the canvas that takes the canvas colour unless a proportion rule gives it another, e.g. a banner's logo
    field)."""

    name: str
    kind: Literal["rect", "ellipse", "polygon"]
    box: Box  # the shape's bounds (a polygon's bounding box)
    paint: Literal["media", "border", "background", "accent", "ground"]
    points: tuple[tuple[int, int], ...] = ()  # a polygon's corners, in canvas pixels


MediaKind = Literal["rect", "ellipse", "polygon"]


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
    media_kind: MediaKind = "rect"  # the picture area's shape: a rectangle, a circle in `media`, or a polygon
    media_points: tuple[tuple[int, int], ...] = ()  # the polygon's corners when media_kind is "polygon"
    logo_slot: Box | None = None  # families with a place of their own for the logo (banners): it goes there
    cta_area: Box | None = None  # families that set the call to action apart from the copy (banners)
