"""Text on photographs found by its flat ink.

The stroke pass (sgd.critique.text_strokes) leaves photographs out: their texture stands out from any local
background as much as faint letters do. What sets overlaid text apart on a photograph is its ink: a design's text is
one flat colour, while a photograph's grain makes hardly any two neighbouring pixels equal. So, near each
photographic area:

- the flat pixels (in a 2x2 block whose every channel varies by at most FLAT_SPREAD) are counted by colour; a
  colour with enough of them is a candidate ink (a stroke two or more pixels wide has such blocks);
- every pixel within INK_TOLERANCE of that ink (the strokes, with the anti-aliased rims they mostly cover) forms the
  glyphs, grouped into lines by sgd.critique.text_lines's glyph and line rules;
- each line is measured like a stroke line (sgd.critique.text_strokes.measure_line: the ink against every pixel of the
  ring around its glyphs, at the policy's worst percentile), without asking its ink to stand apart from the ring's
  variation: on a photograph the ring varies by more than faint text differs from it, and the flat ink is the
  evidence instead.

Lossy copies are left out: a codec's blocks make flat patches of a photograph's own colours, and it rings inside the
strokes."""

from __future__ import annotations

import numpy as np

from sgd.critique.palette_bins import BIN_COUNT, bin_index, near_texture
from sgd.critique.policy import CritiquePolicy
from sgd.critique.regions import Box, channel_distance, clip_box, mostly_covered
from sgd.critique.text_lines import View, detect_lines
from sgd.critique.text_strokes import StrokeLine, measure_line

FLAT_SPREAD = 2  # channel levels over a 2x2 block (PNG-exact ink: 0; a photograph's grain: more)
INK_TOLERANCE = 4  # channel levels from the ink: the strokes and the rims they more than half cover
MIN_INK_PIXELS = 12  # flat pixels of one colour before it is a candidate ink
MAX_INKS = 4  # candidate inks per design (the commonest flat colours near photographs)
MAX_SEARCH_SHARE = 0.5  # of the canvas: the area searched for the lines of all inks together


def ink_lines(rgb: np.ndarray, spread: np.ndarray, photo: np.ndarray, policy: CritiquePolicy,
              skip: list[Box] | None = None) -> list[StrokeLine]:
    """Lines of flat-ink text on or beside the photographic areas `photo` ((H, W) bool) of a lossless design,
    measured at full resolution; lines mostly inside a `skip` box (already measured) are left out (a smaller box
    inside a line does not hide it: a speck of the photograph's own colour read as a word)."""
    if not photo.any():
        return []
    height, width = rgb.shape[:2]
    near = near_texture(photo)
    rows, cols = np.nonzero(near & _flat(rgb, near))
    if rows.size < MIN_INK_PIXELS:
        return []
    colours = rgb[rows, cols]
    bins = bin_index(colours)
    inside = photo[rows, cols]  # candidates are ranked by their flat pixels inside the photograph (not the page's)
    found: list[StrokeLine] = []
    known = list(skip or [])
    budget = MAX_SEARCH_SHARE * height * width
    left = np.ones(rows.size, dtype=bool)
    for _ in range(MAX_INKS):
        counts = np.bincount(bins[left & inside], minlength=BIN_COUNT)
        top = int(np.argmax(counts))
        if counts[top] < MIN_INK_PIXELS:
            break
        ink = np.median(colours[left & inside & (bins == top)], axis=0).astype(np.uint8)
        mine = channel_distance(colours, ink) <= INK_TOLERANCE
        left &= ~mine
        mine_rows, mine_cols = rows[mine], cols[mine]
        if mine_rows.size < MIN_INK_PIXELS:
            continue
        # The search window: the ink's flat pixels with room around them (a glyph may be at most a share of the
        # view's shorter side, and the ring around the line must fit).
        extent = int(max(mine_rows.max() - mine_rows.min(), 24))
        window = clip_box((int(mine_cols.min()) - extent, int(mine_rows.min()) - extent,
                           int(mine_cols.max() - mine_cols.min()) + 1 + 2 * extent,
                           int(mine_rows.max() - mine_rows.min()) + 1 + 2 * extent), width, height)
        if window is None:
            continue
        wx, wy, ww, wh = window
        budget -= ww * wh
        if budget < 0:
            break
        area = rgb[wy:wy + wh, wx:wx + ww]
        labels = np.where(channel_distance(area, ink) <= INK_TOLERANCE, 1, -1).astype(np.int16)
        lines, pixel_component = detect_lines(View(labels, spread[wy:wy + wh, wx:wx + ww], 1, polarity=True), policy)
        for line in lines:
            lx, ly, lw, lh = line.box
            line_box = (lx + wx, ly + wy, lw, lh)
            if mostly_covered(line_box, known):
                continue
            size_px = line.size_px(1)
            pad = max(2, round(0.25 * size_px)) + 1
            around = clip_box((lx - pad, ly - pad, lw + 2 * pad, lh + 2 * pad), ww, wh)
            if around is None:
                continue
            ax, ay, aw, ah = around
            mask = np.isin(pixel_component[ay:ay + ah, ax:ax + aw], line.members)
            measured = measure_line(area, mask, around, size_px, policy, flat_ink=INK_TOLERANCE)
            if measured is not None:
                found.append(StrokeLine(line_box, measured.ink, measured.background, measured.ratio, size_px,
                                        measured.stroke_em))
                known.append(line_box)
    return found


def _flat(rgb: np.ndarray, near: np.ndarray) -> np.ndarray:
    """(H, W) bool, within the bounding box of `near`: pixels of a 2x2 block whose every channel varies by at most
    FLAT_SPREAD (a stem two pixels wide has such blocks; a photograph's grain hardly ever)."""
    flat = np.zeros(near.shape, dtype=bool)
    rows, cols = np.nonzero(near.any(axis=1))[0], np.nonzero(near.any(axis=0))[0]
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    if y1 - y0 < 2 or x1 - x0 < 2:
        return flat
    block = np.ones((y1 - y0 - 1, x1 - x0 - 1), dtype=bool)
    for channel in range(3):
        plane = rgb[y0:y1, x0:x1, channel]
        high = np.maximum(np.maximum(plane[:-1, :-1], plane[1:, :-1]), np.maximum(plane[:-1, 1:], plane[1:, 1:]))
        low = np.minimum(np.minimum(plane[:-1, :-1], plane[1:, :-1]), np.minimum(plane[:-1, 1:], plane[1:, 1:]))
        block &= (high - low) <= FLAT_SPREAD
    area = flat[y0:y1, x0:x1]
    area[:-1, :-1] |= block
    area[1:, :-1] |= block
    area[:-1, 1:] |= block
    area[1:, 1:] |= block
    return flat
