"""Finds the brand's ingested logo in a design and checks the logo's clear space.

Matching model: inside the logo's box a design shows `alpha * logo + (1 - alpha) * B`, with B the (unknown, locally
flat) colour under the logo. For every offset the best B has a closed form, and every sum the fit needs is a
correlation of the design with a fixed kernel, so one FFT per kernel scores all offsets at once. The score is the
share of the window's variance the fit explains: 1 for the logo exactly as ingested, low for anything else. It
compares absolute colours, and the final score is also capped by the share of the logo's flat interior that keeps
its colour (CIEDE2000 within policy.logo_colour_delta_e), so a recoloured, darkened or inverted logo does not match.

Coarse to fine: every scale between policy.logo_min_width_pct and logo_max_width_pct of the shorter side is searched
in luminance on a downscaled copy where the logo is only a few pixels wide; the best candidates are re-scored in
colour at a finer scale around their position; the winner's box is snapped to the visible footprint at full
resolution (the clear-space check compares distances against thresholds a few pixels away).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from sgd.critique.logo_fit import Fitter, pad_with_border_colour
from sgd.critique.logo_prepared import LUMA, MIN_LOGO_SIDE, SOFT_PAD, PreparedLogo, Template, blur, prepare_logo
from sgd.critique.logo_snap import snap_box
from sgd.critique.logo_space import ClearSpace, check_clear_space
from sgd.critique.policy import CritiquePolicy
from sgd.critique.regions import iou, overlap_area
from sgd.design.colorimetry import ciede2000, srgb_to_lab

__all__ = ["ClearSpace", "LogoMatch", "PreparedLogo", "check_clear_space", "find_logo", "prepare_logo"]

BoxXYWH = tuple[int, int, int, int]

# Coarse search: the template's long side at the downscaled level, and the ratio between successive scales (a logo
# between two scales is at most 19% off its nearest template; verification searches +-20% around it and beyond).
COARSE_LONG_SIDE = 8.0
COARSE_SHORT_SIDE = 4.0
COARSE_MAX_SHORT_SIDE = 400  # bounds the FFT size for extreme wordmarks at the smallest scales
SCALE_STEP = math.sqrt(2)
PEAKS_PER_SCALE = 3
CANDIDATES = 5
COARSE_MIN_SCORE = 0.4  # the logo itself scores 0.8-1.0 there; 0.4 leaves room for noise and clutter
COARSE_RIVAL_MARGIN = 0.1  # once a candidate verifies, others are still checked if their coarse fit is this close
# Verification: the template's long side there, and the scale search around each candidate (in template pixels).
VERIFY_LONG_SIDE = 48.0
VERIFY_GRID_STEP = 0.05  # relative size step of the verification grid
VERIFY_GRID_HALF = 4  # grid sizes each side of the coarse guess: +-20%, past a coarse step (guesses can be one off)
VERIFY_MAX_SIZES = 16  # sizes the grid and its extension may try; the one-pixel climb may add a few
MIN_FLAT_PIXELS = 12  # fewer flat interior pixels than this: too thin a logo for a colour check at this size
MAX_FLAT_SAMPLES = 600


# --- matching -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogoMatch:
    box: BoxXYWH  # x, y, w, h: the logo's visible (alpha > 0) footprint, pixel-accurate
    score: float  # how well the ingested logo explains those pixels, 0..1
    scale: float  # logo width in the design / logo footprint width in the file


@dataclass(frozen=True, slots=True)
class _Candidate:
    score: float
    x: float  # full-resolution position and size of the template's box
    y: float
    width: float
    height: float

    def iou(self, other: _Candidate) -> float:
        return iou((self.x, self.y, self.width, self.height), (other.x, other.y, other.width, other.height))


def find_logo(rgb: np.ndarray, logo: PreparedLogo, policy: CritiquePolicy,
              exclude: Sequence[Sequence[int]] | None = None) -> LogoMatch | None:
    """The ingested logo's placement in `rgb` ((H, W, 3) uint8), or None when nothing scores at least
    policy.logo_match_min_score. Candidates mostly (over half their area) inside an `exclude` box are skipped."""
    image = _as_rgb(rgb)
    height, width = image.shape[:2]
    shorter = min(width, height)
    low = policy.logo_min_width_pct / 100 * shorter
    high = min(policy.logo_max_width_pct / 100 * shorter, width, height / logo.aspect)
    if high < MIN_LOGO_SIDE or high < low:
        return None
    design = Image.fromarray(image)
    candidates = _coarse_candidates(design, logo, max(low, MIN_LOGO_SIDE), high)
    excluded = [tuple(float(v) for v in box) for box in exclude or ()]
    # A logo's flat colours may drift by twice a flat fill's tolerance (resampling, compression), no more.
    colour_tolerance = policy.logo_colour_delta_e
    accepted: list[_Candidate] = []
    accepted_coarse = -math.inf
    for candidate in candidates:
        if candidate.score < COARSE_MIN_SCORE:
            break  # candidates come best first; below this even the blurred luminance fit says "not the logo"
        if candidate.score < accepted_coarse - COARSE_RIVAL_MARGIN:
            break  # a candidate verified already, and the rest scored clearly worse at the coarse level
        if any(_overlap_share(candidate, box) > 0.5 for box in excluded):
            continue
        verified = _verify(image, design, logo, candidate, colour_tolerance, (low, high))
        if verified is not None and verified.score >= policy.logo_match_min_score:
            accepted.append(verified)
            accepted_coarse = max(accepted_coarse, candidate.score)
    # A part of a logo can look like the whole logo smaller (a letter of a wordmark, the tip of a mark): prefer the
    # match that contains the others.
    whole = [match for match in accepted
             if not any(other.width * other.height > match.width * match.height
                        and _overlap_share(match, (other.x, other.y, other.width, other.height)) > 0.8
                        for other in accepted)]
    if not whole:
        return None
    best = max(whole, key=lambda match: match.score)
    box = snap_box(image, logo, (best.x, best.y, best.width, best.height))
    return LogoMatch(box=box, score=round(min(1.0, best.score), 4), scale=round(box[2] / logo.width, 4))


def _as_rgb(rgb: np.ndarray) -> np.ndarray:
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        raise ValueError("expected an (H, W, 3) RGB array")
    return np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)


def _pyramid_plan(low: float, high: float, logo: PreparedLogo, shorter: int) -> tuple[float, dict[int, list[float]]]:
    """The search's logo widths (full-resolution px) by pyramid level: level 0 is the design reduced by the returned
    divisor (where the smallest template has just the pixels it needs), each further level halves the previous one.
    Each width goes to the smallest level where the template keeps COARSE_LONG_SIDE / COARSE_SHORT_SIDE pixels."""
    count = max(1, math.ceil(math.log(high / low) / math.log(SCALE_STEP)) + 1) if high > low else 1
    widths = [low * (high / low) ** (i / (count - 1)) if count > 1 else low for i in range(count)]

    def required_factor(logo_width: float) -> float:
        long_side = max(logo_width, logo_width * logo.aspect)
        short_side = min(logo_width, logo_width * logo.aspect)
        factor = min(max(COARSE_LONG_SIDE / long_side, COARSE_SHORT_SIDE / short_side), COARSE_MAX_SHORT_SIDE / shorter)
        return min(1.0, max(factor, COARSE_LONG_SIDE / long_side))

    exact = 1 / required_factor(widths[0])
    # An integer reduce is several times faster than a resize; rounding may only make the image smaller, as the
    # old plan did (rounding down would enlarge the largest FFTs).
    divisor = float(max(1, round(exact))) if round(exact) >= exact else exact
    levels: dict[int, list[float]] = {}
    for logo_width in widths:
        level = max(0, math.floor(math.log2(1 / (divisor * required_factor(logo_width))) + 1e-9))
        levels.setdefault(level, []).append(logo_width)
    return divisor, levels


def _coarse_candidates(design: Image.Image, logo: PreparedLogo, low: float, high: float) -> list[_Candidate]:
    width, height = design.size
    divisor, plan = _pyramid_plan(low, high, logo, min(width, height))
    if divisor.is_integer():
        level_image = design.reduce(int(divisor)) if divisor > 1 else design
    else:
        level_size = (max(1, round(width / divisor)), max(1, round(height / divisor)))
        level_image = design.resize(level_size, Image.Resampling.BOX, reducing_gap=2.0)
    found: list[_Candidate] = []
    for level in range(max(plan) + 1):
        if level:
            if min(level_image.size) < 4:
                break
            level_image = level_image.reduce(2)
        if level not in plan:
            continue
        level_size = level_image.size
        luma = (np.asarray(level_image, dtype=np.float32) / 255.0) @ LUMA
        # Blurred like the soft templates, with room for their padding at the canvas edge: a template a few pixels
        # wide would otherwise score by how its edges happen to fall on the pixel grid.
        fitter = Fitter(blur(pad_with_border_colour(luma[..., None], SOFT_PAD)))
        scale_x, scale_y = width / level_size[0], height / level_size[1]
        seen: set[tuple[int, int]] = set()
        for logo_width in plan[level]:
            size = (max(1, round(logo_width / scale_x)), max(1, round(logo_width * logo.aspect / scale_y)))
            if size in seen or size[0] > level_size[0] or size[1] > level_size[1]:
                continue
            seen.add(size)
            scores = fitter.scores(logo.template(*size, soft=True), luma_only=True)
            # The padded template at offset (x, y) of the padded level puts the logo at (x, y) of the level.
            for score, x, y in _peaks(scores, size, PEAKS_PER_SCALE):
                found.append(_Candidate(score, x * scale_x, y * scale_y, size[0] * scale_x, size[1] * scale_y))
    found.sort(key=lambda c: c.score, reverse=True)
    kept: list[_Candidate] = []
    for candidate in found:
        if all(candidate.iou(other) < 0.3 for other in kept):
            kept.append(candidate)
            if len(kept) == CANDIDATES:
                break
    return kept


def _peaks(scores: np.ndarray, size: tuple[int, int], count: int) -> list[tuple[float, int, int]]:
    """The `count` best offsets, each at least half a template away from the better ones."""
    radius_x, radius_y = max(1, size[0] // 2), max(1, size[1] // 2)
    # Maxima of half-template blocks first: a selection over every offset is slow on maps with many equal scores
    # (flat areas), and offsets within one block could not both be chosen anyway.
    rows, cols = scores.shape
    padded_rows, padded_cols = -(-rows // radius_y) * radius_y, -(-cols // radius_x) * radius_x
    padded = np.full((padded_rows, padded_cols), -np.inf, dtype=scores.dtype)
    padded[:rows, :cols] = scores
    block_max = padded.reshape(padded_rows // radius_y, radius_y, padded_cols // radius_x, radius_x).max(axis=(1, 3))
    order = np.argsort(block_max, axis=None, kind="stable")[::-1][:count * 8]
    chosen: list[tuple[float, int, int]] = []
    for block_row, block_col in zip(*np.divmod(order, block_max.shape[1]), strict=True):
        top, left = int(block_row) * radius_y, int(block_col) * radius_x
        block = scores[top:top + radius_y, left:left + radius_x]
        row, col = divmod(int(np.argmax(block)), block.shape[1])
        row, col = top + row, left + col
        if all(abs(col - x) > radius_x or abs(row - y) > radius_y for _, x, y in chosen):
            chosen.append((float(scores[row, col]), col, row))
            if len(chosen) == count:
                break
    return chosen




def _verify(image: np.ndarray, design: Image.Image, logo: PreparedLogo, candidate: _Candidate,
            colour_tolerance: float, widths: tuple[float, float]) -> _Candidate | None:
    """Re-scores a coarse candidate in colour at a finer scale, searching nearby sizes and positions. The score is
    the lower of the fit and the share of the logo's flat-colour interior that keeps its colour (CIEDE2000 within
    `colour_tolerance`): a recoloured logo can keep its shape's fit, never its colours."""
    height, width = image.shape[:2]
    long_side = max(candidate.width, candidate.height)
    # About VERIFY_LONG_SIDE^2 template pixels whatever the aspect (a wordmark keeps its letters).
    factor = min(1.0, VERIFY_LONG_SIDE / math.sqrt(candidate.width * candidate.height))
    margin = 0.1 * long_side + 1.5 * max(1.0, long_side / COARSE_LONG_SIDE)  # scale and coarse-pixel error
    left = max(0, math.floor(candidate.x - margin))
    top = max(0, math.floor(candidate.y - margin))
    right = min(width, math.ceil(candidate.x + candidate.width + margin))
    bottom = min(height, math.ceil(candidate.y + candidate.height + margin))
    crop = design.crop((left, top, right, bottom))
    size = (max(1, round(crop.width * factor)), max(1, round(crop.height * factor)))
    if factor < 1:
        crop = crop.resize(size, Image.Resampling.BOX)
    scale_x, scale_y = (right - left) / size[0], (bottom - top) / size[1]
    # Extend the crop by the soft template's padding, so that a logo touching the canvas edge still has room for
    # its padded template.
    pixels = pad_with_border_colour(np.asarray(crop, dtype=np.float32) / 255.0, SOFT_PAD)
    left, top = left - SOFT_PAD * scale_x, top - SOFT_PAD * scale_y
    size = (size[0] + 2 * SOFT_PAD, size[1] + 2 * SOFT_PAD)
    blurred = blur(pixels)
    # The size search fits luminance (one channel: a third of the transforms); the winner is re-fitted in colour.
    luma_fitter = Fitter(np.ascontiguousarray((blurred @ LUMA)[..., None]))
    scored: dict[int, tuple[float, int, int] | None] = {}

    def fits(template_width: int) -> bool:
        template_height = max(1, round(template_width * logo.aspect))
        return (widths[0] <= template_width * scale_x <= widths[1] * (1 + 1e-6)  # the policy's size range
                and template_width + 2 * SOFT_PAD <= size[0] and template_height + 2 * SOFT_PAD <= size[1])

    def best_offset(fitter: Fitter, template_width: int, luma_only: bool) -> tuple[float, int, int]:
        """(fit, column, row) of the best offset of the logo `template_width` wide (crop pixels)."""
        template = logo.template(template_width, max(1, round(template_width * logo.aspect)), soft=True)
        scores = fitter.scores(template, luma_only=luma_only)
        row, col = divmod(int(np.argmax(scores)), scores.shape[1])
        return float(scores[row, col]), col + SOFT_PAD, row + SOFT_PAD  # the soft box has padding

    def score_at(template_width: int) -> tuple[float, int, int] | None:
        if template_width not in scored:
            scored[template_width] = best_offset(luma_fitter, template_width, True) if fits(template_width) else None
        return scored[template_width]

    # Sizes on a grid spanning the coarse step, then one-pixel steps from the best: a logo with repeating parts
    # (the letters of a wordmark) has side peaks in size, so a climb from the coarse guess alone can stall.
    guess = round(candidate.width / scale_x)
    step = max(1, round(VERIFY_GRID_STEP * guess))
    grid = {min(max(guess + k * step, math.ceil(widths[0] / scale_x)), math.floor(widths[1] / scale_x))
            for k in range(-VERIFY_GRID_HALF, VERIFY_GRID_HALF + 1)}
    best, current = None, guess
    for trial in sorted(grid):
        result = score_at(trial)
        if result is not None and (best is None or result[0] > best[0]):
            best, current = result, trial
    # A best size at the grid's end: the coarse guess was more than a grid off; go on while the fit improves.
    while best is not None and current in (min(scored), max(scored)) and len(scored) < VERIFY_MAX_SIZES:
        trial = current + (step if current == max(scored) else -step)
        result = score_at(trial)
        if result is None or result[0] <= best[0]:
            break
        best, current = result, trial
    while best is not None and step > 1 and len(scored) < VERIFY_MAX_SIZES + VERIFY_GRID_HALF:
        step = max(1, step // 2)
        for trial in (current - step, current + step):
            result = score_at(trial)
            if result is not None and result[0] > best[0]:
                best, current = result, trial
    if best is None:
        return None
    template = logo.template(current, max(1, round(current * logo.aspect)), soft=True)
    colour_scores = Fitter(blurred).scores(template, luma_only=False)
    peak_row, peak_col = divmod(int(np.argmax(colour_scores)), colour_scores.shape[1])
    fit = float(colour_scores[peak_row, peak_col])
    col, row = peak_col + SOFT_PAD, peak_row + SOFT_PAD  # the soft box has padding
    template = logo.template(current, max(1, round(current * logo.aspect)))
    agreement = _colour_agreement(template, pixels, col, row, colour_tolerance)
    # A verification pixel spans several design pixels: refine the size and position between the sampled ones
    # (the vertex of a parabola through the best score and its neighbours), keeping the fitted centre.
    neighbours = [scored.get(current + k) for k in (-1, 1)]
    size_shift = _vertex(neighbours[0][0], best[0], neighbours[1][0]) if all(neighbours) else 0.0  # type: ignore
    refined_width = (current + size_shift) * scale_x
    refined_height = refined_width * logo.aspect
    shift_x = _vertex(*_around(colour_scores, peak_row, peak_col, 1))
    shift_y = _vertex(*_around(colour_scores, peak_row, peak_col, 0))
    centre_x = left + (col + shift_x + template.shape[1] / 2) * scale_x
    centre_y = top + (row + shift_y + template.shape[0] / 2) * scale_y
    return _Candidate(min(fit, agreement), centre_x - refined_width / 2, centre_y - refined_height / 2,
                      refined_width, refined_height)


def _around(scores: np.ndarray, row: int, col: int, axis: int) -> tuple[float, float, float]:
    """The score at (row, col) and its neighbours along `axis` (0: rows, 1: columns); the centre's value past
    the map's edge."""
    centre = float(scores[row, col])
    if axis == 1:
        before = float(scores[row, col - 1]) if col > 0 else centre
        after = float(scores[row, col + 1]) if col + 1 < scores.shape[1] else centre
    else:
        before = float(scores[row - 1, col]) if row > 0 else centre
        after = float(scores[row + 1, col]) if row + 1 < scores.shape[0] else centre
    return before, centre, after


def _vertex(before: float, centre: float, after: float) -> float:
    """Offset (-0.5..0.5) of the peak of the parabola through three equally spaced samples around a maximum."""
    curvature = before - 2 * centre + after
    if curvature >= 0:
        return 0.0
    return float(np.clip(0.5 * (before - after) / curvature, -0.5, 0.5))


def _colour_agreement(template: Template, pixels: np.ndarray, col: int, row: int, tolerance: float) -> float:
    """The share of the template's flat, opaque interior whose colour the design keeps within `tolerance`
    (CIEDE2000). Flat: the template's 3x3 neighbourhood is one colour, so a half-pixel misalignment cannot
    compare a pixel with its neighbour's colour. 1.0 when the logo has no such interior (the fit decides)."""
    th, tw = template.shape
    window = pixels[row:row + th, col:col + tw]
    if window.shape[:2] != (th, tw):
        return 0.0
    interior = template.spectra.get("flat")
    if interior is None:
        interior = _flat_interior(template)
        template.spectra["flat"] = interior
    rows, cols, expected = interior
    if rows.size == 0:
        return 1.0
    seen = srgb_to_lab(window[rows, cols] * 255.0)
    return float(np.mean(ciede2000(expected, seen) <= tolerance))


def _flat_interior(template: Template) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns and CIELAB colours of (a sample of) the template's flat opaque pixels; empty if too few."""
    opaque = template.alpha >= 0.995
    colours = template.premultiplied
    flat = opaque.copy()
    flat[:1], flat[-1:], flat[:, :1], flat[:, -1:] = False, False, False, False
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                shifted = np.roll(colours, (dy, dx), axis=(0, 1))
                flat &= np.roll(opaque, (dy, dx), axis=(0, 1)) & (np.abs(shifted - colours).max(-1) <= 2 / 255)
    rows, cols = np.nonzero(flat)
    if rows.size < MIN_FLAT_PIXELS:
        rows, cols = rows[:0], cols[:0]
    elif rows.size > MAX_FLAT_SAMPLES:
        pick = np.linspace(0, rows.size - 1, MAX_FLAT_SAMPLES).astype(int)
        rows, cols = rows[pick], cols[pick]
    return rows, cols, srgb_to_lab(colours[rows, cols] * 255.0)



def _overlap_share(candidate: _Candidate, box: Sequence[float]) -> float:
    area = candidate.width * candidate.height
    return overlap_area((candidate.x, candidate.y, candidate.width, candidate.height), box) / area if area else 0.0

