"""Text lines in a view of the design: glyph-like connected components of one label (a colour, or a polarity from
sgd.critique.text_strokes), grouped into lines by vertical overlap and small horizontal gaps; repeated identical
shapes (dot fields, tiles, arches) are patterns, not text. Each line found is completed with every glyph-sized piece
of its label on its background in its band (letters the glyph filters leave out: solid stems, thin capitals, serifs)
and joined across word spaces of up to JOIN_GAP line heights. The font size is estimated from the glyph heights."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from sgd.critique.palette import ColourAnalysis
from sgd.critique.palette_bins import bin_index
from sgd.critique.policy import CritiquePolicy
from sgd.critique.regions import (
    Box,
    Components,
    boundary_pixels,
    channel_spread,
    connected_components,
    union_roots,
)
from sgd.design.colorimetry import ciede2000, srgb_to_lab

CAP_HEIGHT_EM = 0.72  # cap / ascender height as a share of the font size, to estimate the size from glyphs
X_HEIGHT_EM = 0.53  # x-height, ditto
UNIFORM_HEIGHT = 1.15  # a line whose tallest glyphs are within this of its median has no ascenders to go by
MIN_FOREGROUND_PIXELS = 4
# Glyph-like components (detection): size, stroke thickness and fill density of letters.
MAX_GLYPH_HEIGHT = 0.35  # of the canvas's shorter side
MAX_GLYPH_ASPECT = 4.0  # width / height
MIN_DENSITY, MAX_DENSITY = 0.1, 0.85
MAX_THICKNESS = 0.45  # one glyph's stroke thickness / height (discs and squares are ~0.5)
MAX_LINE_THICKNESS = 0.33  # ... the median over a line
MIN_LARGE_GLYPHS = 3  # display-size "words" of fewer shapes than this ...
LARGE_GLYPH_SHARE = 0.06  # ... from this share of the canvas's shorter side are not read as text
NESTED_MIN_SHARE = 0.25  # a shape inside another's box, from this share of its height, makes both a graphic
MAX_LINE_FILL = 0.66  # the median glyph's ink over its box: letters stay well under it, filled shapes over
MAX_STROKE_LINE_FILL = 0.72  # ... found by their strokes, where a heavy letter's parts count as glyphs (the legs of a
# bold M, 0.7; a bold i, 0.9; DejaVu Sans Bold's letters 0.55-0.71): still under a disc's 0.785
MAX_SMALL_LINE_FILL = 0.8  # ... small bold letters (their counters a pixel or two, anti-aliased edges) reach 0.79
MIN_CORE_SHARE = 0.03  # a large glyph has some flat pixels inside; a 1-px outline left by a blend has none
MIN_LINE_CORE_SHARE = 0.1  # ... and so has a line of them, by its median glyph
SMALL_GLYPH_PX = 16  # glyphs this small have no flat pixels (strokes are all edge) ...
MIN_SMALL_GLYPHS = 3  # ... so a line of them needs a few glyphs to tell it from specks
# Line grouping.
MIN_VERTICAL_OVERLAP = 0.5  # of the shorter glyph
MIN_HEIGHT_RATIO = 0.4
MAX_GAP = 0.9  # horizontal gap / the taller glyph's height
MAX_OVERLAP = 0.25  # neighbouring glyphs overlap horizontally by at most this share of the narrower (kerning)
BASELINE_TOLERANCE = 0.12  # of the median glyph height
MIN_ON_BASELINE = 0.5
# Line completion: pieces in a line's band join it across word spaces of up to JOIN_GAP line heights.
JOIN_GAP = 1.25
JOIN_MAX_HEIGHT = 2.2  # of the seed glyphs' median height (ascenders and descenders over x-height seeds)
MAX_LINE_SPAN = 3.0  # a line's height over its font's glyph height: ascenders, descenders and accents fit in it
PATTERN_SPREAD = 0.06  # relative spread of glyph sizes below which a "line" is a row of identical shapes
MAX_GLYPHS_PER_COLOUR = 3000  # more one-colour glyph-sized components than this is texture
# Colours closer than this are one colour for text (a lossy codec's halo around a fill is no text colour): their
# contrast is ~1:1 anyway.
MERGE_DELTA_E = 8.0
INK_SHARE = 0.1  # a colour under a detected line's glyphs counts as its ink from this share of them
CORE_REACH = 2  # px (samples) around a detected glyph mask that still belong to the glyph's shape (a halo ring's
# inside: the stroke it surrounds)




def text_colours(analysis: ColourAnalysis) -> np.ndarray:
    """(K,) each cluster's representative for text: clusters within MERGE_DELTA_E of a larger one join it."""
    count = len(analysis.clusters)
    representative = np.arange(count)
    if count < 2:
        return representative
    labs = srgb_to_lab(analysis.centres_rgb)
    distance = ciede2000(labs[:, None, :], labs[None, :, :])
    order = sorted(range(count), key=lambda index: -analysis.clusters[index].share)
    leaders: list[int] = []
    for index in order:
        near = [leader for leader in leaders if distance[index, leader] < MERGE_DELTA_E]
        if near:
            representative[index] = near[0]
        else:
            leaders.append(index)
    return representative


@dataclass(frozen=True, slots=True)
class TextLabels:
    """Text colour labels (clusters merged by text_colours) of any part of the design, at any sampling step."""

    analysis: ColourAnalysis
    merged: np.ndarray  # (K + 1,): index label + 1 -> merged label (-1 stays -1)

    @staticmethod
    def of(analysis: ColourAnalysis) -> TextLabels:
        return TextLabels(analysis, np.concatenate([[-1], text_colours(analysis)]).astype(np.int16))

    def at(self, box: Box | None = None, step: int = 1) -> np.ndarray:
        analysis = self.analysis
        x, y, w, h = box if box is not None else (0, 0, analysis.width, analysis.height)
        labels = analysis.labels_of(bin_index(analysis.rgb[y:y + h:step, x:x + w:step]))
        if analysis.excluded is not None:
            labels[analysis.excluded[y:y + h:step, x:x + w:step]] = -1
        return self.merged[labels + 1]



@dataclass(frozen=True, slots=True)
class DetectedLine:
    box: Box
    label: int  # the glyphs' colour cluster
    members: np.ndarray  # component indices
    glyph_height: float  # the height the font size is read from (view pixels) ...
    em_share: float  # ... and its share of the font size (cap or x-height)

    def size_px(self, scale: int) -> float:
        """The font size in design pixels. On a copy reduced by `scale`, a glyph's top and bottom rows are partly
        covered pixels that blend into the background: about half a view pixel is lost at each end."""
        return (self.glyph_height * scale + scale - 1) / self.em_share


@dataclass(frozen=True, slots=True)
class View:
    """The text labels and colour spread that detection looks at: the design itself, or a copy reduced by `scale`."""

    labels: np.ndarray
    spread: np.ndarray
    scale: int
    source: TextLabels | None = None  # the full-resolution design a reduced view was made from
    pixels: np.ndarray | None = None  # the view's own RGB pixels (the reduced copy), shared with stroke detection
    polarity: bool = False  # labels are polarities (stroke_view): the background itself is label -1
    pairs: bool = False  # two small glyphs may be a word ("On"): a lossless design at full resolution, where no
    # codec halo makes pairs of specks

    @staticmethod
    def of(analysis: ColourAnalysis, text_labels: TextLabels, scale: int) -> View:
        if scale == 1:
            return View(text_labels.at(), analysis.spread, 1, pixels=analysis.rgb)
        picture = analysis.picture if analysis.picture is not None else Image.fromarray(analysis.rgb)
        reduced = np.asarray(picture.reduce(scale))
        labels = text_labels.merged[analysis.labels_of(bin_index(reduced)) + 1]
        if analysis.excluded is not None:
            excluded = analysis.excluded[::scale, ::scale][:labels.shape[0], :labels.shape[1]]
            labels[:excluded.shape[0], :excluded.shape[1]][excluded] = -1
        return View(labels, channel_spread(reduced), scale, text_labels, reduced)

    def ink_core_share(self, pixel_component: np.ndarray, components: Any, needed: np.ndarray,
                       tolerance: int) -> np.ndarray:
        """(len(needed),) the share of each component's view pixels that cover a flat pixel of the component's own
        colour in the full-resolution design. Reducing blends a thin stroke's edges into its middle, so a glyph
        whose strokes are a few pixels wide has no flat view pixel; the design itself still shows its ink. A blend
        outline has no flat pixel of its colour at any resolution."""
        source = self.source
        if source is None or not needed.size:
            return np.zeros(needed.size)
        wanted = np.zeros(len(components) + 1, dtype=bool)
        wanted[needed + 1] = True
        rows, cols = np.nonzero(wanted[pixel_component + 1])
        own = self.labels[rows, cols]
        analysis = source.analysis
        offsets = np.arange(self.scale)
        # (n, scale, scale): the design pixels under each view pixel
        full_rows = np.minimum(rows[:, None, None] * self.scale + offsets[None, :, None], analysis.height - 1)
        full_cols = np.minimum(cols[:, None, None] * self.scale + offsets[None, None, :], analysis.width - 1)
        flat = analysis.spread[full_rows, full_cols] <= tolerance
        labels = source.merged[analysis.labels_of(bin_index(analysis.rgb[full_rows, full_cols])) + 1]
        covered = (flat & (labels == own[:, None, None])).any(axis=(1, 2))
        hits = np.bincount(pixel_component[rows[covered], cols[covered]], minlength=len(components))
        return hits[needed] / np.maximum(1, components.area[needed])


def stroke_view(labels: np.ndarray, reduced: np.ndarray, scale: int, spread: np.ndarray | None = None, *,
                plain: bool = False) -> View:
    """A view whose labels are polarities (sgd.critique.text_strokes: 1 darker, 2 lighter than the local
    background, -1 neither) rather than colours: detect_lines then finds text at any contrast. `spread`: the
    reduced copy's channel spread when already known. `plain`: group the strokes into lines as colours are
    grouped, without the refinements for judging a design's text (the background in a glyph's surround, heavy
    letters' fill, sizing by the tallest letter); the imagery crop only asks where lines are on a photograph."""
    return View(labels, channel_spread(reduced) if spread is None else spread, scale, polarity=not plain)


def detect_lines(view: View, policy: CritiquePolicy) -> tuple[list[DetectedLine], np.ndarray]:
    """Text lines in a view (boxes and sizes in the view's pixels) and the per-pixel component map they refer to."""
    lines, components = detect_lines_and_pieces(view, policy)
    assert components.pixel_component is not None
    return lines, components.pixel_component


def detect_lines_and_pieces(view: View, policy: CritiquePolicy) -> tuple[list[DetectedLine], Components]:
    """detect_lines, with every connected piece of the view (the lines' members index them)."""
    labels = view.labels
    height, width = labels.shape
    components = connected_components(labels, ignore=-1, pixel_map=True)
    pixel_component = components.pixel_component
    assert pixel_component is not None
    height_px = components.y1 - components.y0
    width_px = components.x1 - components.x0
    min_height = max(3, round(0.4 * policy.min_text_px / view.scale))
    candidate = (height_px >= min_height) & (height_px <= MAX_GLYPH_HEIGHT * min(height, width)) & \
        (width_px <= MAX_GLYPH_ASPECT * height_px) & (components.area >= 6)
    # Shapes cut by the canvas edge (stripes, bands, tiles) are not glyphs.
    candidate &= (components.x0 > 0) & (components.y0 > 0) & (components.x1 < width) & (components.y1 < height)
    density = components.area / np.maximum(1, height_px * width_px)
    candidate &= (density >= MIN_DENSITY) & (density <= MAX_DENSITY)
    if not candidate.any():
        return [], components
    count = len(components)
    outline = boundary_pixels(labels)
    perimeter = np.bincount(pixel_component[outline & (pixel_component >= 0)], minlength=count)
    thickness = 2 * components.area / np.maximum(1, perimeter) / np.maximum(1, height_px)
    core = view.spread <= policy.fringe_tolerance
    core_share = np.bincount(pixel_component[core & (pixel_component >= 0)], minlength=count) / \
        np.maximum(1, components.area)
    candidate &= thickness <= MAX_THICKNESS
    if view.scale > 1:
        needed = np.flatnonzero(candidate & (height_px >= SMALL_GLYPH_PX) & (core_share < MIN_LINE_CORE_SHARE))
        core_share[needed] = np.maximum(core_share[needed], view.ink_core_share(pixel_component, components, needed,
                                                                                policy.fringe_tolerance))
    candidate &= (height_px < SMALL_GLYPH_PX) | (core_share >= MIN_CORE_SHARE)

    # Any glyph-sized shape may complete a line that glyph-like seeds have found: letters the seed filters leave out
    # (solid stems of l and I, thin capitals and serifs without a flat core) and the words beyond a word space.
    piece = (height_px >= 2) & (height_px <= MAX_GLYPH_HEIGHT * min(height, width)) & \
        (width_px <= MAX_GLYPH_ASPECT * np.maximum(height_px, 2)) & \
        (components.x0 > 0) & (components.y0 > 0) & (components.x1 < width) & (components.y1 < height)
    lines: list[DetectedLine] = []
    for label in np.unique(components.label[candidate]):
        members = np.flatnonzero(candidate & (components.label == label))
        if members.size < 2 or members.size > MAX_GLYPHS_PER_COLOUR:
            continue
        surround = np.array([_surrounding_label(labels, components, int(member), view.polarity)
                             for member in members])
        accepted = [line for line in (_accept_line(components, group, thickness, core_share, int(label),
                                                    min(height, width),
                                                    MAX_STROKE_LINE_FILL if view.polarity else MAX_LINE_FILL,
                                                    view.pairs)
                                      for group in _group_into_lines(components, members, surround))
                    if line is not None]
        if accepted:
            pieces = np.flatnonzero(piece & (components.label == label))
            completed = [_completed(components, line, pieces, labels, thickness, view.polarity) for line in accepted]
            if not view.polarity:
                completed = [line for line in (_without_nested(components, line, min(height, width))
                                               for line in completed) if line is not None]
            lines += _joined(completed, components)
    if view.polarity:  # lines found by their strokes are sized by their tallest letter
        lines = [_line_of(components, line.members, line.label, tallest_letter=True) for line in lines]
    # Pieces linked pair by pair can climb a shape's curved or slanted edge, each a little lower than the last: a
    # "line" many glyphs tall is such a staircase (a tile graphic's anti-aliased edges), not a line of text.
    lines = [line for line in lines if line.box[3] <= MAX_LINE_SPAN * line.glyph_height]
    return lines, components


def _completed(components: Any, line: DetectedLine, pieces: np.ndarray, labels: np.ndarray,
               thickness: np.ndarray, polarity: bool = False) -> DetectedLine:
    """The line with every piece of its colour on the same background that sits in its band (vertical centre
    within the seeds' extent, at most JOIN_MAX_HEIGHT seed heights tall) and follows on within JOIN_GAP line
    heights, word after word. Chunky pieces (dots, squares: a dot field beside the text) never extend the line;
    they join it only inside its extent (the dots of i and j, full stops)."""
    x0, y0, w, h = line.box
    seed_height = float(np.median(components.y1[line.members] - components.y0[line.members]))
    centre = (components.y0[pieces] + components.y1[pieces]) / 2
    tall = components.y1[pieces] - components.y0[pieces]
    small = tall <= 0.5 * seed_height  # dots may sit above the seeds' extent when those are x-height letters
    top = np.where(small, y0 - 0.5 * seed_height, y0)
    in_band = (centre >= top) & (centre <= y0 + h) & (tall <= JOIN_MAX_HEIGHT * seed_height) & \
        ~np.isin(pieces, line.members)
    band, small = pieces[in_band], small[in_band]
    letter = thickness[band] <= MAX_THICKNESS
    extending, inner = band[letter], band[~letter & small]
    widest = line.members[np.argmax(components.area[line.members])]
    background = _surrounding_label(labels, components, int(widest), polarity)
    reach = JOIN_GAP * h
    left, right = x0, x0 + w
    judged = np.zeros(extending.size, dtype=bool)
    joined = np.zeros(extending.size, dtype=bool)
    while True:
        reached = (components.x1[extending] >= left - reach) & (components.x0[extending] <= right + reach)
        for index in np.flatnonzero(reached & ~judged):  # the background check only for pieces within reach
            judged[index] = True
            joined[index] = _surrounding_label(labels, components, int(extending[index]), polarity) == background
        near = extending[reached & joined]
        new_left = min(left, int(components.x0[near].min())) if near.size else left
        new_right = max(right, int(components.x1[near].max())) if near.size else right
        if (new_left, new_right) == (left, right):
            break
        left, right = new_left, new_right
    inside = inner[(components.x0[inner] >= left) & (components.x1[inner] <= right)]
    members = np.union1d(line.members, np.concatenate([near, inside]))
    return _line_of(components, members, line.label)


def _line_of(components: Any, members: np.ndarray, label: int, tallest_letter: bool = False) -> DetectedLine:
    """A line's box and font size from its glyphs: the 90th percentile of their heights, or with `tallest_letter`
    the tallest glyph at or above it (a short word's one capital: "On on" read from its x-height letters is a size
    too small), the line then being of one height only when its shortest letter is as tall too (in "Today" three
    of five letters rise above the x-height: not a word of x-height letters)."""
    heights = (components.y1[members] - components.y0[members]).astype(np.float64)
    x0, y0 = int(components.x0[members].min()), int(components.y0[members].min())
    box = (x0, y0, int(components.x1[members].max()) - x0, int(components.y1[members].max()) - y0)
    median_height = float(np.median(heights))
    letters = heights[heights >= 0.5 * median_height]  # not the dots, commas and hyphens
    tallest = float(np.percentile(letters, 90, method="higher" if tallest_letter else "linear"))
    # Glyphs of one height are capitals or x-height letters ("now"): without a taller glyph to tell, the larger
    # reading is taken, so a short lower-case word is not held to the small-text minimum.
    uniform = tallest <= UNIFORM_HEIGHT * float(np.min(letters) if tallest_letter else np.median(letters))
    return DetectedLine(box, label, members, tallest, X_HEIGHT_EM if uniform else CAP_HEIGHT_EM)


def _joined(lines: list[DetectedLine], components: Any) -> list[DetectedLine]:
    """Completed lines that share a glyph are one line (the words of a line found as separate seed groups)."""
    if len(lines) < 2:
        return lines
    owner = np.concatenate([np.full(line.members.size, index) for index, line in enumerate(lines)])
    glyph = np.concatenate([line.members for line in lines])
    order = np.argsort(glyph, kind="stable")
    shared = np.flatnonzero(glyph[order][1:] == glyph[order][:-1])
    roots = union_roots(len(lines), owner[order][shared], owner[order][shared + 1])
    joined = []
    for root in np.unique(roots):
        members = np.unique(np.concatenate([lines[index].members for index in np.flatnonzero(roots == root)]))
        joined.append(lines[int(root)] if np.count_nonzero(roots == root) == 1 else
                      _line_of(components, members, lines[int(root)].label))
    return joined


def _surrounding_label(labels: np.ndarray, components: Any, member: int, polarity: bool = False) -> int:
    """The dominant other colour just around a component: the glyphs of one line share it, a shape of the same
    colour in a pattern next to the line usually does not. In a polarity view the background is label -1 and counts
    too (a glyph's counter or a gap between large glyphs may stand out the other way, where the glyphs pull the
    local background toward their ink: that makes no other background)."""
    x0, y0, x1, y1 = (int(components.x0[member]), int(components.y0[member]), int(components.x1[member]),
                      int(components.y1[member]))
    pad = max(1, (y1 - y0) // 6)
    window = labels[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad]
    others = window[((window >= 0) | polarity) & (window != components.label[member])]
    return int(np.bincount(others.astype(np.int64) + 1).argmax()) - 1 if others.size else -1


def _group_into_lines(components: Any, members: np.ndarray, surround: np.ndarray) -> list[np.ndarray]:
    x0, x1 = components.x0[members], components.x1[members]
    y0, y1 = components.y0[members], components.y1[members]
    heights = (y1 - y0).astype(np.float64)
    # Pairs within reach: compare each glyph with the others in x order (bounded window keeps this linear-ish).
    order = np.argsort(x0, kind="stable")
    firsts, seconds = [], []
    for offset in range(1, min(len(members), 24)):
        first, second = order[:-offset], order[offset:]
        overlap = np.minimum(y1[first], y1[second]) - np.maximum(y0[first], y0[second])
        shorter = np.minimum(heights[first], heights[second])
        taller = np.maximum(heights[first], heights[second])
        gap = x0[second] - x1[first]
        narrower = np.minimum(x1[first] - x0[first], x1[second] - x0[second])
        linked = (overlap >= MIN_VERTICAL_OVERLAP * shorter) & (shorter >= MIN_HEIGHT_RATIO * taller) & \
            (gap <= MAX_GAP * taller) & (gap >= -MAX_OVERLAP * narrower) & (surround[first] == surround[second])
        firsts.append(first[linked])
        seconds.append(second[linked])
    roots = union_roots(len(members), np.concatenate(firsts), np.concatenate(seconds))
    groups = []
    for root in np.unique(roots):
        group = members[roots == root]
        if group.size >= 2:
            groups.append(group)
    return groups


def _without_nested(components: Any, line: DetectedLine, view_side: int) -> DetectedLine | None:
    """The line without the shapes that hold another of its members inside their box, nor that other (what is left
    must still be more than two big shapes): a disc inside a ring of its own colour (a bullseye, a target) is a
    graphic, and letters hold no piece of their own colour in their counters (the dots of i and j and full stops
    sit beside or above, not inside). Colour views only: found by its strokes, a heavy letter's inner and outer
    rims are pieces of one polarity."""
    members = line.members
    x0, y0, x1, y1 = (components.x0[members], components.y0[members], components.x1[members], components.y1[members])
    inside = (x0[None, :] > x0[:, None]) & (x1[None, :] < x1[:, None]) & (y0[None, :] > y0[:, None]) & \
        (y1[None, :] < y1[:, None])  # [i, j]: member j lies within member i's box ...
    heights = (y1 - y0).astype(np.float64)
    inside &= heights[None, :] >= NESTED_MIN_SHARE * heights[:, None]  # ... and is no speck (a photograph's)
    nested = inside.any(axis=0) | inside.any(axis=1)
    if not nested.any():
        return line
    rest = members[~nested]
    if rest.size < 2 or (rest.size < MIN_LARGE_GLYPHS and float(np.median(heights[~nested])) >=
                         LARGE_GLYPH_SHARE * view_side):
        return None  # what is left is no line, or two big shapes (the rest of a graphic)
    return _line_of(components, rest, line.label)


def _accept_line(components: Any, group: np.ndarray, thickness: np.ndarray, core_share: np.ndarray,
                 label: int, view_side: int, max_fill: float = MAX_LINE_FILL, pairs: bool = False
                 ) -> DetectedLine | None:
    heights = (components.y1[group] - components.y0[group]).astype(np.float64)
    widths = (components.x1[group] - components.x0[group]).astype(np.float64)
    areas = components.area[group].astype(np.float64)
    median_height = float(np.median(heights))
    small_pair = pairs and median_height < SMALL_GLYPH_PX  # "On": a short word of small text
    if group.size < MIN_LARGE_GLYPHS and median_height >= LARGE_GLYPH_SHARE * view_side and not small_pair:
        return None  # two big shapes side by side: a brand graphic's motifs far more often than a two-letter word
    if median_height < SMALL_GLYPH_PX and group.size < MIN_SMALL_GLYPHS and not small_pair:
        return None  # two specks: a codec's halo, not a word
    if median_height >= SMALL_GLYPH_PX and float(np.median(core_share[group])) < MIN_LINE_CORE_SHARE:
        return None  # outlines of blended edge pixels around real glyphs
    if all(np.std(values) <= PATTERN_SPREAD * np.mean(values) for values in (heights, widths, areas)):
        return None  # a row of identical shapes
    if float(np.median(thickness[group])) > MAX_LINE_THICKNESS:
        return None
    if float(np.median(areas / np.maximum(1.0, heights * widths))) > \
            (MAX_SMALL_LINE_FILL if median_height < SMALL_GLYPH_PX else max_fill):
        return None  # solid discs, half discs and blocks in a row: a graphic, not letters (which leave air)
    bottoms = components.y1[group].astype(np.float64)
    on_baseline = np.abs(bottoms - np.median(bottoms)) <= max(2.0, BASELINE_TOLERANCE * median_height)
    if on_baseline.mean() < MIN_ON_BASELINE:
        return None
    return _line_of(components, group, label)


