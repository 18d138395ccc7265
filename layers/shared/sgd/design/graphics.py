"""Brand graphics: when a design has no imagery, its picture area gets a deterministic geometric composition in the
palette's colours, chosen by the brand's style and varied by the seed. Quiet styles for calm, minimal brands (colour
blocks, a pair of arcs, a few rules); loud ones for energetic, rich brands (a tile grid of quarter and half circles,
concentric rings, diagonal stripes, a dot field, rows of arches, a striped sun). The style's density sets how many
shapes a loud style draws.

Every shape is drawn without anti-aliasing, so every pixel is exactly a palette colour. The logo's clear space is
kept as a quiet area in the graphic's base colour: the grid cells it reaches (or, when those would take too much of
the area, just the clear-space box) are left plain, so the graphic never comes within the logo's clear space."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from sgd.design.color import contrast_ratio, parse_hex
from sgd.design.geometry import Box

LOUD_STYLES = ("tiles", "rings", "stripes", "dots", "arches", "sunrise")
QUIET_STYLES = ("blocks", "arcs", "lines")
STYLES = (*LOUD_STYLES, *QUIET_STYLES)
MIN_GRAPHIC_SIDE = 24  # px; a smaller picture area stays a flat surface (a pattern there is only noise)
MAX_QUIET_SHARE = 0.3  # the largest share of the area the logo's quiet cells may take before only its box is kept
MAX_QUIET_GROWTH = 1.6  # nor may snapping to cells grow the quiet area more than this over the clear-space box
TEMPLATE_STYLE_OFFSET = {"hero": 0, "split": 0, "band": 2, "stack": 1, "frame": 3}


@dataclass(frozen=True)
class Graphic:
    """A drawn graphic: its style, the rectangles it covers (the area minus the quiet area, without overlap) and
    the palette colours it uses (its base colour first)."""

    style: str
    regions: tuple[Box, ...]
    colors: tuple[str, ...]
    quiet: Box | None  # the plain part kept around the logo, in canvas coordinates


def style_for(template: str, seed: int, styles: Sequence[str] = LOUD_STYLES, choices: int = 3) -> str:
    """The style a seed selects among the first `choices` of `styles` (the brand's, in order of fit), offset per
    template so two layouts of one request differ."""
    pool = [style for style in styles if style in STYLES][:max(1, choices)] or list(LOUD_STYLES)
    return pool[(abs(int(seed)) + TEMPLATE_STYLE_OFFSET.get(template, 0)) % len(pool)]


MIN_INK_CONTRAST = 1.25  # an ink this close to the base reads as a flat block (a placeholder), not a graphic


def graphic_colors(base: str, palette: Sequence[str], last: Sequence[str] = ()) -> tuple[str, ...]:
    """The base colour, then the other palette colours (those barely distinguishable from the base last), those
    in `last` (e.g. the canvas background, so the picture area stays distinct from the copy beside it) at the
    end."""
    others = [color for color in dict.fromkeys(palette) if color != base]
    others.sort(key=lambda color: contrast_ratio(color, base) < MIN_INK_CONTRAST)  # stable: order kept otherwise
    return (base, *[color for color in others if color not in last], *[color for color in others if color in last])


def draw_graphic(image: Image.Image, area: Box, colors: Sequence[str], style: str, seed: int,
                 keep_out: Box | None = None, density: float = 0.5) -> Graphic | None:
    """Draws the `style` graphic into `area` of `image` (base colour colors[0]); None (nothing drawn) when the
    area is too small, there is only one colour, or the quiet area leaves nothing."""
    colors = tuple(dict.fromkeys(colors))
    if len(colors) < 2 or min(area.w, area.h) < MIN_GRAPHIC_SIDE or style not in _PAINTERS:
        return None
    quiet = _quiet_area(area, keep_out)
    regions = _regions(area, quiet)
    if not regions:
        return None
    layer = Image.new("RGB", (area.w, area.h), parse_hex(colors[0]))
    rng = random.Random(abs(int(seed)) * 7919 + STYLES.index(style))  # noqa: S311 - layout variety, not security
    local = Box(quiet.x - area.x, quiet.y - area.y, quiet.w, quiet.h) if quiet is not None else None
    whole = Box(0, 0, area.w, area.h)
    free = whole.minus(local) if local is not None else whole
    _PAINTERS[style](_Canvas(ImageDraw.Draw(layer), area.w, area.h, colors, rng, free or whole, local,
                             min(1.0, max(0.0, density))))
    if local is not None:
        layer.paste(parse_hex(colors[0]), (local.x, local.y, local.right, local.bottom))
    image.paste(layer, (area.x, area.y))
    used = _colors_present(layer, colors)
    return Graphic(style, regions, used, quiet)


def grid(width: int, height: int, across: int) -> tuple[list[int], list[int]]:
    """Cell edges of a grid of near-square cells with `across` cells along the shorter side, tiling exactly."""
    cell = min(width, height) / max(1, across)
    columns, rows = max(1, round(width / cell)), max(1, round(height / cell))
    return ([round(index * width / columns) for index in range(columns + 1)],
            [round(index * height / rows) for index in range(rows + 1)])


# --- quiet area -----------------------------------------------------------------------------------------------------


def _quiet_area(area: Box, keep_out: Box | None) -> Box | None:
    """The plain part around the logo: the grid cells its clear-space box reaches, so the gap reads as a quiet
    tile; just the box's part in the area when those cells would take too much more."""
    if keep_out is None:
        return None
    reach = area.intersection(keep_out)
    if reach is None:
        return None
    xs, ys = grid(area.w, area.h, _across(area))
    left = max(x for x in xs if area.x + x <= reach.x)
    right = min(x for x in xs if area.x + x >= reach.right)
    top = max(y for y in ys if area.y + y <= reach.y)
    bottom = min(y for y in ys if area.y + y >= reach.bottom)
    cells = Box(area.x + left, area.y + top, right - left, bottom - top)
    snapped = cells.area <= MAX_QUIET_SHARE * area.area and cells.area <= MAX_QUIET_GROWTH * reach.area
    return cells if snapped else reach


def _regions(area: Box, quiet: Box | None) -> tuple[Box, ...]:
    """`area` minus `quiet` as non-overlapping rectangles: full-width strips above and below, pieces beside."""
    if quiet is None:
        return (area,)
    pieces = [
        Box(area.x, area.y, area.w, quiet.y - area.y),
        Box(area.x, quiet.bottom, area.w, area.bottom - quiet.bottom),
        Box(area.x, quiet.y, quiet.x - area.x, quiet.h),
        Box(quiet.right, quiet.y, area.right - quiet.right, quiet.h),
    ]
    return tuple(piece for piece in pieces if piece.w > 0 and piece.h > 0)


def _across(area: Box) -> int:
    """Cells along the shorter side: two on small areas, three from 240 px."""
    return 2 if min(area.w, area.h) < 240 else 3


def _colors_present(layer: Image.Image, colors: Sequence[str]) -> tuple[str, ...]:
    counts = layer.getcolors(len(colors) + 1) or []
    present = {color for _count, color in counts}
    return tuple(color for color in colors if parse_hex(color) in present)


# --- painters (local coordinates: the area's top-left is 0, 0) ------------------------------------------------------


@dataclass(frozen=True)
class _Canvas:
    draw: ImageDraw.ImageDraw
    w: int
    h: int
    colors: tuple[str, ...]
    rng: random.Random
    free: Box  # the largest rectangle clear of the quiet area: focal shapes go here, whole
    quiet: Box | None
    density: float = 0.5  # 0..1: fewer, larger shapes .. more, smaller ones

    def count(self, low: int, high: int) -> int:
        """A count between low and high by the density."""
        return low + round(self.density * (high - low))

    @property
    def side(self) -> int:
        return min(self.w, self.h)

    def ink(self, index: int) -> tuple[int, int, int]:
        """The index-th colour other than the base, cycling."""
        return parse_hex(self.colors[1 + index % (len(self.colors) - 1)])

    def fill(self, index: int) -> tuple[int, int, int]:
        """The index-th colour of all, base first, cycling."""
        return parse_hex(self.colors[index % len(self.colors)])


def _tiles(canvas: _Canvas) -> None:
    """A Bauhaus tile grid: every cell a palette colour with a quarter circle, half circle, circle, diagonal half or
    ring in another, turned at random."""
    xs, ys = grid(canvas.w, canvas.h, canvas.count(2, 4) if canvas.side >= 240 else 2)
    rng, count = canvas.rng, len(canvas.colors)
    for row in range(len(ys) - 1):
        for column in range(len(xs) - 1):
            x0, y0, x1, y1 = xs[column], ys[row], xs[column + 1] - 1, ys[row + 1] - 1
            background = rng.randrange(count) if (row, column) != (0, 0) else 0  # the base shows somewhere
            foreground = (background + 1 + rng.randrange(count - 1)) % count
            canvas.draw.rectangle((x0, y0, x1, y1), fill=canvas.fill(background))
            _motif(canvas.draw, rng.choice(_MOTIFS), rng.randrange(4), (x0, y0, x1, y1), canvas.fill(foreground),
                   canvas.fill(background))


_MOTIFS = ("quarter", "quarter", "half", "circle", "diagonal", "ring")


def _motif(draw: ImageDraw.ImageDraw, motif: str, turn: int, cell: tuple[int, int, int, int],
           color: tuple[int, int, int], background: tuple[int, int, int]) -> None:
    x0, y0, x1, y1 = cell
    width, height = x1 - x0 + 1, y1 - y0 + 1
    if motif == "quarter":  # a quarter disc centred on one corner, radius the cell's side
        cx, cy = (x0, x1 + 1)[turn in (1, 2)], (y0, y1 + 1)[turn in (2, 3)]
        start = 90 * turn  # angles run clockwise from 3 o'clock: the quadrant inside the cell
        draw.pieslice((cx - width, cy - height, cx + width - 1, cy + height - 1), start, start + 90, fill=color)
    elif motif == "half":  # a half disc on one edge
        if turn in (0, 2):
            cy = y0 if turn == 0 else y1 + 1
            draw.pieslice((x0, cy - width // 2, x1, cy + width // 2 - 1), 0 if turn == 0 else 180,
                          180 if turn == 0 else 360, fill=color)
        else:
            cx = x0 if turn == 1 else x1 + 1
            draw.pieslice((cx - height // 2, y0, cx + height // 2 - 1, y1), 270 if turn == 1 else 90,
                          90 if turn == 1 else 270, fill=color)
    elif motif == "circle":
        inset = round(0.1 * min(width, height))
        draw.ellipse((x0 + inset, y0 + inset, x1 - inset, y1 - inset), fill=color)
    elif motif == "diagonal":
        corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        draw.polygon([corners[(turn + offset) % 4] for offset in range(3)], fill=color)
    else:  # ring: a disc with a hole in the cell's colour
        inset = round(0.1 * min(width, height))
        hole = round(0.32 * min(width, height))
        draw.ellipse((x0 + inset, y0 + inset, x1 - inset, y1 - inset), fill=color)
        draw.ellipse((x0 + hole, y0 + hole, x1 - hole, y1 - hole), fill=background)


def _rings(canvas: _Canvas) -> None:
    """Concentric rings spreading from a corner of the area away from the quiet area."""
    rng = canvas.rng
    corners = [(x, y) for x in (0, canvas.w) for y in (0, canvas.h)]
    if canvas.quiet is not None:
        quiet = canvas.quiet.expand(1)  # a corner on the quiet area's edge counts as inside it
        far = [(x, y) for x, y in corners if not (quiet.x <= x <= quiet.right and quiet.y <= y <= quiet.bottom)]
        corners = far or corners
    cx, cy = rng.choice(corners)
    band = max(3, round(canvas.side / (canvas.count(4, 9) + rng.choice((0, 1)))))
    radius = math.ceil(math.hypot(canvas.w, canvas.h) / band) * band
    index = 0
    while radius > 0:
        color = canvas.ink(index // 2) if index % 2 == 0 else canvas.fill(0)
        canvas.draw.ellipse((cx - radius, cy - radius, cx + radius - 1, cy + radius - 1), fill=color)
        radius -= band
        index += 1


def _stripes(canvas: _Canvas) -> None:
    """Diagonal bands at 45 degrees: the inks alternating with the base colour."""
    rng = canvas.rng
    band = max(3, round(canvas.side / (canvas.count(5, 13) + rng.choice((0, 1, 2)))))
    rising = rng.random() < 0.5
    for index, offset in enumerate(range(-canvas.h, canvas.w + canvas.h, 2 * band)):
        top_left, top_right = offset, offset + band
        points = [(top_left, 0), (top_right, 0), (top_right - canvas.h, canvas.h), (top_left - canvas.h, canvas.h)]
        if not rising:
            points = [(canvas.w - x, y) for x, y in points]
        canvas.draw.polygon(points, fill=canvas.ink(index))


def _dots(canvas: _Canvas) -> None:
    """A large disc half off one edge of the free part, under an even field of dots."""
    rng = canvas.rng
    free = canvas.free
    diameter = round(1.1 * min(free.w, free.h))
    edge = rng.randrange(4)
    cx = free.x + (free.w // 2, free.w, free.w // 2, 0)[edge]
    cy = free.y + (0, free.h // 2, free.h, free.h // 2)[edge]
    canvas.draw.ellipse((cx - diameter // 2, cy - diameter // 2, cx + diameter // 2, cy + diameter // 2),
                        fill=canvas.ink(1))
    pitch = max(6, round(canvas.side / (canvas.count(6, 12) + rng.choice((0, 2)))))
    dot = max(2, round(0.42 * pitch))
    columns, rows = max(1, canvas.w // pitch), max(1, canvas.h // pitch)
    x_start, y_start = (canvas.w - columns * pitch + pitch - dot) // 2, (canvas.h - rows * pitch + pitch - dot) // 2
    color = canvas.ink(0)
    for row in range(rows):
        for column in range(columns):
            x, y = x_start + column * pitch, y_start + row * pitch
            canvas.draw.ellipse((x, y, x + dot - 1, y + dot - 1), fill=color)


def _arches(canvas: _Canvas) -> None:
    """Rows of nested arches, each row in the next colours."""
    rng = canvas.rng
    xs, ys = grid(canvas.w, canvas.h, canvas.count(2, 5) if canvas.side >= 240 else 2)
    shift = rng.randrange(len(canvas.colors))
    for row in range(len(ys) - 1):
        for column in range(len(xs) - 1):
            x0, y0, x1, y1 = xs[column], ys[row], xs[column + 1] - 1, ys[row + 1] - 1
            width, height = x1 - x0 + 1, y1 - y0 + 1
            outer, inner = canvas.ink(row + column + shift), canvas.fill(row + column + shift + 2)
            # an arch: a half disc on top of a rectangle, standing on the cell's bottom edge
            radius = width // 2
            top = max(y0, y1 + 1 - round(0.85 * height))
            canvas.draw.pieslice((x0, top, x1, top + 2 * radius - 1), 180, 360, fill=outer)
            canvas.draw.rectangle((x0, top + radius, x1, y1), fill=outer)
            inset = max(1, round(0.25 * width))
            canvas.draw.pieslice((x0 + inset, top + inset, x1 - inset, top + 2 * radius - 1 - inset), 180, 360,
                                 fill=inner)
            canvas.draw.rectangle((x0 + inset, top + radius, x1 - inset, y1), fill=inner)


def _sunrise(canvas: _Canvas) -> None:
    """A sun in a halo, centred in the free part, its lower half cut by bars that thicken downwards."""
    rng = canvas.rng
    free = canvas.free
    halo = round(min(free.w, free.h) * rng.choice((0.42, 0.46)))
    radius = round(0.72 * halo)
    cx, cy = free.x + free.w // 2, free.y + free.h // 2
    canvas.draw.ellipse((cx - halo, cy - halo, cx + halo - 1, cy + halo - 1), fill=canvas.ink(1))
    canvas.draw.ellipse((cx - radius, cy - radius, cx + radius - 1, cy + radius - 1), fill=canvas.ink(0))
    y, thickness = cy + max(1, round(radius / 12)), max(1, round(radius / 24))
    while y < cy + radius:
        canvas.draw.rectangle((cx - radius, y, cx + radius - 1, y + thickness - 1), fill=canvas.ink(1))
        y += thickness + max(2, round(radius / 7))
        thickness = max(1, round(thickness * 1.5))


def _blocks(canvas: _Canvas) -> None:
    """Colour blocking: the area split into two or three calm bands along its longer side (or across the free
    part), the base colour keeping the largest."""
    rng = canvas.rng
    shares = (0.62, 0.38) if len(canvas.colors) < 3 or rng.random() < 0.5 else (0.5, 0.3, 0.2)
    along_width = canvas.w >= canvas.h
    length = canvas.w if along_width else canvas.h
    start = 0
    for index, share in enumerate(shares):
        end = length if index == len(shares) - 1 else start + round(share * length)
        if index:  # the first band stays the base colour
            box = (start, 0, end - 1, canvas.h - 1) if along_width else (0, start, canvas.w - 1, end - 1)
            canvas.draw.rectangle(box, fill=canvas.ink(index - 1))
        start = end


def _arcs(canvas: _Canvas) -> None:
    """One large quarter disc from a corner of the free part, a narrower arc of another colour inside it."""
    rng, free = canvas.rng, canvas.free
    corner = rng.randrange(4)
    cx = free.x if corner in (0, 3) else free.right
    cy = free.y if corner in (0, 1) else free.bottom
    radius = round(0.92 * min(free.w, free.h))
    canvas.draw.ellipse((cx - radius, cy - radius, cx + radius - 1, cy + radius - 1), fill=canvas.ink(0))
    inner = round(0.58 * radius)
    canvas.draw.ellipse((cx - inner, cy - inner, cx + inner - 1, cy + inner - 1), fill=canvas.fill(0))
    core = round(0.34 * radius)
    canvas.draw.ellipse((cx - core, cy - core, cx + core - 1, cy + core - 1), fill=canvas.ink(1))


def _lines(canvas: _Canvas) -> None:
    """A few parallel rules across the base colour: structure without noise."""
    rng = canvas.rng
    count = canvas.count(3, 6)
    stroke = max(1, round(canvas.side / 90))
    horizontal = rng.random() < 0.5
    length = canvas.h if horizontal else canvas.w
    for index in range(count):
        position = round((index + 1) * length / (count + 1))
        box = (0, position, canvas.w - 1, position + stroke - 1) if horizontal else \
            (position, 0, position + stroke - 1, canvas.h - 1)
        canvas.draw.rectangle(box, fill=canvas.ink(index % 2))


_PAINTERS: dict[str, Callable[[_Canvas], None]] = {
    "tiles": _tiles, "rings": _rings, "stripes": _stripes, "dots": _dots, "arches": _arches, "sunrise": _sunrise,
    "blocks": _blocks, "arcs": _arcs, "lines": _lines,
}
