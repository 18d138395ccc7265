"""Layout families beyond the classic hero, split, band, stack and frame (sgd.design.layout):

- editorial: generous whitespace, an inset picture beside or above left-set copy, a hairline rule. Calm, formal.
- diagonal: a slanted colour field holds the picture or the brand graphic; the copy sits on the plain side. Energetic.
- spotlight: a large circle, partly off the canvas, holds the picture or the graphic. Playful.
- strip: banners too short for a stack: logo, copy and call to action side by side, a graphic tile at the far end
  when there is room; the logo has a field of its own (the canvas colour unless a proportion rule needs another).
- signoff: the same short banners, headline-led: the copy opens the banner on the canvas colour and the call to
  action and the logo sign off on a field of their own at the far end (on 320x100, the call to action above the
  logo). Calm: no graphic tile, one split.
- tower: skyscrapers: the logo on top, then the picture, the copy and the call to action down the column (flipped:
  the copy under the logo, the picture at the foot).

Each builder turns a base skeleton (canvas, unit, margin, gap, variant) into the family's skeleton. Pure geometry."""

from __future__ import annotations

from dataclasses import replace

from sgd.design.geometry import Box, Shape, Skeleton

FAMILIES = ("editorial", "diagonal", "spotlight", "strip", "signoff", "tower")
STACKED_STRIP_PX = 60  # a strip without a graphic tile and this much inner height sets its logo above the copy


def build_family(base: Skeleton, has_imagery: bool, keep_out: Box | None = None) -> Skeleton:
    """The family's skeleton; `keep_out` (the logo's clear-space box) moves a spotlight's circle out of its way."""
    if base.template == "spotlight":
        return _spotlight(base, has_imagery, keep_out)
    if base.template == "signoff":
        return _signoff(base, keep_out)
    builder = {"editorial": _editorial, "diagonal": _diagonal, "strip": _strip, "tower": _tower}[base.template]
    return builder(base, has_imagery)


def _editorial(base: Skeleton, has_imagery: bool) -> Skeleton:
    """An inset picture (not full-bleed) beside the copy on landscapes, above it otherwise; copy set left."""
    canvas, margin, gap, flip = base.canvas, base.margin, base.gap, base.variant.flip
    inner = canvas.inset(margin)
    if canvas.w >= 1.25 * canvas.h:
        media_width = round(0.40 * canvas.w)
        media = Box(inner.x if flip else inner.right - media_width, inner.y, media_width, inner.h)
        copy_area = Box(media.right + 2 * gap if flip else inner.x, inner.y,
                        inner.w - media_width - 2 * gap, inner.h)
    elif min(canvas.w, canvas.h) >= 200:
        media_height = round(0.46 * inner.h)
        media = Box(inner.x, inner.bottom - media_height if flip else inner.y, inner.w, media_height)
        copy_area = Box(inner.x, inner.y if flip else media.bottom + 2 * gap, inner.w,
                        inner.h - media_height - 2 * gap)
    else:  # too small for an inset picture: type only
        return replace(base, copy_area=inner, kicker=True)
    surfaces = () if has_imagery else (Shape("media", "rect", media, "media"),)
    return replace(base, media=media, surfaces=surfaces, copy_area=copy_area, kicker=True)


def _diagonal(base: Skeleton, has_imagery: bool) -> Skeleton:
    """A slanted field across one side (the right on landscapes, the bottom otherwise)."""
    canvas, margin, gap, flip = base.canvas, base.margin, base.gap, base.variant.flip
    width, height = canvas.w, canvas.h
    if width >= 1.2 * height:
        top_x, bottom_x = round(0.56 * width), round(0.44 * width)
        points = ((top_x, 0), (width, 0), (width, height), (bottom_x, height))
        if flip:  # mirrored: the field on the left, slanting the other way
            points = tuple((width - x, y) for x, y in points)
            copy_area = Box(width - bottom_x + gap, 0, bottom_x - gap, height).inset(margin)
        else:
            copy_area = Box(0, 0, bottom_x - gap, height).inset(margin)
    else:
        left_y, right_y = round(0.64 * height), round(0.52 * height)
        points = ((0, left_y), (width, right_y), (width, height), (0, height))
        if flip:
            points = tuple((width - x, y) for x, y in points)
        copy_area = Box(0, 0, width, min(left_y, right_y) - gap).inset(margin)
    xs, ys = [x for x, _ in points], [y for _, y in points]
    bounds = Box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
    surfaces = () if has_imagery else (Shape("media", "polygon", bounds, "media", points),)
    return replace(base, media=bounds, media_kind="polygon", media_points=points, surfaces=surfaces,
                   copy_area=copy_area, kicker=base.variant.accent == "bar")


def _spotlight(base: Skeleton, has_imagery: bool, keep_out: Box | None = None) -> Skeleton:
    """A circle partly off the canvas: to the right on landscapes, bottom right on squares, at the foot of tall
    canvases; the copy takes the largest plain rectangle left. A circle whose bounds reach the logo's clear space
    slides away from it (further off the canvas), so no element's box comes near the logo."""
    canvas, margin, gap, flip = base.canvas, base.margin, base.gap, base.variant.flip
    width, height = canvas.w, canvas.h
    if width >= 1.2 * height:
        diameter = round(min(1.25 * height, 0.62 * width))
        cx, cy = width - round(0.40 * diameter), height // 2
    elif height >= 1.2 * width:
        diameter = round(min(1.05 * width, 0.62 * height))
        cx, cy = width // 2, height - round(0.36 * diameter)
    else:
        diameter = round(0.86 * width)
        cx, cy = width - round(0.34 * diameter), height - round(0.34 * diameter)
    if flip:
        cx = width - cx
    circle = Box(cx - diameter // 2, cy - diameter // 2, diameter, diameter)
    if keep_out is not None and circle.intersects(keep_out):
        circle = _slide_clear(circle, keep_out, canvas)
    visible = circle.intersection(canvas) or circle
    copy_area = (canvas.minus(circle.expand(gap)) or canvas).inset(margin)
    surfaces = () if has_imagery else (Shape("media", "ellipse", circle, "media"),)
    return replace(base, media=circle, media_kind="ellipse", surfaces=surfaces, copy_area=copy_area,
                   kicker=False, panel_behind_copy=False) if visible.area else base


def _slide_clear(circle: Box, keep_out: Box, canvas: Box) -> Box:
    """The circle moved the shortest way (right, left, down or up) that clears `keep_out`, keeping a third of it on
    the canvas; unmoved when no such move exists."""
    moves = [(keep_out.right - circle.x, 0), (keep_out.x - circle.right, 0), (0, keep_out.bottom - circle.y),
             (0, keep_out.y - circle.bottom)]
    for dx, dy in sorted(moves, key=lambda move: abs(move[0]) + abs(move[1])):
        moved = Box(circle.x + dx, circle.y + dy, circle.w, circle.h)
        seen = moved.intersection(canvas)
        if seen is not None and seen.area * 3 >= circle.area and not moved.intersects(keep_out):
            return moved
    return circle


def _strip(base: Skeleton, has_imagery: bool) -> Skeleton:
    """logo | copy | call to action [| graphic tile]: everything on one row; flipped, the tile leads."""
    canvas, gap = base.canvas, base.gap
    width, height = canvas.w, canvas.h
    margin = max(2, round(0.12 * height))
    inner = canvas.inset(margin)
    tile = None
    if width >= 5 * height and width >= 600:
        tile = Box(0 if base.variant.flip else width - height, 0, height, height)
    if tile is not None and base.variant.flip:
        inner = Box(tile.right + margin, inner.y, inner.right - tile.right - margin, inner.h)
    cta_right = tile.x - gap if tile is not None and not base.variant.flip else inner.right
    cta_width = min(max(round(0.22 * width), round(2.2 * inner.h)), round(0.3 * width))
    cta_area = Box(cta_right - cta_width, inner.y, cta_width, inner.h)
    surfaces = (Shape("media", "rect", tile, "media"),) if tile is not None and not has_imagery else ()
    field_left = tile.right if tile is not None and base.variant.flip else 0
    if tile is None and inner.h >= STACKED_STRIP_PX:
        # A narrow banner with height to spare (320x100): the logo above the copy, so the copy has the width.
        logo_slot = Box(inner.x, inner.y, round(0.4 * width), round(0.44 * inner.h))
        copy_area = Box(inner.x, logo_slot.bottom + 2 * gap, cta_area.x - 2 * gap - inner.x,
                        inner.bottom - logo_slot.bottom - 2 * gap)
        field = Box(0, 0, cta_area.x - gap, logo_slot.bottom + gap)
    else:
        logo_slot = Box(inner.x, inner.y, min(round(0.26 * width), round(2.6 * inner.h)), inner.h)
        copy_area = Box(logo_slot.right + 2 * gap, inner.y, cta_area.x - 2 * gap - logo_slot.right - 2 * gap,
                        inner.h)
        field = Box(field_left, 0, logo_slot.right + gap - field_left, height)
    # The logo's field: the canvas colour, unless a proportion rule needs a second one.
    ground = Shape("ground", "rect", field, "ground")
    return replace(base, margin=margin, media=tile, surfaces=(*surfaces, ground), copy_area=copy_area, kicker=False,
                   panel_behind_copy=False, logo_slot=logo_slot, cta_area=cta_area)


def _signoff(base: Skeleton, keep_out: Box | None = None) -> Skeleton:
    """copy | call to action | logo, the last two on a field of their own (flipped: copy | logo | call to action). A
    narrow banner with height to spare (320x100) sets the call to action above the logo in the field (flipped: the
    logo above). The call to action keeps out of the logo's clear space (`keep_out`)."""
    canvas, gap, flip = base.canvas, base.gap, base.variant.flip
    width, height = canvas.w, canvas.h
    margin = max(2, round(0.12 * height))
    inner = canvas.inset(margin)
    if width < 5 * height and inner.h >= STACKED_STRIP_PX:
        field = Box(width - round(0.36 * width), 0, round(0.36 * width), height)
        column = Box(field.x + margin, inner.y, field.w - 2 * margin, inner.h)
        top = Box(column.x, column.y, column.w, round(0.52 * column.h))
        bottom = Box(column.x, top.bottom + 2 * gap, column.w, column.bottom - top.bottom - 2 * gap)
        cta_area, logo_slot = (bottom, top) if flip else (top, bottom)
    else:
        # The end field stays under about two fifths of the banner (a 60/30 brand keeps its split on it).
        cta_width = min(max(round(0.2 * width), round(1.8 * inner.h)), round(0.28 * width))
        logo_width = min(round(0.12 * width), round(1.8 * inner.h))
        field_width = cta_width + logo_width + 2 * gap + 2 * margin
        field = Box(width - field_width, 0, field_width, height)
        first = Box(field.x + margin, inner.y, cta_width if not flip else logo_width, inner.h)
        second = Box(first.right + 2 * gap, inner.y, inner.right - first.right - 2 * gap, inner.h)
        cta_area, logo_slot = (second, first) if flip else (first, second)
    if keep_out is not None:
        cta_area = cta_area.minus(keep_out) or cta_area
    copy_area = Box(inner.x, inner.y, field.x - margin - inner.x, inner.h)
    ground = Shape("ground", "rect", field, "ground")
    return replace(base, margin=margin, media=None, surfaces=(ground,), copy_area=copy_area, kicker=False,
                   panel_behind_copy=False, logo_slot=logo_slot, cta_area=cta_area)


def _tower(base: Skeleton, has_imagery: bool) -> Skeleton:
    """Logo on top, the picture, then the copy, the call to action at the foot; flipped, the copy under the logo and
    the picture at the foot, full-bleed."""
    canvas, margin, gap = base.canvas, base.margin, base.gap
    width, height = canvas.w, canvas.h
    inner = canvas.inset(margin)
    logo_slot = Box(inner.x, inner.y, inner.w, round(0.13 * height))
    media_height = round(0.36 * height)
    if base.variant.flip:
        media = Box(0, height - media_height, width, media_height)
        copy_area = Box(inner.x, logo_slot.bottom + 2 * gap, inner.w, media.y - 2 * gap - logo_slot.bottom - 2 * gap)
    else:
        media = Box(0, logo_slot.bottom + 2 * gap, width, media_height)
        copy_area = Box(inner.x, media.bottom + 2 * gap, inner.w, inner.bottom - media.bottom - 2 * gap)
    surfaces = () if has_imagery else (Shape("media", "rect", media, "media"),)
    return replace(base, media=media, surfaces=surfaces, copy_area=copy_area, kicker=False,
                   panel_behind_copy=False, logo_slot=logo_slot)
