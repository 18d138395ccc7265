"""The colour statistics palette adherence is built on (sgd.critique.palette): 5-bit-per-channel bins and their
grouping around canon colours, photographic (textured) areas, and the ink colours of thin strokes (small text) that
have no flat pixels of their own."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from sgd.contracts.shapes import BrandCanon
from sgd.critique.policy import CritiquePolicy
from sgd.critique.regions import cell_counts, connected_components, grow, local_extreme
from sgd.design.color import Rgb, normalize_hex, parse_hex, to_hex
from sgd.design.colorimetry import ciede2000, palette_lab, srgb_to_lab

BIN_BITS = 5
BIN_COUNT = 1 << (3 * BIN_BITS)
# Photographic (textured) areas: cells where most pixels vary a little, away from hard edges.
TEXTURE_MIN_SPREAD, TEXTURE_MAX_SPREAD = 6, 48
TEXTURE_CELL_SHARE = 0.5
EDGE_HALO = 3  # px around a hard edge where lossy codecs ring and bleed chroma
PHOTO_MIN_SHARE = 0.01  # a textured place smaller than this share of the canvas is not a photograph
INK_MIN_PIXELS = 20  # local extremes of one colour needed before it counts as a stroke colour
INK_SAMPLE = 20_000
INK_EDGE_SAMPLE = 8 * INK_SAMPLE  # edge pixels tested for being a stroke's extreme
INK_MAX_COLOURS = 8
INK_NEW_DELTA_E = 6.0  # an ink colour this close to a known colour is that colour
MAX_GROUPS = 64  # leader clustering stops seeding after this many groups (texture is then lumped to the nearest)
SEED_MIN_SHARE = 0.0002  # ... and bins rarer than this share never seed a group of their own
@functools.cache
def bin_centres() -> tuple[np.ndarray, np.ndarray]:
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
class CanonColours:
    palette_hex: list[str]
    palette: np.ndarray  # (P, 3) CIELAB
    forbidden_hex: list[str]
    forbidden: np.ndarray  # (F, 3) CIELAB

    @staticmethod
    def of(canon: BrandCanon) -> CanonColours:
        palette = list(dict.fromkeys(normalize_hex(color) for color in canon.get("palette_hex") or []))
        forbidden = [color for color in dict.fromkeys(normalize_hex(color) for color in canon.get("forbidden_hex")
                                                      or []) if color not in palette]
        return CanonColours(palette, palette_lab(palette), forbidden, palette_lab(forbidden))


@dataclass(frozen=True, slots=True)
class BinStats:
    counts: np.ndarray  # (BIN_COUNT,) sampled pixels per bin
    sums: np.ndarray  # (BIN_COUNT, 3) their summed sRGB channels


def texture_cell(height: int, width: int) -> int:
    """The cell size (px) photographic areas are found on."""
    return max(8, round(min(height, width) / 64))


def near_texture(photo: np.ndarray) -> np.ndarray:
    """(H, W) bool: the photographic areas grown by one texture cell. Textured places are found cell by cell, so
    the cells a photograph only partly covers are not in `photo`: their flat-looking pixels are no fill."""
    height, width = photo.shape
    if not photo.any():
        return photo
    cell = texture_cell(height, width)
    rows, cols = -(-height // cell), -(-width // cell)
    grid = np.zeros((rows * cell, cols * cell), dtype=bool)
    grid[:height, :width] = photo
    cells = grid.reshape(rows, cell, cols, cell).any(axis=(1, 3))
    cells = grow(cells, 1)
    return np.repeat(np.repeat(cells, cell, axis=0), cell, axis=1)[:height, :width]


def textured_areas(spread: np.ndarray) -> np.ndarray:
    """(H, W) bool: photographic places. Cells where most pixels vary by a few levels (texture, gradients, noise)
    away from hard edges (whose JPEG/WebP ringing and chroma bleed also vary a little); touching cells form a place,
    kept from PHOTO_MIN_SHARE of the canvas."""
    height, width = spread.shape
    cell = texture_cell(height, width)
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


def hex_of(rgb: np.ndarray) -> str:
    return to_hex(tuple(int(value) for value in np.clip(np.rint(rgb), 0, 255)))  # type: ignore[arg-type]


def ink_colours(picture: Image.Image | None, rgb: np.ndarray, spread: np.ndarray, excluded: np.ndarray | None,
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
    stats = bin_stats(pixel_bins, pixels, np.ones(len(pixels), dtype=bool))
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
            add(median_rgb(pixels[pixel_bins == order[seed]]))
    return found


def median_rgb(pixels: np.ndarray) -> np.ndarray:
    """np.median(pixels, axis=0) of (N, 3) uint8 pixels, from per-channel histograms (no sorting)."""
    middle = np.array([(len(pixels) - 1) // 2, len(pixels) // 2])
    median = np.empty(3)
    for channel in range(3):
        cumulative = np.cumsum(np.bincount(pixels[:, channel], minlength=256))
        median[channel] = np.searchsorted(cumulative, middle, side="right").mean()
    return median


def bin_stats(sample_bins: np.ndarray, sample_rgb: np.ndarray, selected: np.ndarray) -> BinStats | None:
    chosen = sample_bins[selected].astype(np.intp)
    if not chosen.size:
        return None
    counts = np.bincount(chosen, minlength=BIN_COUNT)
    sums = np.empty((BIN_COUNT, 3))
    # Channel planes are indexed one by one: boolean indexing of (H, W, 3) rows is ~20x slower.
    for channel in range(3):
        sums[:, channel] = np.bincount(chosen, weights=sample_rgb[..., channel][selected], minlength=BIN_COUNT)
    return BinStats(counts, sums)


def group_bins(bins: np.ndarray, counts: np.ndarray, labs: np.ndarray, known: CanonColours, threshold: float,
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


def rgb_of(values: Iterable[float]) -> Rgb:
    """Three channel values (already rounded as the caller wants) as an (r, g, b) of ints."""
    red, green, blue = (int(value) for value in values)
    return red, green, blue
