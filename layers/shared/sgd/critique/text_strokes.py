"""Text found by its strokes, at any contrast, and each line's measured ratio, size and weight.

The colour clusters that sgd.critique.text starts from merge colours closer than a few CIEDE2000 units, so a headline
at 1.1:1 never forms a colour of its own and is never measured. A designer still sees it: letters are strokes a few
pixels wide that differ, however slightly, from what lies around them. So, on a reduced copy of the design:

- the local background of every pixel is estimated per channel (lightness and two chroma axes) by a normalised box
  filter that leaves the strokes out (two passes: the first finds what stands out, the second averages around it);
- a pixel stands out where it differs from that background by more than the local noise allows (a flat fill or a
  gradient has none; a photograph or codec ringing raises the bar), darker or lighter: two polarities, like the
  extremal regions of MSER;
- the pieces that stand out are grouped into lines by sgd.critique.text's glyph and line rules (size, stroke
  thickness, density, baselines, no rows of identical shapes), in each polarity.

Each line is then measured on the full-resolution pixels: the ink is the median of its glyphs' most distinct pixels,
the background every pixel in a ring around them, and the ratio is the policy's worst percentile of the per-pixel
WCAG ratios. `stroke_em` (the mean stroke width over the font size) tells bold from regular: WCAG's large text is
18 pt (24 px) regular or 14 pt (18.67 px) bold.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageFilter

from sgd.critique.policy import CritiquePolicy
from sgd.critique.regions import (
    Box,
    Components,
    boundary_pixels,
    channel_distance,
    clip_box,
    connected_components,
    dilate,
    grow,
    max_filter,
    mostly_covered,
    overlap_area,
)
from sgd.critique.text_lines import DetectedLine, View, detect_lines, detect_lines_and_pieces, stroke_view

BACKGROUND_RADIUS = 12  # view px: the local background's reach (wider than a glyph's stroke)
BACKGROUND_CELL = 4  # view px
BACKGROUND_CELLS = 2 * (BACKGROUND_RADIUS // BACKGROUND_CELL) + 1  # cells across the window (odd)
NOISE_RADIUS = 3
NOISE_CELL = 8  # view px
LOCAL_NOISE_SHARE = 0.35
MIN_LEVEL = 2.2  # channel levels a stroke must differ by on a noiseless background (1.05:1 on white is ~6)
NOISE_FACTOR = 3.5  # ... and this many times the local noise
CHROMA_WEIGHT = 0.5
MAX_LINES = 60
MAX_RING_SAMPLES = 4000
MAX_INK_IN_RING = 0.1  # share of the ring around a line that may look like its ink
EXACT_INK = 1  # channel levels: a ring pixel this close to a line's ink is the ink itself (a gradient through the
# ink colour crosses it in a narrow band)
SAME_AS_INK = 1.01  # a ratio below this: the worst tenth of the ring around a line is its ink
MAX_PIECES_OF_SHAPE = 3
FINE_MAX_VIEW_PX = 12  # glyph pieces up to this tall (view px) in clusters are looked at again at full resolution
FINE_MAX_SHARE = 0.25  # ... over at most this share of the canvas
PANEL_MAX_VIEW_PX = 48  # small panels (view px tall) whose text is looked for again at full resolution ...
PANEL_MAX_ASPECT = 16  # ... up to this many times as wide as tall ...
LOSSY_MIN_LEVEL = 6.0  # luma levels a stroke must differ by at full resolution in a JPEG or WebP (codec ringing)
PEAK_SHARE = 0.5  # a stroke's pixels differ from the background by at least this share of the largest nearby ...
PEAK_RADIUS = 2  # ... within this many px
SURFACE_FIT_LEVEL = 1.5  # levels: a gradient's ring fits a quadratic surface to about a level (rounding)
SURFACE_FIT_SHARE = 0.4  # ... or explains this much of the variation the ring's median leaves
SEPARATION = 3.0  # the ink's difference from the ring over the ring's own median variation, at least


@dataclass(frozen=True, slots=True)
class StrokeLine:
    box: Box  # full-resolution
    ink: tuple[int, int, int]
    background: tuple[int, int, int]  # the median of the ring around the glyphs
    ratio: float  # the worst-percentile ratio
    size_px: float
    stroke_em: float  # mean stroke width / font size


def _blur(plane: np.ndarray, radius: int) -> np.ndarray:
    """Box mean of an (h, w) or (h, w, 3) uint8 array over a (2r + 1)^2 square, float32 (Pillow's C box blur)."""
    blurred = Image.fromarray(plane, "RGB" if plane.ndim == 3 else "L").filter(ImageFilter.BoxBlur(radius))
    return np.asarray(blurred, dtype=np.float32)


def opponent(rgb: np.ndarray) -> np.ndarray:
    """(h, w, 3) float32: luma and two chroma axes (red-green, yellow-blue, weighted CHROMA_WEIGHT), in channel
    levels."""
    pixels = rgb.astype(np.float32)
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    luma = 0.299 * red + 0.587 * green + 0.114 * blue
    return np.stack([luma, CHROMA_WEIGHT * (red - green), CHROMA_WEIGHT * (0.5 * (red + green) - blue)], axis=-1)


def polarity_labels(rgb: np.ndarray, min_level: float = MIN_LEVEL, chroma: bool = True,
                    peak_share: float = PEAK_SHARE) -> np.ndarray:
    """(h, w) int8 of a design copy: 1 where a pixel stands out darker than its local background, 2 lighter (by
    chroma alone: its luma decides the side), -1 elsewhere (no component: a letter's counter is not a glyph).
    `peak_share`: see PEAK_SHARE (0: every pixel over the noise threshold stands out, the imagery crop's reading)."""
    pixels = rgb.astype(np.float32)
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    luma = 0.299 * red + 0.587 * green + 0.114 * blue
    luma_bytes = np.clip(np.rint(luma), 0, 255).astype(np.uint8)
    # Local noise: the luma's mean absolute difference from its 3x3 mean (a flat fill or a gradient has none).
    wiggle = np.abs(luma - _blur(luma_bytes, 1))
    local = _blur(np.clip(wiggle * 4, 0, 255).astype(np.uint8), NOISE_RADIUS) / 4
    # The background's own noise: the quietest cell around (a line of text is busy itself, its surroundings are
    # not; a photograph is busy everywhere). A share of the local busyness still counts (a codec rings along edges).
    noise = np.maximum(_quietest(wiggle, NOISE_CELL), LOCAL_NOISE_SHARE * local)
    threshold = np.maximum(min_level, NOISE_FACTOR * noise)
    luma_delta = luma - _background(luma_bytes)
    difference = np.abs(luma_delta)
    planes = (128.0 + CHROMA_WEIGHT * (red - green), 128.0 + CHROMA_WEIGHT * (0.5 * (red + green) - blue))
    for plane in planes if chroma else ():
        as_bytes = np.clip(np.rint(plane), 0, 255).astype(np.uint8)
        np.maximum(difference, np.abs(plane - _background(as_bytes)), out=difference)
    # A glyph's outline is where its ink covers half a pixel: a pixel stands out only from half the largest
    # difference around it (anti-aliased rims of clear text would otherwise join neighbouring letters, and a
    # thin gap between them is all that separates them in a reduced copy).
    standing = difference > (np.maximum(threshold, peak_share * max_filter(difference, PEAK_RADIUS)) if peak_share
                             else threshold)
    labels = np.full(standing.shape, -1, dtype=np.int8)
    labels[standing & (luma_delta <= 0)] = 1
    labels[standing & (luma_delta > 0)] = 2
    return labels


def _background(plane: np.ndarray) -> np.ndarray:
    """(h, w) int16: the local background of a uint8 plane, the median over about (2 * BACKGROUND_RADIUS)^2 px
    (the median of BACKGROUND_CELL-px cell medians over BACKGROUND_CELLS x BACKGROUND_CELLS cells). Glyphs cover
    less than half of any such window, so they do not pull it; and unlike a mean it does not cross a panel's edge (a
    button or a small panel under the text is the text's background, not a blend of it and what lies around it)."""
    height, width = plane.shape
    cell = BACKGROUND_CELL
    rows, cols = -(-height // cell), -(-width // cell)
    padded = np.pad(plane, ((0, rows * cell - height), (0, cols * cell - width)), mode="edge")
    blocks = padded.reshape(rows, cell, cols, cell).transpose(0, 2, 1, 3).reshape(rows, cols, cell * cell)
    middle = (cell * cell) // 2
    medians = np.ascontiguousarray(np.partition(blocks, middle, axis=2)[:, :, middle])
    local = Image.fromarray(medians, "L").filter(ImageFilter.MedianFilter(BACKGROUND_CELLS))
    return np.asarray(local.resize((cols * cell, rows * cell), Image.Resampling.NEAREST),
                      dtype=np.int16)[:height, :width]


def _quietest(plane: np.ndarray, cell: int) -> np.ndarray:
    """Per pixel: the lowest mean of `plane` over the cell x cell blocks in the 3x3 blocks around its own."""
    height, width = plane.shape
    rows, cols = -(-height // cell), -(-width // cell)
    padded = np.zeros((rows * cell, cols * cell), dtype=np.float32)
    padded[:height, :width] = plane
    padded[height:, :] = padded[height - 1:height, :] if height else 0
    padded[:, width:] = padded[:, width - 1:width] if width else 0
    means = padded.reshape(rows, cell, cols, cell).mean(axis=(1, 3))
    around = np.pad(means, 1, mode="edge")
    low = means.copy()
    for dy in range(3):
        for dx in range(3):
            np.minimum(low, around[dy:dy + rows, dx:dx + cols], out=low)
    return np.repeat(np.repeat(low, cell, axis=0), cell, axis=1)[:height, :width]


def _luminance(rgb: np.ndarray) -> np.ndarray:
    values = rgb.astype(np.float64) / 255.0
    linear = np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def measure_line(rgb: np.ndarray, mask: np.ndarray, box: Box, size_px: float, policy: CritiquePolicy,
                 flat_ink: float | None = None) -> StrokeLine | None:
    """The line's ink, background, worst-percentile ratio and stroke weight, on the full-resolution pixels of
    `box`; `mask` (bool, box-sized) marks its glyphs. `flat_ink`: the glyphs are the pixels within this many
    channel levels of one flat ink (sgd.critique.text_ink), which is evidence enough that they are text: the ink
    need not stand apart from the ring's variation (a photograph's), only not be all around it too."""
    x, y, w, h = box
    region = rgb[y:y + h, x:x + w]
    if not mask.any():
        return None
    reach = max(2, round(0.25 * size_px))
    near = grow(mask, 1)
    ring = dilate(mask, reach) & ~near
    if np.count_nonzero(ring) < 8:
        return None
    ring_rows, ring_cols = np.nonzero(ring)
    if len(ring_rows) > MAX_RING_SAMPLES:  # a median of a regular sample is as good and much cheaper
        step = len(ring_rows) // MAX_RING_SAMPLES + 1
        ring_rows, ring_cols = ring_rows[::step], ring_cols[::step]
    ring_pixels = region[ring_rows, ring_cols]
    background_rgb = np.median(ring_pixels, axis=0)
    luma = opponent(region)
    ring_planes = opponent(ring_pixels[None])[0]
    # Everything is judged against the background next to each pixel: the ring's median, or on a gradient (where
    # the ring's far sides differ by more than faint text differs from either) a smooth surface fitted to the ring.
    background = _smooth_background(ring_rows, ring_cols, ring_planes, h, w)
    residual = luma - background  # (h, w, 3): each pixel's difference from the background next to it
    ring_residual = ring_planes - background[ring_rows, ring_cols]
    distinct = np.abs(residual).max(axis=-1)
    inside = distinct[mask]
    cut = np.percentile(inside, 60)
    core = mask & (distinct >= cut)
    ink = np.median(region[core], axis=0)
    # Text stands apart from what is around it: its ink differs from the ring by more than the ring varies (a
    # photograph's texture or a codec's halo does not).
    ring_spread = float(np.median(np.abs(ring_residual).max(axis=-1)))
    separation = float(np.median(inside[inside >= cut]))
    if flat_ink is None and separation < max(MIN_LEVEL, SEPARATION * ring_spread):
        return None
    # ... and the ink is not all around it too (the rim of a large shape, where the shape itself goes on).
    ink_residual = np.median(residual[core], axis=0)
    to_ink = np.abs(residual - ink_residual).max(axis=-1)
    in_ring = channel_distance(ring_pixels, ink) <= flat_ink if flat_ink is not None else \
        np.abs(ring_residual - ink_residual).max(axis=-1) <= 0.5 * separation
    if float(np.mean(in_ring)) > MAX_INK_IN_RING:
        return None
    to_background = distinct
    # The glyphs whole: a thick stroke can stand out only along its edges (its middle is as far from the local
    # background as the stroke is wide), so the ink-coloured pixels next to the mask are glyph too, never ring.
    glyphs = mask | (dilate(mask, reach) & (to_ink < to_background))
    whole_ring = dilate(glyphs, reach) & ~grow(glyphs, 1)
    if np.count_nonzero(whole_ring) >= 8:
        ring_pixels = region[whole_ring]
        if len(ring_pixels) > MAX_RING_SAMPLES:
            ring_pixels = ring_pixels[::len(ring_pixels) // MAX_RING_SAMPLES + 1]
    ink_y = float(_luminance(ink))
    ring_y = _luminance(ring_pixels)
    ratios = (np.maximum(ring_y, ink_y) + 0.05) / (np.minimum(ring_y, ink_y) + 0.05)
    ratio = float(np.percentile(ratios, 100 * policy.worst_percentile))
    if ratio < policy.unreadable_below and float(np.median(ratios)) >= policy.large_text_contrast:
        return None  # clear on most of its ring, its own colour on the rest: the edge of a shape that goes on
    # Stroke width: the ink (pixels nearer the ink than the background in every distinct channel) 2 area / outline.
    strokes = near & (to_ink < to_background)
    outline = np.count_nonzero(boundary_pixels(strokes.astype(np.int8)) & strokes)
    stroke_px = 2.0 * np.count_nonzero(strokes) / max(1, outline) if outline else 0.0
    return StrokeLine(box, _rgb(ink), _rgb(background_rgb), ratio, size_px, stroke_px / max(1.0, size_px))


def _smooth_background(rows: np.ndarray, cols: np.ndarray, planes: np.ndarray, height: int, width: int
                       ) -> np.ndarray:
    """(height, width, 3) float: the background of a line's box from its ring samples (`planes`, opponent channels
    at `rows`, `cols`). The ring's median when that fits the ring as well as a surface does (a flat fill: exactly);
    otherwise, where the ring is smooth (a quadratic surface per channel fitted to it by least squares, refitted
    without the samples it fits worst, is within SURFACE_FIT_LEVEL of most of it, or leaves at most SURFACE_FIT_SHARE
    of the median's variation), that surface: it follows a linear or radial gradient across the line. A ring of two
    colours (shapes) or a photograph's texture is not smooth."""
    median = np.median(planes, axis=0)
    flat_spread = float(np.median(np.abs(planes - median).max(axis=-1)))
    if flat_spread <= 0.5 or len(rows) < 24:
        return np.broadcast_to(median.astype(np.float32), (height, width, 3))
    scale_y, scale_x = max(1.0, height / 2), max(1.0, width / 2)

    def terms(y: np.ndarray, x: np.ndarray) -> list[np.ndarray]:
        y, x = (y - scale_y) / scale_y, (x - scale_x) / scale_x
        return [np.ones_like(y), x, y, x * x, x * y, y * y]

    design = np.stack(terms(rows.astype(np.float64), cols.astype(np.float64)), axis=1)
    coefficients = np.linalg.lstsq(design, planes.astype(np.float64), rcond=None)[0]
    errors = np.abs(planes - design @ coefficients).max(axis=-1)
    keep = errors <= max(1.0, 2.5 * float(np.median(errors)))  # refitted without what it fits worst
    coefficients = np.linalg.lstsq(design[keep], planes[keep].astype(np.float64), rcond=None)[0]
    errors = np.abs(planes - design @ coefficients).max(axis=-1)
    if float(np.median(errors)) > min(max(SURFACE_FIT_LEVEL, SURFACE_FIT_SHARE * flat_spread), flat_spread):
        # not smooth (shapes, texture): the surface leaves most of the ring's variation
        return np.broadcast_to(median.astype(np.float32), (height, width, 3))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    surface = np.stack(terms(ys, xs), axis=-1) @ coefficients
    return surface.astype(np.float32)


def _rgb(values: np.ndarray) -> tuple[int, int, int]:
    red, green, blue = (int(v) for v in np.clip(np.rint(values), 0, 255))
    return red, green, blue


def stroke_lines(rgb: np.ndarray, policy: CritiquePolicy, scale: int, excluded: np.ndarray | None = None,
                 skip: list[Box] | None = None, photo: np.ndarray | None = None, lossy: bool = False,
                 view: View | None = None) -> list[StrokeLine]:
    """Text lines found by their strokes (any contrast), measured at full resolution. `scale`: the reduction of
    the detection copy; `excluded`: pixels left out (the logo); `skip`: boxes already measured (lines mostly
    inside one of them are left out); `view`: the colour detection's view, whose reduced copy is reused. Small
    text that the reduced copy blurs into blobs (its glyph pieces left over, in clusters) is looked at again at full
    resolution (`_fine_pass`). In a JPEG or WebP (`lossy`) strokes are looked for by luma only (chroma is subsampled
    and rings most: its blocks along a striped graphic stood out like faint strokes), at full resolution also only
    beyond the codec's ringing."""
    height, width = rgb.shape[:2]
    shared = view is not None and view.pixels is not None and view.scale == scale
    reduced = view.pixels if shared and view is not None and view.pixels is not None else \
        np.asarray(Image.fromarray(rgb).reduce(scale)) if scale > 1 else rgb
    labels = polarity_labels(reduced, chroma=not lossy).astype(np.int16)
    # Left out: the logo, and photographs (their texture is everywhere; text on them is found by its colour).
    left_out = np.zeros(labels.shape, dtype=bool)
    for mask in (excluded, photo):
        if mask is not None:
            view_mask = mask[::scale, ::scale][:labels.shape[0], :labels.shape[1]]
            left_out[:view_mask.shape[0], :view_mask.shape[1]] |= view_mask
    labels[left_out] = -1
    lines, components = detect_lines_and_pieces(
        stroke_view(labels, reduced, scale, view.spread if shared and view is not None else None), policy)
    pixel_component = components.pixel_component
    assert pixel_component is not None
    found: list[StrokeLine] = []
    small: list[StrokeLine] = []  # lines of small text, sized again at full resolution
    for line in sorted(lines, key=lambda item: -item.box[2] * item.box[3])[:MAX_LINES]:
        lx, ly, lw, lh = line.box
        size_px = line.size_px(scale)
        line_box = clip_box((lx * scale, ly * scale, lw * scale, lh * scale), width, height)
        if line_box is None or _skipped(line_box, skip):
            continue
        measured = _measured(rgb, pixel_component, line.members, line_box, size_px, scale, policy)
        if measured is not None:
            (small if scale > 1 and line.glyph_height <= FINE_MAX_VIEW_PX else found).append(measured)
    if scale > 1:
        # Small text on the reduced copy: neighbouring letters blur into one piece, from an ascender's top to a
        # descender's foot, which reads as a larger font. Its line is looked at again at full resolution, and
        # kept as measured here only when nothing is found there.
        again = [line.box for line in small]
        known = list(skip or []) + [line.box for line in found] + \
            [box for box in ((line.box[0] * scale, line.box[1] * scale, line.box[2] * scale, line.box[3] * scale)
                             for line in lines) if not _skipped(box, again)]
        fine = _fine_pass(rgb, policy, scale, components, lines, known, excluded, photo, lossy, again)
        found += fine + [line for line in small if not _skipped(line.box, [item.box for item in fine])]
    return found


def _skipped(box: Box, skip: list[Box] | None) -> bool:
    return bool(skip) and any(overlap_area(box, other) >= 0.5 * min(box[2] * box[3], other[2] * other[3])
                              for other in skip or [])


def _measured(rgb: np.ndarray, pixel_component: np.ndarray, members: np.ndarray, line_box: Box, size_px: float,
              scale: int, policy: CritiquePolicy) -> StrokeLine | None:
    """A detected line measured on the full-resolution pixels around `line_box`."""
    height, width = rgb.shape[:2]
    pad = max(2, round(0.25 * size_px)) + scale
    full = clip_box((line_box[0] - pad, line_box[1] - pad, line_box[2] + 2 * pad, line_box[3] + 2 * pad), width,
                    height)
    if full is None:
        return None
    x, y, w, h = full
    rows = np.minimum(np.arange(y, y + h) // scale, pixel_component.shape[0] - 1)
    cols = np.minimum(np.arange(x, x + w) // scale, pixel_component.shape[1] - 1)
    mask = np.isin(pixel_component[np.ix_(rows, cols)], members)
    measured = measure_line(rgb, mask, full, size_px, policy)
    if measured is None or (members.size <= MAX_PIECES_OF_SHAPE and measured.ratio < SAME_AS_INK and
                            _ink_around(rgb[y:y + h, x:x + w], mask, measured)):
        return None  # two or three pieces whose ink is all around them (their worst tenth is the ink): a shape's
        # edge or corner (a faint word on a gradient through its ink colour has more letters)
    return StrokeLine(line_box, measured.ink, measured.background, measured.ratio, size_px, measured.stroke_em)


def _fine_pass(rgb: np.ndarray, policy: CritiquePolicy, scale: int, components: Components,
               lines: list[DetectedLine], known: list[Box], excluded: np.ndarray | None,
               photo: np.ndarray | None, lossy: bool, again: list[Box] | None = None) -> list[StrokeLine]:
    """Small text at full resolution. On the reduced copy, the glyphs of text under about FINE_MAX_VIEW_PX view
    pixels tall blur into blobs the glyph rules refuse (too thick, too full); the pieces they leave, two or more
    side by side, mark where to look again: there polarity and lines are found on the design's own pixels. So do
    small panels (`_small_panels`): text on a button or a panel smaller than the reduced copy's background window
    merges with the panel's rim there (the rim stands out from the page beyond it, and so does the text)."""
    height, width = rgb.shape[:2]
    found: list[StrokeLine] = []
    budget = FINE_MAX_SHARE * height * width
    # Around a cluster of pieces the crop takes in their background; a small panel is cropped to itself, so that
    # its own colour is the background there and its rim (cut by the crop's edge) is no glyph.
    # Panels come first: pieces inside one are looked at there (a crop around them would take in the panel's rim,
    # whose pixels next to its edge stand out against a background window that the panel covers most of).
    def full(view_box: Box) -> Box:
        return view_box[0] * scale, view_box[1] * scale, view_box[2] * scale, view_box[3] * scale

    places = [(box, 2 * BACKGROUND_RADIUS) for box in again or []] + \
        [(full(box), 0) for box in _small_panels(components, lines)] + \
        [(full(box), 2 * BACKGROUND_RADIUS) for box in _piece_clusters(components, lines)]
    looked = list(known)
    for box, margin in places:
        if mostly_covered(box, looked):
            continue
        looked.append(box)
        window = clip_box((box[0] - margin, box[1] - margin, box[2] + 2 * margin, box[3] + 2 * margin), width, height)
        if window is None:
            continue
        wx, wy, ww, wh = window
        budget -= ww * wh
        if budget < 0:
            break
        crop = np.ascontiguousarray(rgb[wy:wy + wh, wx:wx + ww])
        labels = (polarity_labels(crop, LOSSY_MIN_LEVEL, chroma=False) if lossy else polarity_labels(crop)
                  ).astype(np.int16)
        for mask in (excluded, photo):
            if mask is not None:
                labels[mask[wy:wy + wh, wx:wx + ww]] = -1
        lines_here, pixel_component = detect_lines(replace(stroke_view(labels, crop, 1), pairs=not lossy), policy)
        for line in lines_here:
            lx, ly, lw, lh = line.box
            line_box = (lx + wx, ly + wy, lw, lh)
            if not mostly_covered(line_box, [box]) or _skipped(line_box, known):
                continue
            measured = _measured(crop, pixel_component, line.members, line.box, line.size_px(1), 1, policy)
            if measured is not None:
                found.append(StrokeLine(line_box, measured.ink, measured.background, measured.ratio,
                                        measured.size_px, measured.stroke_em))
                known.append(line_box)
    return found


def _ink_around(rgb: np.ndarray, mask: np.ndarray, line: StrokeLine) -> bool:
    """Whether more than MAX_INK_IN_RING of the ring around the glyphs (`mask`, over `rgb`) is the line's ink
    itself, within EXACT_INK levels: the glyphs are then pieces of a larger shape of that colour."""
    reach = max(2, round(0.25 * line.size_px))
    ring = dilate(mask, reach) & ~grow(mask, 1)
    if not ring.any():
        return False
    return float(np.mean(channel_distance(rgb[ring], np.array(line.ink)) <= EXACT_INK)) > MAX_INK_IN_RING


def _loose_pieces(components: Components, lines: list[DetectedLine]) -> np.ndarray:
    """(len(components),) bool: components of a label, off the canvas edge, that no line has taken."""
    view_height, view_width = components.pixel_component.shape if components.pixel_component is not None else (0, 0)
    loose = (components.label >= 0) & (components.x0 > 0) & (components.y0 > 0) & \
        (components.x1 < view_width) & (components.y1 < view_height)
    for line in lines:
        loose[line.members] = False
    return loose


def _piece_clusters(components: Components, lines: list[DetectedLine]) -> list[Box]:
    """View boxes of two or more glyph pieces within a glyph height of each other, most pieces first."""
    tall = components.y1 - components.y0
    wide = components.x1 - components.x0
    view_height, view_width = components.pixel_component.shape if components.pixel_component is not None else (0, 0)
    piece = _loose_pieces(components, lines) & (tall >= 3) & (tall <= FINE_MAX_VIEW_PX) & (wide <= 6 * tall) & \
        (components.area >= 4)
    indices = np.flatnonzero(piece)
    if indices.size < 2:
        return []
    grid = np.zeros((view_height, view_width), dtype=bool)
    for index in indices.tolist():
        reach = int(tall[index])
        grid[max(0, components.y0[index] - 1):components.y1[index] + 1,
             max(0, components.x0[index] - reach):components.x1[index] + reach] = True
    places = connected_components(grid.view(np.int8), ignore=0, pixel_map=True)
    assert places.pixel_component is not None
    owner = places.pixel_component[components.y0[indices], components.x0[indices]]
    counts = np.bincount(owner[owner >= 0], minlength=len(places))
    return [places.box(place) for place in np.argsort(-counts).tolist() if counts[place] >= 2]


def _small_panels(components: Components, lines: list[DetectedLine]) -> list[Box]:
    """View boxes of pieces shaped like a small panel's rim (wider than tall, FINE_MAX_VIEW_PX to PANEL_MAX_VIEW_PX
    tall) that no line has taken, smallest first: a small panel stands out from the page around it along its rim
    (its middle is its own background), and any text on it may have merged into that rim."""
    tall = components.y1 - components.y0
    wide = components.x1 - components.x0
    panel = _loose_pieces(components, lines) & (tall > FINE_MAX_VIEW_PX) & (tall <= PANEL_MAX_VIEW_PX) & \
        (wide >= tall) & (wide <= PANEL_MAX_ASPECT * tall)
    indices = np.flatnonzero(panel)
    return [components.box(int(index)) for index in indices[np.argsort(components.area[indices])]]
