"""Palette adherence: the design's colours clustered in CIELAB and measured by CIEDE2000 against the brand canon.

Pixels are binned on 5 bits per channel (np.bincount over a regular sample). In flat areas only "core" pixels
count: pixels whose 3x3 neighbourhood spread is within policy.fringe_tolerance, so anti-aliased edges (blends of two
canon colours) never form colours of their own. Photographic areas (textured regions, or a render's imagery_box)
count every pixel but hard edges and are judged against the looser policy.photo_delta_e.

Bins first join the canon colour (or forbidden colour) they are within the threshold of; the rest are grouped
around their most frequent colours (leader clustering). Each group with a meaningful share of the canvas is judged by
its mean colour. A colour found only in thin structures (no solid fill of it anywhere) is judged against the looser
photographic threshold: lossy codecs shift thin structures' colours. Offending colours are located on a coarse grid
and reported once per separate place.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from PIL import Image

from sgd.contracts.shapes import BrandCanon
from sgd.critique.palette_bins import (
    BIN_BITS,
    BIN_COUNT,
    TEXTURE_MAX_SPREAD,
    CanonColours,
    bin_centres,
    bin_index,
    bin_stats,
    group_bins,
    hex_of,
    ink_colours,
    near_texture,
    rgb_of,
    textured_areas,
)
from sgd.critique.policy import CritiquePolicy
from sgd.critique.regions import (
    Box,
    box_mask,
    channel_spread,
    expand_box,
    mask_regions,
    shrink,
    union_box,
)
from sgd.design.color import to_hex
from sgd.design.colorimetry import ciede2000, srgb_to_lab

SAMPLE_PIXELS = 150_000  # colour statistics come from a regular sample of about this many pixels
# "Solid" pixels lie this many px inside a fill's core. A colour with (nearly) no solid pixels lives only in thin
# structures (strokes, stripes, halos), whose colours JPEG/WebP shift by up to ~9 CIEDE2000 on small canvases (ringing,
# 4:2:0 chroma bleed): such a colour is judged against the photographic threshold.
SOLID_MARGIN = 2
FILL_SOLIDITY = 0.5  # a small fill's solid pixels over all of its pixels, at least
# How far beyond a box's edge "what lies beyond" is sampled (px): past the fringe and solid margin, plus a whole JPEG
# block (8 px), whose quantisation can pull a fill's edge pixels towards the next colour.
EDGE_REACH = 2 + SOLID_MARGIN + 8
FIT_MAX_STEPS = 64  # how far (px) a reported box may grow to reach its fill's edge
# A colour made only of edges (1-px lines, dots, a checkerboard) has no fill pixels, so clustering never sees it;
# one that covers this share of the canvas by itself is a pattern, not anti-aliasing (blends spread over many colours).
FINE_PATTERN_SHARE = 0.03
MAX_PLACES = 5  # findings per offending colour (the largest places); the rest are counted in the message
HIGH_SHARE = 0.05  # an off-palette colour from this share of the canvas is a high-severity finding
UNRESOLVED = -2  # a bin whose nearest cluster is not looked up yet

Region = Literal["flat", "photo"]
Status = Literal["ok", "off_palette", "forbidden"]


@dataclass(frozen=True, slots=True)
class ColourCluster:
    """One colour of the design: its mean colour, how much of the canvas it covers, and how it stands to the canon."""

    index: int
    rgb: tuple[int, int, int]
    hex: str
    share: float  # of the whole canvas (flat: its core pixels; photo: its pixels)
    solid_share: float  # ... of which lie well inside fills
    region: Region
    nearest_hex: str | None  # nearest canon palette colour
    delta_e: float | None  # CIEDE2000 to it
    status: Status
    forbidden_hex: str | None = None
    box: Box | None = None  # where it is (approximate for canon colours, exact for offending ones)

    def as_check(self) -> dict[str, Any]:
        check: dict[str, Any] = {
            "hex": self.hex, "share": round(self.share, 4), "box": list(self.box) if self.box else None,
            "delta_e": None if self.delta_e is None else round(self.delta_e, 2), "nearest_hex": self.nearest_hex,
            "region": self.region, "status": self.status}
        if self.forbidden_hex:
            check["forbidden_hex"] = self.forbidden_hex
        return check


@dataclass(frozen=True, slots=True)
class ColourAnalysis:
    """The colour picture of one design, shared by the palette and the text checks."""

    rgb: np.ndarray  # (H, W, 3) uint8
    spread: np.ndarray  # (H, W) uint8 3x3 channel spread
    photo: np.ndarray  # (H, W) bool: photographic areas
    excluded: np.ndarray | None  # (H, W) bool: areas left out (the logo), or None
    clusters: list[ColourCluster]
    centres_rgb: np.ndarray  # (K, 3) float: cluster mean colours, by cluster index
    lookup: np.ndarray  # (BIN_COUNT,) int16 bin -> nearest cluster; UNRESOLVED until first needed
    # offending cluster -> (window, its exact pixels in that window): the window holds all of them
    member_masks: dict[int, tuple[Box, np.ndarray]] = field(default_factory=dict)
    picture: Image.Image | None = None  # the same pixels as a Pillow image (its C filters release the GIL)
    # JPEG/WebP: a flat colour within this CIEDE2000 of its nearest canon colour is that colour, moved by the codec
    lossy_snap_delta_e: float = 0.0

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    def colour_hex(self, index: int | np.integer) -> str:
        """A cluster's colour as text contrast judges it: its measured colour, except that in a JPEG or WebP a flat
        colour within the codec's drift (the lossy flat threshold) of a canon colour is that canon colour, so that
        the codec's noise never moves a canon pair's WCAG verdict."""
        cluster = self.clusters[int(index)]
        if cluster.region == "flat" and cluster.nearest_hex is not None and cluster.delta_e is not None and \
                cluster.delta_e <= self.lossy_snap_delta_e:
            return cluster.nearest_hex
        return hex_of(self.centres_rgb[int(index)])

    def labels(self, box: Box | None = None) -> np.ndarray:
        """Every pixel's cluster (int16) in `box` (default: the whole canvas), -1 where excluded: a colour seen in a
        flat area keeps its cluster, any other (fringes, texture) goes to the nearest cluster colour in CIELAB."""
        x, y, w, h = box if box is not None else (0, 0, self.width, self.height)
        labels = self.labels_of(bin_index(self.rgb[y:y + h, x:x + w]))
        if self.excluded is not None:
            labels[self.excluded[y:y + h, x:x + w]] = -1
        return labels

    def labels_of(self, bins: np.ndarray) -> np.ndarray:
        """The clusters of an array of bin indices (each bin looked up once, then cached in `lookup`)."""
        if not self.clusters:
            return np.full(bins.shape, -1, dtype=np.int16)
        occupied = np.flatnonzero(np.bincount(bins.ravel(), minlength=BIN_COUNT))
        unresolved = occupied[self.lookup[occupied] == UNRESOLVED]
        if unresolved.size:
            centre_labs = srgb_to_lab(self.centres_rgb)
            distance = ((bin_centres()[1][unresolved][:, None, :] - centre_labs[None, :, :]) ** 2).sum(axis=2)
            self.lookup[unresolved] = np.argmin(distance, axis=1)
        return self.lookup[bins]


@dataclass(frozen=True, slots=True)
class PaletteResult:
    analysis: ColourAnalysis
    violations: list[dict[str, Any]]
    check: dict[str, Any]
    repair_suggestions: list[str]


def analyse_colours(rgb: np.ndarray, canon: BrandCanon, policy: CritiquePolicy, *,
                    exclude: Sequence[Box] = (), photo_boxes: Sequence[Box] = (),
                    detect_photos: bool = True, lossy: bool = False,
                    text_colours: Sequence[str] | None = None, picture: Image.Image | None = None) -> ColourAnalysis:
    """Clusters the colours of an (H, W, 3) uint8 design (see the module docstring). `exclude`: areas that keep
    their own colours (the logo); `photo_boxes`: known photographic areas; `detect_photos`: also look for textured
    ones (external images); `lossy`: the pixels come from JPEG/WebP, whose quantisation moves flat colours a little
    (the flat threshold gets policy.lossy_extra_delta_e more room); `text_colours`: the text colours a layout names
    (else thin strokes' colours are found in the pixels); `picture`: `rgb` as an RGB Pillow image when the caller
    has one (saves a copy)."""
    height, width = rgb.shape[:2]
    picture = picture if picture is not None and picture.mode == "RGB" else None
    flat_threshold = policy.flat_delta_e + (policy.lossy_extra_delta_e if lossy else 0.0)
    spread = channel_spread(rgb)
    excluded = box_mask(exclude, width, height) if exclude else None
    photo = textured_areas(spread) if detect_photos else np.zeros((height, width), dtype=bool)
    if photo_boxes:
        photo |= box_mask(photo_boxes, width, height)
    core = spread <= policy.fringe_tolerance
    if excluded is not None:
        core &= ~excluded
        photo &= ~excluded
    flat = core & ~photo
    solid = shrink(core, SOLID_MARGIN) & ~near_texture(photo)
    photo &= spread <= TEXTURE_MAX_SPREAD  # a hard edge inside a photograph is a blend, not one of its colours

    stride = max(1, round(math.sqrt(height * width / SAMPLE_PIXELS)))
    sample_rgb = np.ascontiguousarray(rgb[::stride, ::stride])
    sample_bins = bin_index(sample_rgb)
    scale = height * width / sample_bins.size  # canvas pixels per sampled pixel
    known = CanonColours.of(canon)

    clusters: list[ColourCluster] = []
    centres: list[np.ndarray] = []
    members = {region: np.full(BIN_COUNT, -1, dtype=np.int16) for region in ("flat", "photo")}
    passes: tuple[tuple[Region, np.ndarray, np.ndarray | None, float, float], ...] = (
        ("flat", flat[::stride, ::stride], solid[::stride, ::stride], flat_threshold, flat_threshold),
        ("photo", photo[::stride, ::stride], None, policy.photo_delta_e, policy.photo_delta_e / 2))
    for region, selected, judged, threshold, radius in passes:
        seen = bin_stats(sample_bins, sample_rgb, selected)
        if seen is None:
            continue
        solid_counts = np.bincount(sample_bins[judged], minlength=BIN_COUNT) if judged is not None else seen.counts
        occupied = np.flatnonzero(seen.counts)
        labs = srgb_to_lab(seen.sums[occupied] / seen.counts[occupied, None])
        for group in group_bins(occupied, seen.counts[occupied], labs, known, threshold, radius, sample_bins.size):
            index = len(clusters)
            members[region][group] = index
            count = int(seen.counts[group].sum())
            # Its representative colour is its most common bin's: a fill's exact colour, not pulled by its edges.
            mode = group[int(np.argmax(seen.counts[group]))]
            centres.append(seen.sums[mode] / seen.counts[mode])
            clusters.append(_judge(index, seen.sums[group].sum(axis=0) / count, count * scale / (height * width),
                                   int(solid_counts[group].sum()) * scale / (height * width), region, known,
                                   threshold, policy, lossy))

    for ink in ink_colours(picture, rgb, spread, excluded, centres, policy, text_colours):
        # Thin strokes (small text) have no flat pixels: their colour is known to the label map for the text check,
        # but too thin to judge as a palette colour (a lossy codec moves it; it covers little).
        clusters.append(ColourCluster(len(clusters), rgb_of(np.rint(ink)), hex_of(ink), 0.0, 0.0,
                                      "flat", None, None, "ok"))
        centres.append(ink)

    lookup = members["flat"].copy()
    lookup[lookup < 0] = UNRESOLVED
    centres_rgb = np.array(centres, dtype=np.float64).reshape(-1, 3)
    analysis = ColourAnalysis(rgb, spread, photo, excluded, clusters, centres_rgb, lookup, picture=picture,
                              lossy_snap_delta_e=flat_threshold if lossy else 0.0)
    clusters[:] = _with_boxes(clusters, analysis)
    offenders = [cluster for cluster in clusters if offending(cluster, policy)]
    margin = 2 * _box_sample_step(height, width)  # a cluster's pixels lie within this of its sampled box
    for cluster in offenders:
        x, y, w, h = expand_box(cluster.box, margin, width, height) if cluster.box else (0, 0, width, height)
        in_cluster = (members[cluster.region] == cluster.index)[bin_index(rgb[y:y + h, x:x + w])]
        where = photo if cluster.region == "photo" else solid if _is_solid(cluster, policy) else flat
        analysis.member_masks[cluster.index] = ((x, y, w, h), in_cluster & where[y:y + h, x:x + w])
    return analysis


def _judge(index: int, mean_rgb: np.ndarray, share: float, solid_share: float, region: Region, known: CanonColours,
           threshold: float, policy: CritiquePolicy, lossy: bool = False) -> ColourCluster:
    rgb = rgb_of(np.clip(np.rint(mean_rgb), 0, 255))
    lab = srgb_to_lab(np.asarray(mean_rgb, dtype=np.float64))
    nearest_hex, delta_e, status, forbidden_hex = None, None, "ok", None
    if len(known.palette):
        distances = ciede2000(lab[None, :], known.palette)
        nearest = int(np.argmin(distances))
        nearest_hex, delta_e = known.palette_hex[nearest], float(distances[nearest])
        # A fill below min_cluster_share is judged by the flat threshold only in a lossless file: a codec moves a
        # small fill's colour as much as a thin stroke's (chroma subsampling reaches well into it).
        thin = region == "flat" and solid_share < policy.min_cluster_share and (
            lossy or not _fill_like(solid_share, share, policy))
        if delta_e > (policy.photo_delta_e if thin else threshold):
            status = "off_palette"
    if len(known.forbidden):
        distances = ciede2000(lab[None, :], known.forbidden)
        nearest = int(np.argmin(distances))
        if distances[nearest] <= threshold and (delta_e is None or distances[nearest] < delta_e):
            status, forbidden_hex = "forbidden", known.forbidden_hex[nearest]
    return ColourCluster(index, rgb, to_hex(rgb), share, solid_share, region, nearest_hex, delta_e, status,
                         forbidden_hex)


def _box_sample_step(height: int, width: int) -> int:
    return max(1, min(height, width) // 256)


def _with_boxes(clusters: list[ColourCluster], analysis: ColourAnalysis) -> list[ColourCluster]:
    """Each cluster's bounding box, from a regular sample of the label map (to within the sampling step; offending
    colours get exact boxes from their pixels later)."""
    if not clusters:
        return clusters
    height, width = analysis.height, analysis.width
    step = _box_sample_step(height, width)
    sample = analysis.labels_of(bin_index(analysis.rgb[::step, ::step]))
    if analysis.excluded is not None:
        sample[analysis.excluded[::step, ::step]] = -1
    present = sample >= 0
    ys, xs = np.nonzero(present)
    owner = sample[present].astype(np.int64)
    count = len(clusters)
    x0, y0 = np.full(count, np.iinfo(np.int64).max), np.full(count, np.iinfo(np.int64).max)
    x1, y1 = np.full(count, -1), np.full(count, -1)
    np.minimum.at(x0, owner, xs)
    np.minimum.at(y0, owner, ys)
    np.maximum.at(x1, owner, xs)
    np.maximum.at(y1, owner, ys)
    located = []
    for index, cluster in enumerate(clusters):
        box = None
        if x1[index] >= 0:
            left, top = int(x0[index]) * step, int(y0[index]) * step
            right, bottom = min(width, (int(x1[index]) + 1) * step), min(height, (int(y1[index]) + 1) * step)
            box = (left, top, right - left, bottom - top)
        located.append(replace(cluster, box=box))
    return located


def _is_solid(cluster: ColourCluster, policy: CritiquePolicy) -> bool:
    """A fill (solid pixels well inside it) rather than thin strokes or edges."""
    return cluster.solid_share >= policy.min_cluster_share or _fill_like(cluster.solid_share, cluster.share, policy)


def _fill_like(solid_share: float, share: float, policy: CritiquePolicy) -> bool:
    """A small colour that is a fill: from min_fill_share of solid pixels, and solid through most of it (a thick
    stroke of text has a solid core too, but most of its pixels lie near its edges)."""
    return solid_share >= policy.min_fill_share and solid_share >= FILL_SOLIDITY * share


def offending(cluster: ColourCluster, policy: CritiquePolicy) -> bool:
    """Whether a cluster is a palette violation: forbidden from min_forbidden_share, off-palette from
    min_cluster_share of the canvas, or from min_fill_share when it is a flat fill (solid pixels: a small patch of
    the wrong colour, never an anti-aliased edge)."""
    if cluster.status == "forbidden":
        return cluster.share >= policy.min_forbidden_share
    return cluster.status == "off_palette" and (cluster.share >= policy.min_cluster_share or (
        cluster.region == "flat" and _is_solid(cluster, policy)))


def check_palette(rgb: np.ndarray, canon: BrandCanon, policy: CritiquePolicy, *,
                  exclude: Sequence[Box] = (), photo_boxes: Sequence[Box] = (),
                  detect_photos: bool = True, lossy: bool = False,
                  text_colours: Sequence[str] | None = None, picture: Image.Image | None = None) -> PaletteResult:
    """Palette adherence of an (H, W, 3) uint8 design: findings, checks["palette"] and repair suggestions."""
    analysis = analyse_colours(rgb, canon, policy, exclude=exclude, photo_boxes=photo_boxes,
                               detect_photos=detect_photos, lossy=lossy, text_colours=text_colours, picture=picture)
    height, width = analysis.height, analysis.width
    canvas = height * width
    violations: list[dict[str, Any]] = []
    suggestions: list[str] = []
    reported: list[ColourCluster] = []
    cell = max(4, round(min(height, width) / 128))
    flat_limit = policy.flat_delta_e + (policy.lossy_extra_delta_e if lossy else 0.0)
    for cluster in sorted(analysis.clusters, key=lambda item: -item.share):
        if not offending(cluster, policy):
            if cluster.share >= policy.min_cluster_share:
                reported.append(cluster)
            continue
        minimum = policy.min_forbidden_share if cluster.status == "forbidden" else \
            min(policy.min_fill_share, policy.min_cluster_share) if cluster.region == "flat" else \
            policy.min_cluster_share
        (window_x, window_y, _, _), member_mask = analysis.member_masks.get(cluster.index, ((0, 0, 0, 0), None))
        places = [((box[0] + window_x, box[1] + window_y, box[2], box[3]), pixels)
                  for box, pixels in mask_regions(member_mask, cell)] if member_mask is not None else []
        boxes = [box for box, pixels in places if pixels >= minimum * canvas]
        if not boxes and places:
            boxes = [union_box(box for box, _ in places)]
        if cluster.region == "flat":
            boxes = [_fit_to_edges(analysis.rgb, box, cluster.rgb, policy) for box in boxes]
        reported.append(replace(cluster, box=union_box(boxes)) if boxes else cluster)
        shown: list[Box | None] = list(boxes[:MAX_PLACES]) or [None]
        for box in shown:
            violations.append(_finding(cluster, box, max(0, len(boxes) - len(shown)), policy, flat_limit))
        suggestions.append(_suggestion(cluster))
    pattern_violations, pattern_suggestions = _fine_patterns(analysis, CanonColours.of(canon), policy)
    violations += pattern_violations
    suggestions += pattern_suggestions
    on_palette = sum(cluster.share for cluster in analysis.clusters if cluster.status == "ok")
    check: dict[str, Any] = {"threshold_flat": flat_limit, "threshold_photo": policy.photo_delta_e,
                             "clusters": [cluster.as_check() for cluster in reported],
                             "on_palette_share": round(on_palette, 4)}
    if not (canon.get("palette_hex") or []):
        check["note"] = "the canon has no palette colours: only forbidden colours were checked"
    return PaletteResult(analysis, violations, check, suggestions)


def _fine_patterns(analysis: ColourAnalysis, canon: CanonColours, policy: CritiquePolicy
                   ) -> tuple[list[dict[str, Any]], list[str]]:
    """Off-palette or forbidden colours that exist only as edges (see FINE_PATTERN_SHARE), judged like a photograph's
    colours: beyond photo_delta_e of the palette, or nearer a forbidden colour than the palette."""
    edges = analysis.spread > policy.fringe_tolerance
    edges &= ~analysis.photo
    if analysis.excluded is not None:
        edges &= ~analysis.excluded
    canvas = analysis.height * analysis.width
    if int(np.count_nonzero(edges)) < FINE_PATTERN_SHARE * canvas:
        return [], []
    bins = bin_index(analysis.rgb[edges])
    counts = np.bincount(bins, minlength=1 << (3 * BIN_BITS))
    findings, suggestions = [], []
    for found in np.flatnonzero(counts >= FINE_PATTERN_SHARE * canvas):
        members = bins == found
        colour = analysis.rgb[edges][members].mean(axis=0)
        lab = srgb_to_lab(colour)
        to_palette = ciede2000(lab, canon.palette).min() if len(canon.palette) else math.inf
        to_forbidden = ciede2000(lab, canon.forbidden).min() if len(canon.forbidden) else math.inf
        forbidden = to_forbidden < to_palette and to_forbidden <= policy.photo_delta_e
        if not forbidden and to_palette <= policy.photo_delta_e:
            continue
        mask = np.zeros(edges.shape, dtype=bool)
        mask[edges] = members
        rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        box = [int(columns[0]), int(rows[0]), int(columns[-1] - columns[0] + 1), int(rows[-1] - rows[0] + 1)]
        hex_colour = to_hex(rgb_of(round(float(value)) for value in colour))
        share = counts[found] / canvas
        what = "a forbidden colour" if forbidden else f"off palette (CIEDE2000 {to_palette:.1f} from the canon)"
        findings.append({"kind": "palette", "severity": "high", "box": box, "message": (
            f"A fine pattern (1-px lines, dots or a checkerboard) of {hex_colour}, {what}, covers "
            f"{share * 100:.1f}% of the canvas: use canon colours for patterns too")[:500]})
        suggestions.append(f"Redraw the fine pattern of {hex_colour} in canon colours")
    return findings, suggestions


def _fit_to_edges(rgb: np.ndarray, box: Box, colour: tuple[int, int, int], policy: CritiquePolicy) -> Box:
    """A flat colour's counted pixels stop short of its shape's edge (the fringe, the solid margin, and more where a
    lossy codec blurs or rings): move each side of the box out while the next line of pixels is mostly nearer that
    colour than to what lies EDGE_REACH px beyond it (or within the fringe tolerance of it, or a blend of the two), at
    most FIT_MAX_STEPS px; then one more, for the edge pixel that is an even blend."""
    height, width = rgb.shape[:2]
    reference = np.array(colour, dtype=np.int16)
    x0, y0, x1, y1 = box[0], box[1], box[0] + box[2], box[1] + box[3]

    def belongs(line: np.ndarray, beyond: np.ndarray) -> bool:
        if not line.size:
            return False
        line, beyond = line.astype(np.int16), beyond.astype(np.int16)
        own = np.abs(line - reference).max(axis=-1)
        other = np.abs(line - beyond).max(axis=-1)
        apart = np.abs(reference - beyond).max(axis=-1)
        # A blend of the two (chroma subsampling smears a lossy edge over ~2 px) is still the fill's edge.
        blend = (other > policy.fringe_tolerance) & (own < apart)
        return float(((own < other) | (own <= policy.fringe_tolerance) | blend).mean()) >= 0.5

    # The counted pixels can stop a sampling step or a JPEG block short of the edge; the test above is what stops.
    for _ in range(FIT_MAX_STEPS):
        moved = False
        if x0 > 0 and belongs(rgb[y0:y1, x0 - 1], rgb[y0:y1, max(0, x0 - 1 - EDGE_REACH)]):
            x0, moved = x0 - 1, True
        if x1 < width and belongs(rgb[y0:y1, x1], rgb[y0:y1, min(width - 1, x1 + EDGE_REACH)]):
            x1, moved = x1 + 1, True
        if y0 > 0 and belongs(rgb[y0 - 1, x0:x1], rgb[max(0, y0 - 1 - EDGE_REACH), x0:x1]):
            y0, moved = y0 - 1, True
        if y1 < height and belongs(rgb[y1, x0:x1], rgb[min(height - 1, y1 + EDGE_REACH), x0:x1]):
            y1, moved = y1 + 1, True
        if not moved:
            break
    x0, y0, x1, y1 = max(0, x0 - 1), max(0, y0 - 1), min(width, x1 + 1), min(height, y1 + 1)
    return x0, y0, x1 - x0, y1 - y0


def _finding(cluster: ColourCluster, box: Box | None, more_places: int, policy: CritiquePolicy,
             flat_limit: float) -> dict[str, Any]:
    where = f" (and {more_places} more places)" if more_places else ""
    share = f"{cluster.share * 100:.1f}% of the canvas"
    if cluster.status == "forbidden":
        message = (f"Forbidden colour {cluster.hex} (the canon forbids {cluster.forbidden_hex}) covers {share}{where}: "
                   "remove it" + (f" or recolour it to {cluster.nearest_hex}, the nearest canon colour."
                                  if cluster.nearest_hex else "."))
        severity = "high"
    else:
        limit = f"{policy.photo_delta_e:g} in a photographic area" if cluster.region == "photo" else \
            f"{flat_limit:g} for a flat fill" if _is_solid(cluster, policy) else \
            f"{policy.photo_delta_e:g} for thin strokes"
        message = (f"Off-palette colour {cluster.hex} covers {share}{where}, CIEDE2000 {cluster.delta_e:.1f} from the "
                   f"nearest canon colour {cluster.nearest_hex} (limit {limit}): recolour it to "
                   f"{cluster.nearest_hex} or another canon colour.")
        severity = "high" if cluster.share >= HIGH_SHARE else "medium"
    return {"kind": "palette", "message": message[:500], "severity": severity,
            "box": list(box) if box is not None else None}


def _suggestion(cluster: ColourCluster) -> str:
    percent = f"{cluster.share * 100:.0f}%" if cluster.share >= 0.01 else f"{cluster.share * 100:.1f}%"
    if cluster.nearest_hex is None:
        return f"Remove {cluster.hex} ({percent} of the canvas): the canon forbids {cluster.forbidden_hex}"
    return f"Replace {cluster.hex} ({percent} of the canvas) with {cluster.nearest_hex}, the nearest canon colour"
