"""Text contrast: the WCAG 2.x contrast ratio of every text region against the background actually under it.

Regions come from a render's layout (text_boxes) or, for external images, from detection (sgd.critique.text_lines):
lines of glyphs of one colour cluster, and then (sgd.critique.text_strokes) lines of glyphs that stand out from their
local background at any contrast, which finds the text whose colour the clusters merged into its background.
Whether text is large follows WCAG: 18 pt (24 px), or 14 pt (18.67 px) when bold; a detected line's weight is its
measured stroke width over its font size, a layout's its "weight" when it gives one.

Either way the colours are measured on the pixels: the text colour is the glyphs' cluster, and the background is every
non-glyph, non-fringe pixel within a few pixels of the glyphs (around and among them). On a non-uniform background
the ratio reported is the 10th percentile over those pixels: the worst part that is more than a speck.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sgd.critique.palette import ColourAnalysis
from sgd.critique.palette_bins import near_texture
from sgd.critique.policy import CritiquePolicy
from sgd.critique.regions import (
    Box,
    clip_box,
    dilate,
    expand_box,
    grow,
    mostly_covered,
    overlap_area,
    shrink,
)
from sgd.critique.text_ink import ink_lines
from sgd.critique.text_lines import TextLabels, View, detect_lines
from sgd.critique.text_strokes import SAME_AS_INK, measure_line, stroke_lines
from sgd.design.color import contrast_ratio, normalize_hex, parse_hex, to_hex
from sgd.design.colorimetry import srgb_to_lab

MIN_FOREGROUND_PIXELS = 4
INK_SHARE = 0.1  # a colour under a detected line's glyphs counts as its ink from this share of them
CORE_REACH = 2  # px (samples) around a detected glyph mask that still belong to the glyph's shape (a halo ring's
# inside: the stroke it surrounds)
INK_AGREES = 32  # channel levels between a line's colour and its strokes' measured ink for the strokes to judge it
PHOTO_EDGE_SHARE = 0.25  # of a line's box on or next to a photograph: its glyphs must stand out as strokes
VARIED_LEVELS = 4.0  # luma levels the background around a line spans (10th to 90th percentile) beyond a flat fill




@dataclass(frozen=True, slots=True)
class TextRegion:
    box: Box
    text: str | None
    color: str
    background: str  # the dominant background colour around the glyphs
    ratio: float  # against the worst meaningful part of the background
    required: float
    large: bool
    size_px: float | None
    bold: bool | None = None  # measured stroke weight (detection), or the layout's weight; None: unknown

    @property
    def ok(self) -> bool:
        return self.ratio >= self.required

    def as_check(self) -> dict[str, Any]:
        check: dict[str, Any] = {"box": list(self.box), "color": self.color, "background": self.background,
                                 "ratio": _floor2(self.ratio), "required": self.required, "large": self.large,
                                 "ok": self.ok}
        if self.text is not None:
            check["text"] = self.text
        if self.size_px is not None:
            check["size_px"] = round(self.size_px, 1)
        if self.bold is not None:
            check["bold"] = self.bold
        return check


@dataclass(frozen=True, slots=True)
class ContrastResult:
    regions: list[TextRegion]
    violations: list[dict[str, Any]]
    check: dict[str, Any]
    repair_suggestions: list[str]


def _floor2(ratio: float) -> float:
    """Two decimals, rounded down: WCAG forbids rounding a ratio up to a threshold."""
    return int(ratio * 100 + 1e-9) / 100


def required_contrast(size_px: float | None, policy: CritiquePolicy, bold: bool | None = None
                      ) -> tuple[float, bool]:
    """(the WCAG minimum, large): text is large from 18 pt (24 px), or from 14 pt (18.67 px) when bold."""
    large = size_px is not None and (size_px >= policy.large_text_px or
                                     (bool(bold) and size_px >= policy.large_bold_text_px))
    return (policy.large_text_contrast if large else policy.normal_text_contrast), large


def _hex(rgb: np.ndarray) -> str:
    return to_hex(tuple(int(value) for value in np.clip(np.rint(rgb), 0, 255)))  # type: ignore[arg-type]



def _step(size_px: float | None) -> int:
    """The sampling step for measuring a text's colours: about 24 samples per em (strokes stay several samples
    thick) keeps big headlines cheap."""
    return max(1, round(size_px / 24)) if size_px else 1


def measure_region(analysis: ColourAnalysis, box: Box, labels: np.ndarray, glyphs: np.ndarray, foreground: int,
                   policy: CritiquePolicy, *, size_px: float | None, step: int = 1,
                   text: str | None = None, bold: bool | None = None) -> TextRegion | None:
    """Contrast of the glyphs of cluster `foreground` against the non-glyph, non-fringe pixels within reach of them.
    `labels` (text labels) and `glyphs` (bool) cover `box` sampled every `step` pixels. None when there is no
    background to measure against."""
    x, y, w, h = box
    reach = -(-(max(2, round(0.25 * size_px)) if size_px else 3) // step)
    near = dilate(glyphs, reach) & ~glyphs & (labels >= 0) & (labels != foreground)
    near &= analysis.spread[y:y + h:step, x:x + w:step] <= policy.fringe_tolerance
    counts = np.bincount(labels[near].astype(np.int64), minlength=len(analysis.clusters))
    if counts.sum() == 0:
        return None
    color = analysis.colour_hex(foreground)
    present = np.flatnonzero(counts)
    ratios = np.array([contrast_ratio(color, analysis.colour_hex(label)) for label in present])
    order = np.argsort(ratios)
    cumulative = np.cumsum(counts[present][order]) / counts.sum()
    worst = float(ratios[order][int(np.searchsorted(cumulative, policy.worst_percentile, side="left"))])
    background = analysis.colour_hex(int(present[np.argmax(counts[present])]))
    required, large = required_contrast(size_px, policy, bold)
    return TextRegion(box, text, color, background, worst, required, large, size_px, bold)


def regions_from_layout(analysis: ColourAnalysis, text_boxes: Sequence[Mapping[str, Any]],
                        policy: CritiquePolicy) -> list[TextRegion]:
    """Text regions of an SGD render: the layout says where the text is and in which colour and size; the pixels
    say what is really under it."""
    regions: list[TextRegion] = []
    if not analysis.clusters:
        return regions
    centres_lab = srgb_to_lab(analysis.centres_rgb)
    text_labels = TextLabels.of(analysis)
    for entry in text_boxes:
        size_px = float(entry["size_px"]) if entry.get("size_px") else None
        clipped = clip_box(entry.get("box") or (0, 0, 0, 0), analysis.width, analysis.height)
        if clipped is None:
            continue
        box = expand_box(clipped, max(2, round(0.25 * size_px)) if size_px else 3, analysis.width, analysis.height)
        step = _step(size_px)
        labels = text_labels.at(box, step)
        counts = np.bincount(labels[labels >= 0].astype(np.int64), minlength=len(analysis.clusters))
        foreground = _foreground(counts, centres_lab, entry.get("color"), analysis)
        if foreground is None:
            continue
        weight = entry.get("weight")
        region = measure_region(analysis, box, labels, labels == foreground, foreground, policy, size_px=size_px,
                                step=step, text=entry.get("text"),
                                bold=weight == "bold" if isinstance(weight, str) else None)
        if region is not None:
            regions.append(replace(region, box=clipped))
    return regions


def _foreground(counts: np.ndarray, centres_lab: np.ndarray, hint: Any, analysis: ColourAnalysis) -> int | None:
    """The glyphs' cluster in a text box: the present cluster nearest the layout's text colour; without a usable
    hint, the present colour of highest contrast against the box's dominant colour."""
    present = np.flatnonzero(counts >= MIN_FOREGROUND_PIXELS)
    if not present.size:
        return None
    if isinstance(hint, str):
        try:
            target = srgb_to_lab(np.array(parse_hex(normalize_hex(hint)), dtype=np.float64))
        except ValueError:
            target = None
        if target is not None:
            distance = np.sqrt(((centres_lab[present] - target) ** 2).sum(axis=1))
            if distance.min() <= 25:
                return int(present[np.argmin(distance)])
    dominant = analysis.colour_hex(int(present[np.argmax(counts[present])]))
    return int(max(present, key=lambda label: contrast_ratio(dominant, analysis.colour_hex(label))))



def regions_detected(analysis: ColourAnalysis, policy: CritiquePolicy, scale: int = 1) -> list[TextRegion]:
    """Text lines found in a view of the design (reduced by `scale` for speed) and measured on the design itself:
    the glyphs' colour is the colour under the line's glyphs that contrasts most with the background around them
    (on a reduced copy thin strokes blend into the background, so the view's own colour can be a blend)."""
    if not analysis.clusters:
        return []
    text_labels = TextLabels.of(analysis)
    view = View.of(analysis, text_labels, scale)
    lines, pixel_component = detect_lines(view, policy)
    regions = []
    # Text breaks a photograph's texture cells (its edges are hard): the photo around it is within a cell.
    photo_around = near_texture(analysis.photo)
    for line in lines:
        size_px = line.size_px(scale)
        lx, ly, lw, lh = line.box
        line_box = clip_box((lx * scale, ly * scale, lw * scale, lh * scale), analysis.width, analysis.height)
        if line_box is None:
            continue
        box = expand_box(line_box, max(2, round(0.25 * size_px)), analysis.width, analysis.height)
        x, y, w, h = box
        step = _step(size_px)
        rows = np.minimum((np.arange(y, y + h, step) // scale), pixel_component.shape[0] - 1)
        cols = np.minimum((np.arange(x, x + w, step) // scale), pixel_component.shape[1] - 1)
        ink = np.isin(pixel_component[np.ix_(rows, cols)], line.members)
        labels = text_labels.at(box, step)
        foreground = _ink_colour(analysis, labels, ink)
        if foreground is None:
            continue
        bold = None
        weight_decides = policy.large_bold_text_px <= size_px < policy.large_text_px
        photo_share = float(photo_around[line_box[1]:line_box[1] + line_box[3],
                                         line_box[0]:line_box[0] + line_box[2]].mean())
        on_photo = photo_share >= 0.5
        varied = _varied_background(analysis.rgb[y:y + h:step, x:x + w:step], ink)
        if weight_decides or on_photo or varied:
            mask = np.isin(pixel_component[np.ix_(np.minimum(np.arange(y, y + h) // scale,
                                                             pixel_component.shape[0] - 1),
                                                  np.minimum(np.arange(x, x + w) // scale,
                                                             pixel_component.shape[1] - 1))], line.members)
            weighed = measure_line(analysis.rgb, mask, box, size_px, policy)
            if weight_decides:  # only there does the weight decide
                bold = bool(weighed.stroke_em >= policy.bold_stroke_em) if weighed is not None else None
        else:
            weighed = None
        region = measure_region(analysis, box, labels, labels == foreground, foreground, policy, size_px=size_px,
                                step=step, bold=bold)
        if region is not None and on_photo and region.ratio < policy.unreadable_below and (
                weighed is None or analysis.clusters[foreground].region == "photo"):
            # Glyph-like patches of a photograph's own colours (between the letters of text on it, too): they do
            # not stand apart from it, or their "ink" is one of its colours (text has a flat ink of its own).
            continue
        if region is not None and region.ratio < SAME_AS_INK:
            # Its own colour is the worst tenth around it (a codec's variant of it, counted as another cluster):
            # the counters and gaps of letters in another colour, read inverted, not text of its own.
            continue
        if region is not None and varied and weighed is None and photo_share >= PHOTO_EDGE_SHARE:
            # At a photograph's edge, patches of its texture of one colour cluster (or of the page's) that do not
            # stand apart from what is around them as strokes do: texture, not text.
            continue
        if region is not None and varied and weighed is not None and weighed.ratio < region.ratio and \
                max(abs(a - b) for a, b in zip(weighed.ink, parse_hex(region.color), strict=True)) <= INK_AGREES:
            # On a gradient or a photograph the colour clusters stand for ranges of colours: the ratio is the
            # glyphs' ink against each pixel next to them, where it is worst (when the strokes' ink is the line's
            # colour: around a codec's halo outlines it is a blend).
            region = replace(region, ratio=weighed.ratio)
        if region is not None:
            regions.append(replace(region, box=line_box))
    regions = _without_blend_echoes(regions)
    # Text whose colour the clusters merged into its background (a ratio near 1:1) is found by its strokes, and on
    # a photograph (left out of the stroke pass: its texture stands out everywhere) by its flat ink.
    lossy = analysis.lossy_snap_delta_e > 0
    found_lines = stroke_lines(analysis.rgb, policy, scale, analysis.excluded, skip=[region.box for region in regions],
                               photo=grow(analysis.photo, 2 * scale), lossy=lossy, view=view)
    if not lossy and analysis.photo.any():
        photo = analysis.photo if analysis.excluded is None else analysis.photo & ~analysis.excluded
        inked = ink_lines(analysis.rgb, analysis.spread, photo, policy,
                          skip=[region.box for region in regions] + [line.box for line in found_lines])
        # A line of flat ink on a photograph is measured on its own glyphs: colour-found pieces mostly inside it
        # (the photograph's specks of a colour near the ink, part of a word) are replaced by it.
        regions = [region for region in regions
                   if not mostly_covered(region.box, [line.box for line in inked])]
        found_lines += inked
    for found in found_lines:
        bold = bool(found.stroke_em >= policy.bold_stroke_em)
        required, large = required_contrast(found.size_px, policy, bold)
        regions.append(TextRegion(found.box, None, to_hex(found.ink), to_hex(found.background), found.ratio,
                                  required, large, found.size_px, bold))
    return sorted(regions, key=lambda item: (item.box[1], item.box[0]))


def _varied_background(pixels: np.ndarray, ink: np.ndarray) -> bool:
    """Whether the background around a line's glyphs (the sampled `pixels` of its box but the glyphs and their
    rims) spans more than VARIED_LEVELS of luma between its 10th and 90th percentiles: a gradient or a photograph,
    whose colour clusters only approximate it."""
    around = pixels[~grow(ink, 1)]
    if around.shape[0] < 8:
        return False
    luma = around.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    low, high = np.percentile(luma, [10, 90])
    return bool(high - low > VARIED_LEVELS)


def _ink_colour(analysis: ColourAnalysis, labels: np.ndarray, ink: np.ndarray) -> int | None:
    """The glyphs' colour, judged from their cores: the most common colour among the pixels of the glyphs' shapes
    (everything not background within CORE_REACH of the glyph mask) that do not touch the background. A glyph's
    outer layer is a blend: anti-aliasing, and on JPEG/WebP a ring of over- or undershoot (a dark halo around light
    strokes) that detection may have taken for the glyphs themselves; the core is the ink. Strokes too thin to have
    a core fall back to the colour under the glyph mask (each at least INK_SHARE of it) contrasting most with the
    dominant colour just outside it."""
    outside = ~ink & (labels >= 0)
    inside = ink & (labels >= 0)
    if not outside.any() or not inside.any():
        return None
    count = len(analysis.clusters)
    background = int(np.argmax(np.bincount(labels[outside].astype(np.int64), minlength=count)))
    shape = (labels >= 0) & (labels != background)
    cores = shrink(shape, 1) & grow(ink, CORE_REACH)
    in_cores = np.bincount(labels[cores].astype(np.int64), minlength=count)
    if in_cores.sum() >= max(MIN_FOREGROUND_PIXELS, INK_SHARE * inside.sum()):
        return int(np.argmax(in_cores))
    under = np.bincount(labels[inside].astype(np.int64), minlength=count)
    candidates = [label for label in np.flatnonzero(under >= INK_SHARE * under.sum()) if label != background]
    if not candidates:
        return None
    background_hex = analysis.colour_hex(background)
    return int(max(candidates, key=lambda label: contrast_ratio(background_hex, analysis.colour_hex(label))))


def _without_blend_echoes(regions: list[TextRegion]) -> list[TextRegion]:
    """Anti-aliased glyph edges blend text and background; where a third colour lies between them, the blend pixels
    form glyph-like outlines of that colour over the real line. Of lines that overlap (by half the smaller box),
    only the one with the highest contrast is kept: the blend always contrasts less than the text it outlines."""
    kept: list[TextRegion] = []
    for region in sorted(regions, key=lambda item: -item.ratio):
        if all(overlap_area(region.box, other.box) < 0.5 * min(_area(region.box), _area(other.box))
               for other in kept):
            kept.append(region)
    return sorted(kept, key=lambda item: (item.box[1], item.box[0]))


def _area(box: Box) -> int:
    return box[2] * box[3]


# --- the check -----------------------------------------------------------------------------------------------------


def check_contrast(analysis: ColourAnalysis, policy: CritiquePolicy,
                   text_boxes: Sequence[Mapping[str, Any]] | None = None, *, scale: int = 1) -> ContrastResult:
    """checks["contrast"], findings and repair suggestions. `text_boxes`: a render's layout text boxes; None to
    detect the text in the pixels (`scale`: original pixels per analysed pixel when analysing a reduced copy)."""
    from_layout = text_boxes is not None
    regions = regions_from_layout(analysis, text_boxes or [], policy) if from_layout else \
        regions_detected(analysis, policy, scale)
    violations, suggestions = [], []
    for region in regions:
        if region.ok:
            continue
        severity = "high" if region.ratio < policy.large_text_contrast else "medium"
        name = f'"{region.text[:60]}"' if region.text else "this text"
        kind = "large text" if region.large else "text"
        unreadable = "Unreadable text: c" if region.ratio < policy.unreadable_below else "C"
        if unreadable != "C":
            severity = "high"
        violations.append({
            "kind": "contrast", "severity": severity, "box": list(region.box),
            "message": (f"{unreadable}ontrast of {name} ({region.color} on {region.background}) is "
                        f"{_floor2(region.ratio):.2f}:1, below the {region.required:g}:1 WCAG minimum for {kind}"
                        f"{' (the text is nearly invisible)' if unreadable != 'C' else ''}: use a darker or "
                        "lighter text colour from the canon, or put a solid canon-colour panel behind it.")[:500]})
        suggestions.append(f"Raise the contrast of {name} from {_floor2(region.ratio):.2f}:1 to at least "
                           f"{region.required:g}:1: change {region.color} or its background {region.background}")
    check = {"source": "layout" if from_layout else "detected", "text_boxes": [region.as_check() for region in regions]}
    return ContrastResult(regions, violations, check, suggestions)
