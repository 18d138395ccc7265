"""A matched logo's box snapped to its visible footprint at full resolution (the clear-space check compares
distances against thresholds a few pixels away)."""

from __future__ import annotations

import math

import numpy as np

from sgd.critique.logo_prepared import PreparedLogo
from sgd.critique.regions import channel_distance, clip_xywh

BoxXYWH = tuple[int, int, int, int]
# A resampled copy (Lanczos, bicubic) overshoots past every edge with lobes of up to about a tenth of the edge's
# contrast, one to three pixels wide (the first one clips where the background is white or black), an enlarged copy
# spreads the edge over a couple of pixels, and a JPEG or WebP rings around it with up to a seventh of its contrast.
# None of that is the logo's footprint: a pixel the logo covers by a quarter or more is (the edge to within a pixel,
# as the clear space needs it).
EDGE_SHARE = 0.25
SNAP_TOLERANCE = 0.05  # how far (share of the logo's size) a snapped edge may sit from the fitted template's
SNAP_NOISE_FLOOR = 1.5  # channel levels: a difference of 1 is rounding; 2 is a resampled edge's faint ripple


def snap_box(image: np.ndarray, logo: PreparedLogo, fitted: tuple[float, float, float, float]) -> BoxXYWH:
    """The visible footprint at full resolution: pixels that differ from the colour around the logo by EDGE_SHARE
    of its contrast at least (never a resampling filter's lobes or a codec's ringing), connected to where the
    template says the logo is. Falls back to the template's box on busy backgrounds."""
    height, width = image.shape[:2]
    fx, fy, fw, fh = fitted
    predicted = (round(fx), round(fy), max(1, round(fw)), max(1, round(fh)))
    reach = math.ceil(3 + 0.04 * max(predicted[2], predicted[3]))
    left, top = max(0, predicted[0] - reach), max(0, predicted[1] - reach)
    right = min(width, predicted[0] + predicted[2] + reach)
    bottom = min(height, predicted[1] + predicted[3] + reach)
    region = image[top:bottom, left:right].astype(np.int16)
    inner = np.zeros(region.shape[:2], dtype=bool)
    px, py = predicted[0] - left, predicted[1] - top
    template = logo.template(predicted[2], predicted[3])
    footprint = template.alpha > 0.5
    y0, x0 = max(0, py), max(0, px)
    y1, x1 = min(inner.shape[0], py + predicted[3]), min(inner.shape[1], px + predicted[2])
    if y1 <= y0 or x1 <= x0:
        return clip_xywh(predicted, width, height)
    inner[y0:y1, x0:x1] = footprint[y0 - py:y1 - py, x0 - px:x1 - px]
    ring = np.ones(region.shape[:2], dtype=bool)
    ring[max(0, py - 2):py + predicted[3] + 2, max(0, px - 2):px + predicted[2] + 2] = False
    if ring.sum() < 8:
        return clip_xywh(predicted, width, height)
    background = np.median(region[ring], axis=0)
    difference = channel_distance(region, background)
    noise = float(np.percentile(difference[ring], 98))
    contrast = float(np.percentile(difference[inner], 75)) if inner.any() else 0.0
    threshold = max(SNAP_NOISE_FLOOR, 2.0 * noise + 1.0)
    threshold = max(threshold, EDGE_SHARE * contrast)
    if contrast < 3 * threshold or np.mean(difference[ring] > threshold) > 0.35:
        return clip_xywh(predicted, width, height)  # busy or low-contrast surroundings: trust the template
    visible = difference > threshold
    seed = visible & inner
    if not seed.any():
        return clip_xywh(predicted, width, height)
    rows, cols = np.nonzero(seed)
    box = [int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1]
    box = _grow_connected(visible, box, reach)
    # An edge far from the template's is not the logo's (compression ringing, a touching element): keep the fit's.
    expected = [px, py, px + predicted[2], py + predicted[3]]
    tolerance = max(3.0, SNAP_TOLERANCE * max(predicted[2], predicted[3]))
    box = [found if abs(found - wanted) <= tolerance else wanted for found, wanted in zip(box, expected, strict=True)]
    x0, y0 = max(0, box[0] + left), max(0, box[1] + top)
    x1, y1 = min(width, box[2] + left), min(height, box[3] + top)
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


def _grow_connected(visible: np.ndarray, box: list[int], reach: int) -> list[int]:
    """Extends each side of `box` (x0, y0, x1, y1) outwards over visible pixels 8-connected to its current edge,
    bridging one-pixel gaps (a resampling filter's negative lobe clips to the background just outside an edge)."""
    height, width = visible.shape
    for _ in range(2):  # a second pass lets sides pick up rows/columns the other sides added
        for side in ("left", "right", "top", "bottom"):
            for _ in range(reach):
                x0, y0, x1, y1 = box
                if side == "left" and x0 > 0:
                    edge, beyond = visible[y0:y1, x0], visible[y0:y1, x0 - 1]
                elif side == "right" and x1 < width:
                    edge, beyond = visible[y0:y1, x1 - 1], visible[y0:y1, x1]
                elif side == "top" and y0 > 0:
                    edge, beyond = visible[y0, x0:x1], visible[y0 - 1, x0:x1]
                elif side == "bottom" and y1 < height:
                    edge, beyond = visible[y1 - 1, x0:x1], visible[y1, x0:x1]
                else:
                    break
                near = edge.copy()
                near[1:] |= edge[:-1]
                near[:-1] |= edge[1:]
                step = 1
                if not (beyond & near).any():
                    further = _line_beyond(visible, side, box, 2)
                    if further is None or not (further & near).any():
                        break
                    step = 2
                if side == "left":
                    box[0] -= step
                elif side == "right":
                    box[2] += step
                elif side == "top":
                    box[1] -= step
                else:
                    box[3] += step
    return box


def _line_beyond(visible: np.ndarray, side: str, box: list[int], distance: int) -> np.ndarray | None:
    """The row or column `distance` pixels outside `box`'s `side`, over the box's span; None past the region."""
    x0, y0, x1, y1 = box
    height, width = visible.shape
    if side == "left":
        return visible[y0:y1, x0 - distance] if x0 - distance >= 0 else None
    if side == "right":
        return visible[y0:y1, x1 - 1 + distance] if x1 - 1 + distance < width else None
    if side == "top":
        return visible[y0 - distance, x0:x1] if y0 - distance >= 0 else None
    return visible[y1 - 1 + distance, x0:x1] if y1 - 1 + distance < height else None
