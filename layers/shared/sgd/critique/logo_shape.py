"""Finds the logo by its shape, whatever its colours and whatever it sits on.

The colour fit (sgd.critique.logo) finds the logo as ingested over a locally flat background. A designer also
recognises it knocked out in one colour, on a dark panel, on a brand graphic, on a plate over a photo, or recoloured.
What all of those keep is the logo's edges and their orientation: the outline of its alpha mask and the borders
between its colours. So the search compares edge orientation, not colour (the approach of template matching by
quantised gradient orientations, "LINE-2D"):

- the design's gradient, per pixel from the colour channel where it is strongest, is quantised into ORIENTATIONS bins
  of direction modulo 180 degrees (a light-on-dark knockout has the same orientations as dark-on-light) and spread
  over a 3x3 neighbourhood (tolerant of a pixel's misplacement and of resampling);
- the logo's template at each size gives up to FEATURES edge points (well spread over its edges) with their
  orientation; a position scores the mean similarity (|cos| of the angle between orientations) of the design's spread
  orientations under the template's points;
- every position and every size between the policy's minimum and maximum logo width is scored on a reduced copy, the
  best few are verified on a copy twice as fine with twice the points, and a verified match must also not sit in
  clutter: edge pixels inside the box far from every template edge (a photo, a pattern) lower the score.

The colours of a shape match are judged afterwards (`colour_verdict`): the ingested colours, a one-colour knockout in
a canon colour (or white or black), or recoloured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from sgd.critique.logo_prepared import PreparedLogo, Template
from sgd.critique.regions import grow, iou
from sgd.lru import LruCache

ORIENTATIONS = 8
FEATURES = 40  # template points at the coarse level; more at verification
VERIFY_FEATURES = 160
COARSE_SHORT_SIDE = 216  # the reduced copy's shorter side (px) for the full search
MIN_TEMPLATE_PX = 12  # the smallest template width at the coarse level (smaller logos: a finer copy)
VERIFY_LONG_SIDE = 96  # the template's longer side at verification (px)
SCALE_STEP = 1.18
EDGE_THRESHOLD = 14.0  # gradient (channel levels over 2 px) from which a pixel is an edge
CANDIDATES = 10
SAME_SIZE = 1.2  # candidates within this size ratio at one place are one candidate
COARSE_MIN = 0.5
ACCEPT = 0.75  # verified score a shape match needs (its own logo scores 0.85-1.0)
CLUTTER_WEIGHT = 0.6
RINGING_SHARE = 0.25  # JPEG / WebP: a gradient under this share of the strongest nearby is the codec's ringing
RINGING_REACH = 4  # px (a JPEG block's half)
UNIT = 4  # similarity units: same orientation 4, a neighbouring one 2, else 0
_SIMILARITY = np.array([UNIT, UNIT // 2] + [0] * (ORIENTATIONS - 3) + [UNIT // 2], dtype=np.uint8)
_LUT = np.zeros((ORIENTATIONS, 256), dtype=np.uint8)
for _orientation in range(ORIENTATIONS):
    for _bits in range(1, 256):
        _LUT[_orientation, _bits] = max(int(_SIMILARITY[(_orientation - b) % ORIENTATIONS])
                                        for b in range(ORIENTATIONS) if _bits >> b & 1)


@dataclass(frozen=True, slots=True)
class ShapeMatch:
    x: float  # full-resolution box of the template
    y: float
    width: float
    height: float
    score: float


def gradient(planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(magnitude, orientation bin) of an (h, w, c) float image: central differences on each channel, the channel
    with the strongest gradient wins. Orientation is the gradient's direction modulo 180 degrees."""
    padded = np.pad(planes.astype(np.float32, copy=False), ((1, 1), (1, 1), (0, 0)), mode="edge")
    def channel_gradient(channel: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        gx = padded[1:-1, 2:, channel] - padded[1:-1, :-2, channel]
        gy = padded[2:, 1:-1, channel] - padded[:-2, 1:-1, channel]
        return gx, gy, gx * gx + gy * gy

    best_gx, best_gy, best_energy = channel_gradient(0)
    for channel in range(1, planes.shape[2]):
        gx, gy, energy = channel_gradient(channel)
        stronger = energy > best_energy
        best_gx = np.where(stronger, gx, best_gx)
        best_gy = np.where(stronger, gy, best_gy)
        best_energy = np.maximum(energy, best_energy)
    angle = np.arctan2(best_gy, best_gx) % math.pi
    return np.sqrt(best_energy), (angle * (ORIENTATIONS / math.pi)).astype(np.int64) % ORIENTATIONS


def responses(planes: np.ndarray, lossy: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(ORIENTATIONS, h, w) similarity maps of a design copy, and its edge mask. `lossy` (JPEG or WebP): a codec
    rings next to a strong edge with a fraction of its gradient, in every direction; there only gradients of at least
    RINGING_SHARE of the strongest within RINGING_REACH px are edges (ringing inside a letter "o" gave it the inner
    structure of a ring-shaped logo)."""
    magnitude, orientation = gradient(planes)
    edges = magnitude >= EDGE_THRESHOLD
    if lossy:
        levels = np.clip(magnitude * 0.5, 0, 255).astype(np.uint8)
        strongest = np.asarray(Image.fromarray(levels).filter(ImageFilter.MaxFilter(2 * RINGING_REACH + 1)),
                               dtype=np.float32) * 2.0
        edges &= magnitude >= RINGING_SHARE * strongest
    bits = np.where(edges, np.left_shift(1, orientation), 0).astype(np.uint8)
    padded = np.pad(bits, 1)
    spread = np.zeros_like(bits)
    height, width = bits.shape
    for dy in range(3):
        for dx in range(3):
            spread |= padded[dy:dy + height, dx:dx + width]
    return np.ascontiguousarray(_LUT[:, spread]), edges


@dataclass(frozen=True, slots=True)
class _Features:
    dx: np.ndarray
    dy: np.ndarray
    orientation: np.ndarray
    edges: np.ndarray  # the template's edge mask (h, w), for the clutter measure
    size: tuple[int, int]


_features: LruCache[tuple[str, int, int, int], _Features | None] = LruCache(512)


def features(logo: PreparedLogo, width: int, height: int, count: int) -> _Features | None:
    """Up to `count` edge points of the template, one per cell of a grid over its edges (strongest first); cached
    per logo and size."""
    return _features.get_or_make((logo.digest, width, height, count), lambda: _made(logo, width, height, count))


def _made(logo: PreparedLogo, width: int, height: int, count: int) -> _Features | None:
    template = logo.template(width, height)
    planes = np.concatenate([template.premultiplied, template.alpha[..., None]], axis=2) * 255.0
    # Composited over mid-grey as well: the outline shows against any background a knockout may sit on.
    pad = 1
    planes = np.pad(planes, ((pad, pad), (pad, pad), (0, 0)))
    magnitude, orientation = gradient(planes)
    magnitude, orientation = magnitude[pad:-pad, pad:-pad], orientation[pad:-pad, pad:-pad]
    edges = magnitude >= EDGE_THRESHOLD
    rows, cols = np.nonzero(edges)
    if rows.size < 8:
        return None
    cell = max(1.0, math.sqrt(rows.size / count))
    keys = (rows // cell).astype(np.int64) * 100_000 + (cols // cell).astype(np.int64)
    order = np.lexsort((-magnitude[rows, cols], keys))
    first = order[np.flatnonzero(np.diff(keys[order], prepend=-1))]
    if first.size > count:
        first = first[np.linspace(0, first.size - 1, count).astype(int)]
    return _Features(cols[first], rows[first], orientation[rows[first], cols[first]], edges, (width, height))


def _score_map(maps: np.ndarray, feats: _Features, stride: int = 1) -> np.ndarray:
    """Mean similarity (0..1) under the template's points for every `stride`-th position where the template fits.
    The 3x3 spread lets a stride of 2 miss no match."""
    _, height, width = maps.shape
    tw, th = feats.size
    rows, cols = height - th + 1, width - tw + 1
    total = np.zeros((-(-rows // stride), -(-cols // stride)), dtype=np.uint16)
    for dx, dy, orientation in zip(feats.dx.tolist(), feats.dy.tolist(), feats.orientation.tolist(), strict=True):
        np.add(total, maps[orientation, dy:dy + rows:stride, dx:dx + cols:stride], out=total)
    return total.astype(np.float32) / (UNIT * max(1, feats.dx.size))


def _reduced(rgb: np.ndarray, factor: int) -> np.ndarray:
    image = Image.fromarray(rgb)
    reduced = image.reduce(factor) if factor > 1 else image
    return np.asarray(reduced, dtype=np.float32)


def find_by_shape(rgb: np.ndarray, logo: PreparedLogo, low: float, high: float, lossy: bool = False
                  ) -> ShapeMatch | None:
    """The best shape match of the logo with a width between `low` and `high` full-resolution pixels, or None.
    `lossy`: a JPEG or WebP (its ringing is not an edge)."""
    height, width = rgb.shape[:2]
    shorter = min(width, height)
    candidates: list[ShapeMatch] = []
    factor = max(1, round(shorter / COARSE_SHORT_SIDE))
    # Small logos are searched on a finer copy, so that the template keeps MIN_TEMPLATE_PX.
    levels: dict[int, list[float]] = {}
    logo_width = low
    while logo_width <= high * 1.0001:
        level = factor
        while level > 1 and logo_width / level < MIN_TEMPLATE_PX:
            level //= 2
        levels.setdefault(max(1, level), []).append(logo_width)
        logo_width *= SCALE_STEP
    for level, widths in sorted(levels.items()):
        maps, _ = responses(_reduced(rgb, level), lossy)
        for logo_width in widths:
            tw = max(4, round(logo_width / level))
            th = max(4, round(logo_width * logo.aspect / level))
            if tw > maps.shape[2] or th > maps.shape[1]:
                continue
            feats = features(logo, tw, th, FEATURES)
            if feats is None:
                continue
            scores = _score_map(maps, feats, 2)
            for score, col, row in _peaks(scores, (max(1, tw // 2), max(1, th // 2)), 2):
                if score >= COARSE_MIN:
                    candidates.append(ShapeMatch(2 * col * level, 2 * row * level, tw * level, th * level, score))
    candidates.sort(key=lambda match: -match.score)
    kept: list[ShapeMatch] = []
    for candidate in candidates:
        # Only a candidate of about the same size suppresses another: a logo with a ring or a disc inside it (a
        # knockout especially) also matches, smaller, at its own centre.
        if all(iou(_box(candidate), _box(other)) < 0.3 or
               max(candidate.width, other.width) > SAME_SIZE * min(candidate.width, other.width) for other in kept):
            kept.append(candidate)
        if len(kept) == CANDIDATES:
            break
    verified = [match for match in (_verify(rgb, logo, candidate, lossy) for candidate in kept) if match is not None]
    if not verified:
        return None
    best = max(verified, key=lambda match: match.score)
    return best if best.score >= ACCEPT else None


def shape_score(rgb: np.ndarray, logo: PreparedLogo, box: tuple[int, int, int, int], lossy: bool = False) -> float:
    """The verified shape score (clutter included) of the logo at about `box` (a match found by colour)."""
    x, y, w, _ = box
    verified = _verify(rgb, logo, ShapeMatch(float(x), float(y), float(w), float(w) * logo.aspect, 1.0), lossy)
    return verified.score if verified is not None else 0.0


def _box(match: ShapeMatch) -> tuple[float, float, float, float]:
    return match.x, match.y, match.width, match.height


def _peaks(scores: np.ndarray, size: tuple[int, int], count: int) -> list[tuple[float, int, int]]:
    chosen: list[tuple[float, int, int]] = []
    work = scores.copy()
    for _ in range(count):
        index = int(np.argmax(work))
        row, col = divmod(index, work.shape[1])
        value = float(work[row, col])
        if not np.isfinite(value) or value <= 0:
            break
        chosen.append((value, col, row))
        work[max(0, row - size[1] // 2):row + size[1] // 2 + 1, max(0, col - size[0] // 2):col + size[0] // 2 + 1] = 0
    return chosen


def _verify(rgb: np.ndarray, logo: PreparedLogo, candidate: ShapeMatch, lossy: bool = False) -> ShapeMatch | None:
    """Re-scores a candidate on a copy twice as fine around it, over nearby positions and sizes (+-10 %), with twice
    the template points; the score is lowered by the clutter inside the box."""
    height, width = rgb.shape[:2]
    level = max(1, round(max(candidate.width, candidate.height) / VERIFY_LONG_SIDE))
    margin = max(4 * level, round(0.15 * max(candidate.width, candidate.height)))
    x0, y0 = max(0, int(candidate.x) - margin), max(0, int(candidate.y) - margin)
    x1 = min(width, int(candidate.x + candidate.width) + margin)
    y1 = min(height, int(candidate.y + candidate.height) + margin)
    window = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    maps, edges = responses(_reduced(window, level), lossy)
    best: ShapeMatch | None = None
    for factor in (0.9, 0.95, 1.0, 1.05, 1.1):
        tw = max(4, round(candidate.width * factor / level))
        th = max(4, round(candidate.width * factor * logo.aspect / level))
        if tw > maps.shape[2] or th > maps.shape[1]:
            continue
        feats = features(logo, tw, th, VERIFY_FEATURES)
        if feats is None:
            continue
        scores = _score_map(maps, feats)
        row, col = divmod(int(np.argmax(scores)), scores.shape[1])
        score = float(scores[row, col]) - CLUTTER_WEIGHT * _clutter(edges[row:row + th, col:col + tw], feats)
        if best is None or score > best.score:
            best = ShapeMatch(x0 + col * level, y0 + row * level, tw * level, th * level, score)
    return best


def _clutter(edges: np.ndarray, feats: _Features) -> float:
    """The share of the design's edge pixels inside the box that lie more than 2 px from every template edge."""
    if edges.shape != feats.edges.shape or not edges.any():
        return 0.0
    near = grow(feats.edges, 2)
    return float(np.count_nonzero(edges & ~near)) / float(np.count_nonzero(edges))


# --- the colours of a shape match -----------------------------------------------------------------------------------

INK_DISTANCE = 24  # channel levels from the background from which a pixel inside the footprint is the logo's ink
KNOCKOUT_DELTA_E = 10.0  # a one-colour logo's ink this close to a canon colour (or white or black) is that colour
BACKGROUND_DELTA_E = 5.0  # a cut-out shows the background: within a codec's drift of it
OTHER_SHARE = 0.03  # a one-colour logo: at most this share of its flat pixels neither ink nor background
PART_MIN_PIXELS = 12  # a part of the logo in one colour of its own, inside its outline (pixels at the template's size)
PART_BLEND_LEVELS = 24.0  # channel levels off the ink-to-background blends: a colour of its own
PART_FLAT_SPREAD = 12  # ... shows a colour of its own when its pixels are this close to their median (levels; a
# photograph through a cut-out is not)
FLAT_SPREAD = 24  # 3x3 channel spread up to which a pixel is inside a fill, not on an edge (JPEG included)


@dataclass(frozen=True, slots=True)
class ColourVerdict:
    kind: str  # "as_ingested", "knockout" or "recoloured"
    colour: str | None  # the knockout's or the recoloured logo's dominant ink colour


def colour_verdict(rgb: np.ndarray, logo: PreparedLogo, box: tuple[int, int, int, int], allowed_hex: list[str],
                   tolerance: float) -> ColourVerdict:
    """How a logo found by its shape is coloured: as ingested (its flat colours within `tolerance` CIEDE2000), a
    one-colour knockout in an allowed colour (the canon's, white or black), or recoloured."""
    from sgd.design.colorimetry import ciede2000, srgb_to_lab

    x, y, w, h = box
    template = logo.template(w, h)
    region = rgb[y:y + h, x:x + w].astype(np.float64)
    if region.shape[:2] != template.alpha.shape:
        return ColourVerdict("as_ingested", None)
    solid = ~grow(~(template.alpha > 0.95), 1)
    if np.count_nonzero(solid) < 12:
        return ColourVerdict("as_ingested", None)
    expected = template.premultiplied[solid] / np.maximum(template.alpha[solid, None], 1e-6) * 255.0
    seen = region[solid]
    distance = ciede2000(srgb_to_lab(seen), srgb_to_lab(expected))
    parts = _colour_parts(template, solid)
    seen_rgb = np.array([np.median(region[part], axis=0) for part in parts]).reshape(-1, 3)
    part_seen = srgb_to_lab(seen_rgb)
    part_expected = srgb_to_lab(np.array([np.median(template.premultiplied[part] /
                                                    np.maximum(template.alpha[part, None], 1e-6) * 255.0, axis=0)
                                          for part in parts]).reshape(-1, 3))
    # As ingested: most of it within tolerance, and so is each part of a colour of its own (a thin ring in another
    # colour is a small share of the pixels, but a designer sees it).
    if float(np.median(distance)) <= tolerance and bool((ciede2000(part_seen, part_expected) <= tolerance).all()):
        return ColourVerdict("as_ingested", None)
    outside = ~grow(template.alpha > 0.05, 2)
    background = np.median(region[outside], axis=0) if outside.any() else np.median(seen, axis=0)
    # A knockout is one ink colour with the background showing through its cut-outs: every flat pixel of the
    # footprint is either. A recoloured logo keeps a second (third...) colour of its own.
    from sgd.critique.regions import channel_spread

    spread_here = channel_spread(np.ascontiguousarray(rgb[y:y + h, x:x + w]))
    flat = (spread_here <= FLAT_SPREAD) & (template.alpha > 0.5)
    inside = region[flat]
    if len(inside) < 12:
        return ColourVerdict("as_ingested", None)
    inside_lab = srgb_to_lab(inside)
    background_lab = srgb_to_lab(background)
    is_background = ciede2000(inside_lab, np.repeat(background_lab[None], len(inside), 0)) <= BACKGROUND_DELTA_E
    ink_lab = inside_lab[~is_background]
    if len(ink_lab) < 12:
        return ColourVerdict("recoloured", None)
    centre = np.median(ink_lab, axis=0)
    median_rgb = np.median(inside[~is_background], axis=0)
    colour = "#{:02X}{:02X}{:02X}".format(*(int(np.rint(v)) for v in median_rgb))
    is_ink = ciede2000(ink_lab, np.repeat(centre[None], len(ink_lab), 0)) <= KNOCKOUT_DELTA_E
    one_colour = float(np.count_nonzero(~is_ink)) <= OTHER_SHARE * len(inside)
    if one_colour and parts:
        # A knockout's every part is its ink, a cut-out showing the background, or a blend of the two (anti-aliased
        # edges; a knockout graded by the logo's lightness, as the design engine makes them): a part of the logo's
        # own colours showing a flat colour off those blends is a second colour, however thin.
        part_flat = np.array([float(np.median(np.abs(region[part] - seen_rgb[index]).max(axis=-1)))
                              <= PART_FLAT_SPREAD for index, part in enumerate(parts)])
        to_ink = ciede2000(part_seen, np.repeat(centre[None], len(parts), 0))
        to_background = ciede2000(part_seen, np.repeat(background_lab[None], len(parts), 0))
        own = (to_ink > KNOCKOUT_DELTA_E) & (to_background > KNOCKOUT_DELTA_E) & \
            (_off_blend(seen_rgb, median_rgb, background) > PART_BLEND_LEVELS)
        one_colour = not bool((part_flat & own).any())
    allowed = [*allowed_hex, "#FFFFFF", "#000000"]
    allowed_lab = srgb_to_lab(np.array([[int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16)] for h in allowed],
                                       dtype=np.float64))
    near = float(ciede2000(allowed_lab, np.repeat(centre[None], len(allowed), 0)).min()) <= KNOCKOUT_DELTA_E
    return ColourVerdict("knockout" if one_colour and near else "recoloured", colour)


def _colour_parts(template: Template, solid: np.ndarray) -> list[np.ndarray]:
    """Masks of the logo's parts of one colour each (as ingested, 5 bits per channel), from PART_MIN_PIXELS: inside
    their outlines (one pixel in from where another colour or the edge begins: anti-aliased blends are no part), or
    whole when too thin for that."""
    from sgd.critique.palette_bins import bin_index
    from sgd.critique.regions import shrink

    colours = np.clip(np.rint(template.premultiplied / np.maximum(template.alpha[..., None], 1e-6) * 255.0), 0, 255)
    keys = bin_index(colours.astype(np.uint8)).astype(np.int64)
    keys[~solid] = -1
    values, counts = np.unique(keys[keys >= 0], return_counts=True)
    parts: list[np.ndarray] = []
    for value in values[counts >= PART_MIN_PIXELS].tolist():
        part = shrink(keys == value, 1)
        parts.append(part if np.count_nonzero(part) >= PART_MIN_PIXELS else keys == value)  # thin: all of it
    return parts


def _off_blend(colours: np.ndarray, ink: np.ndarray, background: np.ndarray) -> np.ndarray:
    """(n,) each RGB colour's largest channel distance from the nearest blend of `ink` and `background`."""
    direction = background.astype(np.float64) - ink
    length = float(direction @ direction)
    share = np.clip((colours - ink) @ direction / length, 0.0, 1.0) if length > 0 else np.zeros(len(colours))
    return np.abs(colours - (ink + share[:, None] * direction)).max(axis=-1)
