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

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from PIL import Image

from sgd.contracts.shapes import BrandCanon
from sgd.critique.policy import CritiquePolicy
from sgd.critique.regions import (
    Box,
    box_mask,
    cell_counts,
    channel_spread,
    connected_components,
    expand_box,
    grow,
    local_extreme,
    mask_regions,
    shrink,
    union_box,
)
from sgd.design.color import Rgb, normalize_hex, parse_hex, to_hex
from sgd.design.colorimetry import ciede2000, palette_lab, srgb_to_lab

BIN_BITS = 5
BIN_COUNT = 1 << (3 * BIN_BITS)
SAMPLE_PIXELS = 150_000  # colour statistics come from a regular sample of about this many pixels
# Photographic (textured) areas: cells where most pixels vary a little, away from hard edges.
TEXTURE_MIN_SPREAD, TEXTURE_MAX_SPREAD = 6, 48
TEXTURE_CELL_SHARE = 0.5
EDGE_HALO = 3  # px around a hard edge where lossy codecs ring and bleed chroma
PHOTO_MIN_SHARE = 0.01  # a textured place smaller than this share of the canvas is not a photograph
# "Solid" pixels lie this many px inside a fill's core. A colour with (nearly) no solid pixels lives only in thin
# structures (strokes, stripes, halos), whose colours JPEG/WebP shift by up to ~9 CIEDE2000 on small canvases (ringing,
# 4:2:0 chroma bleed): such a colour is judged against the photographic threshold.
SOLID_MARGIN = 2
# How far beyond a box's edge "what lies beyond" is sampled (px): past the fringe and solid margin, plus a whole JPEG
# block (8 px), whose quantisation can pull a fill's edge pixels towards the next colour.
EDGE_REACH = 2 + SOLID_MARGIN + 8
FIT_MAX_STEPS = 64  # how far (px) a reported box may grow to reach its fill's edge
INK_MIN_PIXELS = 20  # local extremes of one colour needed before it counts as a stroke colour
INK_SAMPLE = 20_000
INK_EDGE_SAMPLE = 8 * INK_SAMPLE  # edge pixels tested for being a stroke's extreme
INK_MAX_COLOURS = 8
INK_NEW_DELTA_E = 6.0  # an ink colour this close to a known colour is that colour
MAX_GROUPS = 64  # leader clustering stops seeding after this many groups (texture is then lumped to the nearest)
SEED_MIN_SHARE = 0.0002  # ... and bins rarer than this share never seed a group of their own
# A colour made only of edges (1-px lines, dots, a checkerboard) has no fill pixels, so clustering never sees it;
# one that covers this share of the canvas by itself is a pattern, not anti-aliasing (blends spread over many colours).
FINE_PATTERN_SHARE = 0.03
MAX_PLACES = 5  # findings per offending colour (the largest places); the rest are counted in the message
HIGH_SHARE = 0.05  # an off-palette colour from this share of the canvas is a high-severity finding
UNRESOLVED = -2  # a bin whose nearest cluster is not looked up yet

Region = Literal["flat", "photo"]
Status = Literal["ok", "off_palette", "forbidden"]


@functools.cache
def _bin_centres() -> tuple[np.ndarray, np.ndarray]:
    """(BIN_COUNT, 3) sRGB centres of the bins and their CIELAB coordinates (computed once per process)."""
    index = np.arange(BIN_COUNT)
    step = 1 << (8 - BIN_BITS)
    mask = (1 << BIN_BITS) - 1
    rgb = np.stack([(index >> (2 * BIN_BITS)) & mask, (index >> BIN_BITS) & mask, index & mask], axis=1)
    rgb = rgb * step + step // 2
    return rgb.astype(np.uint8), srgb_to_lab(rgb)


def bin_index(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 -> (...) uint16 bin index (5 bits per channel)."""
    shift = 8 - BIN_BITS
    red = (rgb[..., 0] >> shift).astype(np.uint16)
    green = (rgb[..., 1] >> shift).astype(np.uint16)
    red <<= 2 * BIN_BITS
    green <<= BIN_BITS
    red |= green
    red |= rgb[..., 2] >> shift
    return red


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
        return _hex_of(self.centres_rgb[int(index)])

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
            distance = ((_bin_centres()[1][unresolved][:, None, :] - centre_labs[None, :, :]) ** 2).sum(axis=2)
            self.lookup[unresolved] = np.argmin(distance, axis=1)
        return self.lookup[bins]


@dataclass(frozen=True, slots=True)
class PaletteResult:
    analysis: ColourAnalysis
    violations: list[dict[str, Any]]
    check: dict[str, Any]
    repair_suggestions: list[str]


@dataclass(frozen=True, slots=True)
class _Canon:
    palette_hex: list[str]
    palette: np.ndarray  # (P, 3) CIELAB
    forbidden_hex: list[str]
    forbidden: np.ndarray  # (F, 3) CIELAB

    @staticmethod
    def of(canon: BrandCanon) -> _Canon:
        palette = list(dict.fromkeys(normalize_hex(color) for color in canon.get("palette_hex") or []))
        forbidden = [color for color in dict.fromkeys(normalize_hex(color) for color in canon.get("forbidden_hex")
                                                      or []) if color not in palette]
        return _Canon(palette, palette_lab(palette), forbidden, palette_lab(forbidden))


@dataclass(frozen=True, slots=True)
class _BinStats:
    counts: np.ndarray  # (BIN_COUNT,) sampled pixels per bin
    sums: np.ndarray  # (BIN_COUNT, 3) their summed sRGB channels


def textured_areas(spread: np.ndarray) -> np.ndarray:
    """(H, W) bool: photographic places. Cells where most pixels vary by a few levels (texture, gradients, noise)
    away from hard edges (whose JPEG/WebP ringing and chroma bleed also vary a little); touching cells form a place,
    kept from PHOTO_MIN_SHARE of the canvas."""
    height, width = spread.shape
    cell = max(8, round(min(height, width) / 64))
    rows, cols = height // cell, width // cell
    photo = np.zeros((height, width), dtype=bool)
    if rows == 0 or cols == 0:
        return photo
    needed = TEXTURE_CELL_SHARE * cell * cell
    varying = spread >= TEXTURE_MIN_SPREAD
    if not (cell_counts(varying, cell) >= needed).any():
        return photo  # no cell varies enough even before hard edges are discounted (flat designs: most of them)
    moderate = varying & ~grow(spread > TEXTURE_MAX_SPREAD, EDGE_HALO)
    textured = cell_counts(moderate, cell) >= needed
    if not textured.any():
        return photo
    grid = connected_components(textured.astype(np.int8), ignore=0, pixel_map=True)
    assert grid.pixel_component is not None
    min_cells = max(4, math.ceil(PHOTO_MIN_SHARE * height * width / (cell * cell)))
    big = np.flatnonzero(grid.area >= min_cells)
    if big.size:
        kept = np.isin(grid.pixel_component, big)
        photo[:rows * cell, :cols * cell] = np.repeat(np.repeat(kept, cell, axis=0), cell, axis=1)
    return photo


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
    solid = shrink(core, SOLID_MARGIN) & ~photo
    photo &= spread <= TEXTURE_MAX_SPREAD  # a hard edge inside a photograph is a blend, not one of its colours

    stride = max(1, round(math.sqrt(height * width / SAMPLE_PIXELS)))
    sample_rgb = np.ascontiguousarray(rgb[::stride, ::stride])
    sample_bins = bin_index(sample_rgb)
    scale = height * width / sample_bins.size  # canvas pixels per sampled pixel
    known = _Canon.of(canon)

    clusters: list[ColourCluster] = []
    centres: list[np.ndarray] = []
    members = {region: np.full(BIN_COUNT, -1, dtype=np.int16) for region in ("flat", "photo")}
    passes: tuple[tuple[Region, np.ndarray, np.ndarray | None, float, float], ...] = (
        ("flat", flat[::stride, ::stride], solid[::stride, ::stride], flat_threshold, flat_threshold),
        ("photo", photo[::stride, ::stride], None, policy.photo_delta_e, policy.photo_delta_e / 2))
    for region, selected, judged, threshold, radius in passes:
        seen = _bin_stats(sample_bins, sample_rgb, selected)
        if seen is None:
            continue
        solid_counts = np.bincount(sample_bins[judged], minlength=BIN_COUNT) if judged is not None else seen.counts
        occupied = np.flatnonzero(seen.counts)
        labs = srgb_to_lab(seen.sums[occupied] / seen.counts[occupied, None])
        for group in _group_bins(occupied, seen.counts[occupied], labs, known, threshold, radius, sample_bins.size):
            index = len(clusters)
            members[region][group] = index
            count = int(seen.counts[group].sum())
            # Its representative colour is its most common bin's: a fill's exact colour, not pulled by its edges.
            mode = group[int(np.argmax(seen.counts[group]))]
            centres.append(seen.sums[mode] / seen.counts[mode])
            clusters.append(_judge(index, seen.sums[group].sum(axis=0) / count, count * scale / (height * width),
                                   int(solid_counts[group].sum()) * scale / (height * width), region, known,
                                   threshold, policy))

    for ink in _ink_colours(picture, rgb, spread, excluded, centres, policy, text_colours):
        # Thin strokes (small text) have no flat pixels: their colour is known to the label map for the text check,
        # but too thin to judge as a palette colour (a lossy codec moves it; it covers little).
        clusters.append(ColourCluster(len(clusters), _rgb(np.rint(ink)), _hex_of(ink), 0.0, 0.0,
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


def _hex_of(rgb: np.ndarray) -> str:
    return to_hex(tuple(int(value) for value in np.clip(np.rint(rgb), 0, 255)))  # type: ignore[arg-type]


def _ink_colours(picture: Image.Image | None, rgb: np.ndarray, spread: np.ndarray, excluded: np.ndarray | None,
                 centres: list[np.ndarray], policy: CritiquePolicy, stated: Sequence[str] | None) -> list[np.ndarray]:
    """Colours of thin strokes (small text), which have no flat pixels, for the label map. `stated`: the text
    colours a render's layout names (exact); else found in the pixels: the darkest or lightest pixel across a stroke
    (a local luminance extreme on an edge) is fully covered by the ink, where the other pixels of a 1-2 px stroke
    are blends. Only colours not already among `centres` are returned."""
    known = [srgb_to_lab(centre) for centre in centres]
    found: list[np.ndarray] = []

    def add(colour: np.ndarray) -> None:
        lab = srgb_to_lab(colour)
        if not known or float(ciede2000(np.array(known), lab).min()) >= INK_NEW_DELTA_E:
            found.append(colour)
            known.append(lab)

    if stated is not None:
        for colour in dict.fromkeys(stated):
            try:
                add(np.array(parse_hex(colour), dtype=np.float64))
            except ValueError:
                continue
        return found
    edge = spread > policy.fringe_tolerance
    if excluded is not None:
        edge &= ~excluded
    index = np.flatnonzero(edge)
    if index.size > INK_EDGE_SAMPLE:
        # A regular sample of the edge pixels keeps the extremes' proportions (only they are sampled later anyway).
        index = index[:: index.size // INK_EDGE_SAMPLE]
    # Luminance by Pillow (C, GIL released); extremes tested only at the edge pixels.
    luma = np.asarray((picture if picture is not None else Image.fromarray(rgb)).convert("L"))
    index = index[local_extreme(luma, index)]
    if index.size < INK_MIN_PIXELS:
        return found
    if index.size > INK_SAMPLE:
        index = index[:: index.size // INK_SAMPLE]
    pixels = rgb.reshape(-1, 3)[index]
    pixel_bins = bin_index(pixels)
    stats = _bin_stats(pixel_bins, pixels, np.ones(len(pixels), dtype=bool))
    assert stats is not None
    occupied = np.flatnonzero(stats.counts >= 2)
    order = occupied[np.argsort(-stats.counts[occupied], kind="stable")]
    labs = srgb_to_lab(stats.sums[order] / stats.counts[order, None])
    remaining = np.ones(order.size, dtype=bool)
    for _ in range(INK_MAX_COLOURS):
        if not remaining.any():
            break
        seed = int(np.argmax(remaining))  # the most common remaining colour
        pending = np.flatnonzero(remaining)
        close = pending[ciede2000(labs[pending], labs[seed]) <= policy.flat_delta_e]
        remaining[close] = False
        count = stats.counts[order[close]].sum()
        if count >= INK_MIN_PIXELS:
            # Most extremes are fully covered: the median of the most common bin is the ink itself.
            add(_median_rgb(pixels[pixel_bins == order[seed]]))
    return found


def _median_rgb(pixels: np.ndarray) -> np.ndarray:
    """np.median(pixels, axis=0) of (N, 3) uint8 pixels, from per-channel histograms (no sorting)."""
    middle = np.array([(len(pixels) - 1) // 2, len(pixels) // 2])
    median = np.empty(3)
    for channel in range(3):
        cumulative = np.cumsum(np.bincount(pixels[:, channel], minlength=256))
        median[channel] = np.searchsorted(cumulative, middle, side="right").mean()
    return median


def _bin_stats(sample_bins: np.ndarray, sample_rgb: np.ndarray, selected: np.ndarray) -> _BinStats | None:
    chosen = sample_bins[selected].astype(np.intp)
    if not chosen.size:
        return None
    counts = np.bincount(chosen, minlength=BIN_COUNT)
    sums = np.empty((BIN_COUNT, 3))
    # Channel planes are indexed one by one: boolean indexing of (H, W, 3) rows is ~20x slower.
    for channel in range(3):
        sums[:, channel] = np.bincount(chosen, weights=sample_rgb[..., channel][selected], minlength=BIN_COUNT)
    return _BinStats(counts, sums)


def _group_bins(bins: np.ndarray, counts: np.ndarray, labs: np.ndarray, known: _Canon, threshold: float,
                radius: float, sample_total: int) -> list[np.ndarray]:
    """Groups occupied bins: each forbidden and each palette colour gathers the bins within `threshold` of it
    (forbidden ones when nearer than any palette colour); the rest gather around their most frequent bins."""
    groups: list[np.ndarray] = []
    remaining = np.ones(bins.size, dtype=bool)
    nearest_palette = np.full(bins.size, np.inf)
    palette_distance = np.empty((bins.size, 0))
    if len(known.palette):
        palette_distance = ciede2000(labs[:, None, :], known.palette[None, :, :])
        nearest_palette = np.min(palette_distance, axis=1)
    if len(known.forbidden):
        forbidden_distance = ciede2000(labs[:, None, :], known.forbidden[None, :, :])
        closest = np.min(forbidden_distance, axis=1)
        is_forbidden = (closest < nearest_palette) & (closest <= threshold)
        which = np.argmin(forbidden_distance, axis=1)
        groups += [bins[is_forbidden & (which == index)] for index in range(len(known.forbidden))]
        remaining &= ~is_forbidden
    if len(known.palette):
        on_palette = remaining & (nearest_palette <= threshold)
        which = np.argmin(palette_distance, axis=1)
        groups += [bins[on_palette & (which == index)] for index in range(len(known.palette))]
        remaining &= ~on_palette
    groups = [group for group in groups if group.size]

    order = np.flatnonzero(remaining)
    order = order[np.argsort(-counts[order], kind="stable")]
    seeds: list[int] = []
    leaders: list[np.ndarray] = []
    min_seed = max(1, SEED_MIN_SHARE * sample_total)
    while order.size and len(seeds) < MAX_GROUPS and counts[order[0]] >= min_seed:
        seed = int(order[0])
        close = ciede2000(labs[order], labs[seed]) <= radius
        leaders.append(order[close])
        seeds.append(seed)
        order = order[~close]
    if order.size and seeds:
        # Rare leftovers (texture, noise) join the nearest leader within twice the radius; the rest stay unclustered.
        distance = ciede2000(labs[order][:, None, :], labs[seeds][None, :, :])
        nearest_seed = np.argmin(distance, axis=1)
        near = np.min(distance, axis=1) <= 2 * radius
        for position in range(len(seeds)):
            joined = order[near & (nearest_seed == position)]
            if joined.size:
                leaders[position] = np.concatenate([leaders[position], joined])
    return groups + [bins[leader] for leader in leaders]



def _rgb(values: Iterable[float]) -> Rgb:
    """Three channel values (already rounded as the caller wants) as an (r, g, b) of ints."""
    red, green, blue = (int(value) for value in values)
    return red, green, blue

def _judge(index: int, mean_rgb: np.ndarray, share: float, solid_share: float, region: Region, known: _Canon,
           threshold: float, policy: CritiquePolicy) -> ColourCluster:
    rgb = _rgb(np.clip(np.rint(mean_rgb), 0, 255))
    lab = srgb_to_lab(np.asarray(mean_rgb, dtype=np.float64))
    nearest_hex, delta_e, status, forbidden_hex = None, None, "ok", None
    if len(known.palette):
        distances = ciede2000(lab[None, :], known.palette)
        nearest = int(np.argmin(distances))
        nearest_hex, delta_e = known.palette_hex[nearest], float(distances[nearest])
        thin = region == "flat" and solid_share < policy.min_cluster_share
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
    return cluster.solid_share >= policy.min_cluster_share


def offending(cluster: ColourCluster, policy: CritiquePolicy) -> bool:
    """Whether a cluster is a palette violation: forbidden from min_forbidden_share, off-palette from
    min_cluster_share of the canvas."""
    if cluster.status == "forbidden":
        return cluster.share >= policy.min_forbidden_share
    return cluster.status == "off_palette" and cluster.share >= policy.min_cluster_share


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
        minimum = policy.min_forbidden_share if cluster.status == "forbidden" else policy.min_cluster_share
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
    pattern_violations, pattern_suggestions = _fine_patterns(analysis, _Canon.of(canon), policy)
    violations += pattern_violations
    suggestions += pattern_suggestions
    on_palette = sum(cluster.share for cluster in analysis.clusters if cluster.status == "ok")
    check: dict[str, Any] = {"threshold_flat": flat_limit, "threshold_photo": policy.photo_delta_e,
                             "clusters": [cluster.as_check() for cluster in reported],
                             "on_palette_share": round(on_palette, 4)}
    if not (canon.get("palette_hex") or []):
        check["note"] = "the canon has no palette colours: only forbidden colours were checked"
    return PaletteResult(analysis, violations, check, suggestions)


def _fine_patterns(analysis: ColourAnalysis, canon: _Canon, policy: CritiquePolicy
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
        hex_colour = to_hex(_rgb(round(float(value)) for value in colour))
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
