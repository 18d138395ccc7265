"""The logo's clear space: canvas edges and other elements closer than the canon's safe zone, from a render's
layout or, for an external image, from the pixels around the logo."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from sgd.critique.palette_bins import near_texture
from sgd.critique.policy import CritiquePolicy, Severity
from sgd.critique.regions import channel_distance, clip_xywh, connected_components, grow, overlap_area, shrink

BoxXYWH = tuple[int, int, int, int]
ROUNDING_TOLERANCE_PX = 1.0  # clear space: pixel rounding, nothing more
# A plate or panel behind the logo: one colour over this share of a band just outside the logo box, on every side.
PLATE_BAND_GAP = 2  # px between the logo box and the band (the snapped box may be a pixel or two inside the edge)
PLATE_BAND_DEPTH = 3
PLATE_SIDE_SHARE = 0.6
PLATE_FRINGE_PX = 2
PANEL_FILL = 0.97  # a panel under the logo fills the rectangle it spans in the zone (anti-aliasing and ringing aside)
PHOTO_EDGE_PX = 2  # the photo mask leaves out its own hard edges: they are photo too
RINGING_RADIUS = 2  # px: the mean over a 5x5 square tells a codec's ringing (swings both ways) from an element
RINGING_SPECK = (3, 8)  # px: in a JPEG or WebP, a piece at most this thin and this long is ringing (one block)
LOGO_RIM_SHARE = 0.04  # of the logo's longer side: how far past its found box the logo's own edge may show


@dataclass(frozen=True, slots=True)
class ClearSpace:
    required_px: float  # safe_zone_pct / 100 * min(W, H)
    edge_distances_px: dict[str, int]  # left, top, right, bottom: logo box to canvas edge
    nearest_element_px: float | None  # logo box -> nearest intruding element (None: nothing in the zone)
    intrusions: list[BoxXYWH]  # boxes of elements inside the clear zone (clipped to it when detected)
    violations: list[dict[str, Any]]  # findings, kind "logo_safe_zone"; box = the logo box grown by the zone
    logo_box: BoxXYWH = (0, 0, 0, 0)
    safe_zone_pct: float = 0.0
    source: str = "layout"  # "layout": elements given; "detected": intrusions found in the pixels

    def as_check(self) -> dict[str, Any]:
        """JSON-able numbers for checks["logo_safe_zone"]."""
        return {
            "logo_box": list(self.logo_box),
            "safe_zone_pct": self.safe_zone_pct,
            "required_px": round(self.required_px, 2),
            "edge_distances_px": dict(self.edge_distances_px),
            "nearest_element_px": self.nearest_element_px,
            "intrusions": [list(box) for box in self.intrusions],
            "source": self.source,
            "ok": not self.violations,
        }


SIDES = ("left", "top", "right", "bottom")


def check_clear_space(rgb: np.ndarray, logo_box: Sequence[int], safe_zone_pct: float, policy: CritiquePolicy,
                      elements: Sequence[Sequence[int]] | None = None, photo: np.ndarray | None = None,
                      lossy: bool = False) -> ClearSpace:
    """The logo's clear space: canvas edges and other elements closer than safe_zone_pct of the shorter side.

    `elements` ([x, y, w, h] boxes; SGD renders) gives exact geometry; elements that contain the logo (its plate, a
    background panel) are not intrusions. Without them (external images) intrusions are detected in the pixels of
    the zone around the logo: colours other than the zone's dominant one, after dropping anti-aliasing fringes and
    specks thinner than 3 px; `photo` (bool, the canvas's photographic areas) is backdrop, never an element.
    `lossy`: a JPEG or WebP, whose ringing next to an element outside the zone is not an element inside it."""
    height, width = rgb.shape[:2]
    x, y, w, h = (int(v) for v in logo_box)
    box: BoxXYWH = (x, y, w, h)
    required = max(0.0, float(safe_zone_pct)) / 100 * min(width, height)
    limit = required - ROUNDING_TOLERANCE_PX
    edges = {"left": x, "top": y, "right": width - (x + w), "bottom": height - (y + h)}
    if elements is not None:
        gaps = _element_gaps(box, elements, limit)
        source = "layout"
    else:
        gaps = _detected_gaps(rgb, box, required, limit, policy, photo, lossy)
        source = "detected"
    zone = clip_xywh((x - math.ceil(required), y - math.ceil(required), w + 2 * math.ceil(required),
                      h + 2 * math.ceil(required)), width, height)
    violations: list[dict[str, Any]] = []
    crowded = [side for side in SIDES if edges[side] < limit]
    rule = f"{required:.0f} px ({_pct(safe_zone_pct)}% of the shorter side)"
    if crowded:
        worst = min(edges[side] for side in crowded)
        where = _join([f"{edges[side]} px from the {side} edge" if edges[side] > 0 else
                       f"{'touching' if edges[side] == 0 else 'over'} the {side} edge" for side in crowded])
        violations.append(_finding(
            f"The logo is {where}; the canon asks for {rule} of clear space: move it at least "
            f"{math.ceil(required - worst)} px in from the {_join(crowded)} edge{'s' if len(crowded) > 1 else ''}.",
            "high" if worst <= 0 else "medium", zone))
    if gaps:
        nearest = min(gap for gap, _ in gaps)
        sides = _join(sorted({side for _, (side, _) in gaps}, key=SIDES.index))
        if nearest <= 0:
            what = f"Another element touches or overlaps the logo (on its {sides})"
        else:
            what = f"Another element sits {nearest:.0f} px from the logo (on its {sides})"
        violations.append(_finding(
            f"{what}, inside the {rule} of clear space the canon asks for: move it at least "
            f"{math.ceil(required - max(0.0, nearest))} px away from the logo, or move the logo.",
            "high" if nearest <= 0 else "medium", zone))
    return ClearSpace(
        required_px=required, edge_distances_px=edges,
        nearest_element_px=float(min(gap for gap, _ in gaps)) if gaps else None,
        intrusions=[intrusion for _, (_, intrusion) in gaps], violations=violations,
        logo_box=box, safe_zone_pct=float(safe_zone_pct), source=source)


def _finding(message: str, severity: Severity, zone: BoxXYWH) -> dict[str, Any]:
    return {"kind": "logo_safe_zone", "message": message[:500], "severity": severity, "box": list(zone)}


def _pct(value: float) -> str:
    return f"{value:g}"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _element_gaps(logo: BoxXYWH, elements: Sequence[Sequence[int]], limit: float
                  ) -> list[tuple[float, tuple[str, BoxXYWH]]]:
    """(gap, (side, element box)) for each element inside the zone. The gap is the rectangular distance between the
    boxes (the zone is the logo box grown on every side), negative when they overlap."""
    x, y, w, h = logo
    found: list[tuple[float, tuple[str, BoxXYWH]]] = []
    for element in elements:
        ex, ey, ew, eh = (int(v) for v in element)
        if ew <= 0 or eh <= 0:
            continue
        if ex <= x and ey <= y and ex + ew >= x + w and ey + eh >= y + h:
            continue  # the logo's plate or a panel under it
        by_side = {"left": x - (ex + ew), "right": ex - (x + w), "top": y - (ey + eh), "bottom": ey - (y + h)}
        side = max(by_side, key=lambda s: by_side[s])
        gap = float(by_side[side])
        if gap < 0:  # overlapping in both directions
            gap = -min(overlap_area(logo, (ex, ey, ew, eh)), 1.0)
        if gap < limit:
            found.append((gap, (side, (ex, ey, ew, eh))))
    return found


def _detected_gaps(rgb: np.ndarray, logo: BoxXYWH, required: float, limit: float, policy: CritiquePolicy,
                   photo: np.ndarray | None = None, lossy: bool = False
                   ) -> list[tuple[float, tuple[str, BoxXYWH]]]:
    """Intrusions found in the pixels around the logo, one per connected element: (gap, (side, its box in the
    zone)); the side is where its nearest pixel lies."""
    height, width = rgb.shape[:2]
    x, y, w, h = logo
    zone = math.ceil(required)
    left, top = max(0, x - zone), max(0, y - zone)
    right, bottom = min(width, x + w + zone), min(height, y + h + zone)
    if right <= left or bottom <= top:
        return []
    region = np.asarray(rgb[top:bottom, left:right, :3])
    inner = (min(max(0, x - left), right - left), min(max(0, y - top), bottom - top),
             min(max(0, x + w - left), right - left), min(max(0, y + h - top), bottom - top))
    outside = np.ones(region.shape[:2], dtype=bool)
    outside[inner[1]:inner[3], inner[0]:inner[2]] = False
    if not outside.any():
        return []
    tolerance = policy.fringe_tolerance
    background = _background_mask(region, outside, inner, tolerance)
    background |= _beyond_a_panel(rgb, region, background, inner, tolerance)
    differs = outside & ~background
    if lossy and differs.any():
        # A codec rings around a strong edge a block or two into flat areas, the colour swinging to both sides of the
        # background's: averaged over RINGING_RADIUS px it is gone, while an element keeps its colour.
        smooth = np.asarray(Image.fromarray(np.ascontiguousarray(region)).filter(
            ImageFilter.BoxBlur(RINGING_RADIUS))).astype(region.dtype)
        differs &= ~_background_mask(smooth, outside, inner, tolerance)
    if photo is not None:
        # A photograph is a backdrop (the logo sits on it, or on a plate over it), not an element.
        # The photo mask is found cell by cell: cells it only partly covers (next to a plate) are photo too.
        differs &= ~grow(near_texture(photo)[top:bottom, left:right], PHOTO_EDGE_PX)
    if not differs.any():
        return []
    # Opening (3x3 min then max) drops fringes and specks under 3 px thick; real elements keep their extent.
    solid = grow(shrink(differs, 1), 1) & outside
    if not solid.any():
        return []
    components = connected_components(solid.view(np.int8), ignore=0, pixel_map=True)
    owner = components.pixel_component
    assert owner is not None
    rows, cols = np.nonzero(solid)
    component = owner[rows, cols]
    cols, rows = cols + left, rows + top
    by_side = np.stack([x - 1 - cols, y - 1 - rows, cols - (x + w), rows - (y + h)])  # left, top, right, bottom
    gaps = by_side.max(0)
    # Among equally near pixels, the one straight across from the logo (not diagonal) names the side.
    ranking = gaps + 1e-3 * np.clip(by_side, 0, None).sum(0)
    order = np.lexsort((ranking, component))  # by component, nearest pixel first
    firsts = order[np.flatnonzero(np.diff(component[order], prepend=-1))]
    found: list[tuple[float, tuple[str, BoxXYWH]]] = []
    # The logo's own rim: a found box may stop a few pixels short of the logo's anti-aliased (or, in a JPEG or
    # WebP, ringing) edge. A piece that lies entirely within that rim is the logo, not another element.
    rim = _rim(w, h)
    for nearest in firsts:
        if gaps[nearest] >= limit:
            continue
        side = SIDES[int(by_side[:, nearest].argmax())]
        bx, by, bw, bh = components.box(int(component[nearest]))
        if bx + left >= x - rim and by + top >= y - rim and bx + left + bw <= x + w + rim and \
                by + top + bh <= y + h + rim:
            continue
        if lossy and min(bw, bh) <= RINGING_SPECK[0] and max(bw, bh) <= RINGING_SPECK[1]:
            continue  # a codec's speck: thinner than the opening lets through, within one block
        found.append((float(max(0, gaps[nearest])), (side, (bx + left, by + top, bw, bh))))
    return found


def _rim(width: int, height: int) -> int:
    """How far past its found box a logo's own edge may show (anti-aliasing, resampling lobes, codec ringing)."""
    return max(2, round(LOGO_RIM_SHARE * max(width, height)))


def _background_mask(region: np.ndarray, outside: np.ndarray, inner: tuple[int, int, int, int],
                     tolerance: int) -> np.ndarray:
    """The zone's pixels that are the logo's background rather than another element: the colour right around the
    logo when it surrounds the logo on every side (a plate or panel behind it, connected to the logo), plus the
    dominant colour of what lies beyond a plate (the canvas it sits on). When nothing surrounds the logo (a photo,
    an element touching it), the dominant colour of the whole zone."""
    backdrop_colour = _surrounding_colour(region, inner, tolerance)
    if backdrop_colour is None:
        return channel_distance(region, _dominant_colour(_sample(region, outside))) <= tolerance
    near = channel_distance(region, backdrop_colour) <= tolerance
    components = connected_components(near.view(np.int8), ignore=0, pixel_map=True)
    owner = components.pixel_component
    assert owner is not None
    touching = np.unique(owner[_band(near.shape, inner, PLATE_BAND_GAP, PLATE_BAND_DEPTH) & near])
    backdrop = np.isin(owner, touching[touching >= 0])
    reaches_edge = backdrop[0].any() or backdrop[-1].any() or backdrop[:, 0].any() or backdrop[:, -1].any()
    if reaches_edge:
        # The canvas itself or a panel larger than the zone: beyond it, only the zone's dominant colour is background.
        beyond_colour = _dominant_colour(_sample(region, outside))
        if channel_distance(beyond_colour[None], backdrop_colour)[0] <= tolerance:
            return backdrop | near  # the logo sits on the zone's own background: every other colour is an element
    else:
        # A plate inside the zone: what surrounds it is the canvas it sits on; intrusions are measured beyond it.
        rest = outside & ~backdrop
        if not rest.any():
            return backdrop
        beyond_colour = _dominant_colour(_sample(region, rest))
    beyond = channel_distance(region, beyond_colour) <= tolerance
    # Where the plate meets what lies beyond it, lossy compression rings a few pixels thick: background too (an
    # element touching the plate keeps its edge, which has no beyond-colour next to it).
    fringe = grow(backdrop, PLATE_FRINGE_PX) & grow(beyond, PLATE_FRINGE_PX)
    return backdrop | beyond | fringe


def _beyond_a_panel(rgb: np.ndarray, region: np.ndarray, background: np.ndarray, inner: tuple[int, int, int, int],
                    tolerance: int) -> np.ndarray:
    """What lies beyond the straight edges of a panel the logo sits on (a panel that contains the logo, as a
    render's layout treats it): the surface the panel lies on, not an element in the logo's clear space. Only for a
    panel (the colour around the logo is not the canvas colour its border shows, it fills a rectangle in the zone and
    reaches past the zone on two sides or more); a logo on the canvas, or on a plate inside its zone, keeps every
    other shape in its zone an element."""
    nothing = np.zeros(region.shape[:2], dtype=bool)
    surrounding = _surrounding_colour(region, inner, tolerance)
    if surrounding is None:
        return nothing
    # The canvas is what the design's outer border shows (a panel framed by it may cover more of the design).
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    canvas_colour = _dominant_colour(border[::2])
    if channel_distance(canvas_colour[None], surrounding)[0] <= tolerance:
        return nothing  # the logo is on the canvas itself
    panel = background & (channel_distance(region, surrounding) <= tolerance)
    if not panel.any():
        return nothing
    # Its rows and columns: those it covers half of, at least (a resampled or compressed edge blends a pixel's row).
    row_counts, col_counts = panel.sum(axis=1), panel.sum(axis=0)
    rows = np.flatnonzero(row_counts >= 0.5 * row_counts.max())
    cols = np.flatnonzero(col_counts >= 0.5 * col_counts.max())
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    x0, y0, x1, y1 = inner
    if not (left <= x0 and top <= y0 and right >= x1 and bottom >= y1):
        return nothing  # it does not contain the logo
    height, width = region.shape[:2]
    if (top, bottom, left, right) == (0, height, 0, width):
        return nothing  # no panel edge inside the zone
    if (top == 0) + (bottom == height) + (left == 0) + (right == width) < 2:
        return nothing  # a plate inside the zone: what lies around it is the canvas, and elements there intrude
    rectangle = np.zeros(region.shape[:2], dtype=bool)
    rectangle[top:bottom, left:right] = True
    inside = rectangle.copy()
    rim = _rim(x1 - x0, y1 - y0)  # the logo's own anti-aliased or resampled edge is not a cut into the panel
    inside[max(0, y0 - rim):y1 + rim, max(0, x0 - rim):x1 + rim] = False
    if np.count_nonzero(panel & inside) < PANEL_FILL * np.count_nonzero(inside):
        return nothing  # not a rectangle: something cuts into it
    return ~rectangle


def _surrounding_colour(region: np.ndarray, inner: tuple[int, int, int, int], tolerance: int) -> np.ndarray | None:
    """The colour just outside the logo box when it holds at least PLATE_SIDE_SHARE of the band on every side that
    lies inside the zone; None otherwise (no single colour surrounds the logo)."""
    height, width = region.shape[:2]
    x0, y0, x1, y1 = inner
    near, far = PLATE_BAND_GAP, PLATE_BAND_GAP + PLATE_BAND_DEPTH
    strips = []
    if x0 - far >= 0:
        strips.append(region[y0:y1, x0 - far:x0 - near].reshape(-1, 3))
    if y0 - far >= 0:
        strips.append(region[y0 - far:y0 - near, x0:x1].reshape(-1, 3))
    if x1 + far <= width:
        strips.append(region[y0:y1, x1 + near:x1 + far].reshape(-1, 3))
    if y1 + far <= height:
        strips.append(region[y1 + near:y1 + far, x0:x1].reshape(-1, 3))
    strips = [strip for strip in strips if len(strip)]
    if not strips:
        return None
    colour = _dominant_colour(np.concatenate(strips))
    for strip in strips:
        if np.mean(channel_distance(strip, colour) <= tolerance) < PLATE_SIDE_SHARE:
            return None
    return colour


def _band(shape: tuple[int, ...], inner: tuple[int, int, int, int], gap: int, depth: int) -> np.ndarray:
    """The frame `gap` to `gap + depth` pixels outside the inner box, clipped to `shape`."""
    x0, y0, x1, y1 = inner
    band = np.zeros(shape[:2], dtype=bool)
    outer = gap + depth
    band[max(0, y0 - outer):y1 + outer, max(0, x0 - outer):x1 + outer] = True
    band[max(0, y0 - gap):y1 + gap, max(0, x0 - gap):x1 + gap] = False
    return band


def _sample(region: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The masked pixels of every other row and column (enough to find a dominant colour, a quarter of the work)."""
    sampled = region[::2, ::2][mask[::2, ::2]]
    return sampled if len(sampled) else region[mask]


def _dominant_colour(pixels: np.ndarray) -> np.ndarray:
    """The most common colour (5 bits a channel bins), as the mean of its bin's pixels."""
    quantised = pixels.astype(np.int32) >> 3
    bins = (quantised[:, 0] << 10) | (quantised[:, 1] << 5) | quantised[:, 2]
    winner = int(np.bincount(bins, minlength=32768).argmax())
    return pixels[bins == winner].mean(0).round().astype(np.int16)

