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

import hashlib
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from PIL import Image

from sgd.critique.policy import CritiquePolicy, Severity
from sgd.critique.regions import connected_components, grow, iou, overlap_area, shrink
from sgd.design.colorimetry import ciede2000, srgb_to_lab
from sgd.lru import LruCache

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
SOFT_SIGMA = 1.0  # verification blur, in verification pixels
SOFT_PAD = 3
_SOFT_KERNEL = np.exp(-0.5 * (np.arange(-3, 4) / SOFT_SIGMA) ** 2).astype(np.float32)
_SOFT_KERNEL /= _SOFT_KERNEL.sum()
MAX_LOGO_PIXELS = 4096 * 4096  # an ingested logo larger than this is downscaled once when prepared
MIN_LOGO_SIDE = 4
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # Pillow's "L" weights
VISIBLE_CONTRAST = 0.08  # channel difference (0..1) below which a logo barely shows on its background
ROUNDING_TOLERANCE_PX = 1.0  # clear space: pixel rounding, nothing more
RINGING_SHARE = 0.15
# A plate or panel behind the logo: one colour over this share of a band just outside the logo box, on every side.
PLATE_BAND_GAP = 2  # px between the logo box and the band (the snapped box may be a pixel or two inside the edge)
PLATE_BAND_DEPTH = 3
PLATE_SIDE_SHARE = 0.6
PLATE_FRINGE_PX = 2
SNAP_TOLERANCE = 0.05  # how far (share of the logo's size) a snapped edge may sit from the fitted template's
SNAP_NOISE_FLOOR = 1.5  # channel levels: a difference of 1 is rounding; 2 is a resampled edge's faint ripple


# --- the prepared logo ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Template:
    """The logo resampled to one size: premultiplied colour, alpha, and the sums every offset's fit reuses."""

    premultiplied: np.ndarray  # (h, w, 3) float32, 0..1
    alpha: np.ndarray  # (h, w) float32, 0..1
    luma: np.ndarray  # (h, w) premultiplied luminance
    spectra: dict[Any, Any] = field(default_factory=dict)  # FFTs of the kernels, by (channels, fft shape)

    @property
    def shape(self) -> tuple[int, int]:
        return self.alpha.shape  # type: ignore[return-value]


class PreparedLogo:
    """An ingested logo decoded once: cropped to its visible (alpha > 0) pixels, with resampled templates cached."""

    __slots__ = ("_templates", "digest", "height", "image", "width")
    _TEMPLATE_CACHE = 96

    def __init__(self, digest: str, image: Image.Image) -> None:
        self.digest = digest
        self.image = image  # RGBa (premultiplied), cropped to the footprint
        self.width, self.height = image.size
        self._templates: LruCache[tuple[int, int, bool], _Template] = LruCache(self._TEMPLATE_CACHE)

    @property
    def aspect(self) -> float:
        """Height over width of the footprint."""
        return self.height / self.width

    def template(self, width: int, height: int, soft: bool = False) -> _Template:
        """The logo at `width` x `height`; `soft`: blurred by SOFT_SIGMA and padded by SOFT_PAD transparent
        pixels on every side (both sides of the fit blurred alike make it tolerant of sub-pixel placement)."""
        key = (max(1, width), max(1, height), soft)
        return self._templates.get_or_make(key, lambda: self._made(*key))

    def _made(self, width: int, height: int, soft: bool) -> _Template:
        made = self._resample(width, height)
        return _soften(made) if soft else made

    def _resample(self, width: int, height: int) -> _Template:
        shrinking = width <= self.width and height <= self.height
        # Box filtering when shrinking, like the design's own downscale: both sides average the same areas.
        resample = Image.Resampling.BOX if shrinking else Image.Resampling.BICUBIC
        pixels = np.asarray(self.image.resize((width, height), resample), dtype=np.float32) / 255.0
        alpha = np.clip(pixels[..., 3], 0.0, 1.0)
        premultiplied = np.minimum(pixels[..., :3], alpha[..., None])
        return _Template(np.ascontiguousarray(premultiplied), np.ascontiguousarray(alpha), premultiplied @ LUMA)


def _soften(template: _Template) -> _Template:
    pad = ((SOFT_PAD, SOFT_PAD), (SOFT_PAD, SOFT_PAD))
    premultiplied = _blur(np.pad(template.premultiplied, (*pad, (0, 0))))
    alpha = _blur(np.pad(template.alpha, pad))
    return _Template(premultiplied, alpha, premultiplied @ LUMA)


def _blur(planes: np.ndarray) -> np.ndarray:
    """Separable Gaussian blur (SOFT_SIGMA) of an (h, w) or (h, w, c) float32 array, edges extended."""
    radius = len(_SOFT_KERNEL) // 2
    out = np.asarray(planes, dtype=np.float32)
    for axis in (0, 1):
        widths = [(0, 0)] * out.ndim
        widths[axis] = (radius, radius)
        padded = np.pad(out, widths, mode="edge")
        length = out.shape[axis]
        # Shifted views (slices, no copies) weighted and summed in place.
        window = [slice(None)] * out.ndim
        window[axis] = slice(0, length)
        out = padded[tuple(window)] * _SOFT_KERNEL[0]
        for i in range(1, len(_SOFT_KERNEL)):
            window[axis] = slice(i, i + length)
            out += padded[tuple(window)] * _SOFT_KERNEL[i]
    return np.ascontiguousarray(out, dtype=np.float32)


_PREPARED_LIMIT = 8  # a critique uses one brand's logo; a warm container sees few brands
_prepared: LruCache[str, PreparedLogo | None] = LruCache(_PREPARED_LIMIT)


def prepare_logo(logo_png: bytes) -> PreparedLogo | None:
    """The logo ready for matching (cached by content in this process), or None when it cannot be used:
    undecodable bytes, a fully transparent image, or a footprint under 4 px."""
    digest = hashlib.sha256(logo_png).hexdigest()
    return _prepared.get_or_make(digest, lambda: _decode(digest, logo_png))


def _decode(digest: str, data: bytes) -> PreparedLogo | None:
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_LOGO_PIXELS * 4:
                return None
            logo = opened.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        return None
    bounds = logo.getchannel("A").getbbox()
    if bounds is None:
        return None
    logo = logo.crop(bounds)
    if logo.width * logo.height > MAX_LOGO_PIXELS:
        factor = math.sqrt(MAX_LOGO_PIXELS / (logo.width * logo.height))
        logo = logo.resize((max(1, int(logo.width * factor)), max(1, int(logo.height * factor))),
                           Image.Resampling.BOX)
    if min(logo.size) < MIN_LOGO_SIDE:
        return None
    return PreparedLogo(digest, logo.convert("RGBa"))


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
    box = _snap(image, logo, best)
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
        fitter = _Fitter(_blur(_pad_with_border_colour(luma[..., None], SOFT_PAD)))
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


def _fast_length(n: int) -> int:
    """The smallest 2^a 3^b 5^c >= n (pocketfft is fastest there)."""
    best = 1 << max(0, (n - 1).bit_length())
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            candidate = power35
            while candidate < n:
                candidate *= 2
            best = min(best, candidate)
            power35 *= 3
        power5 *= 5
    return best


class _Fitter:
    """Scores every offset of a template over one image (h, w, c) by the compositing fit described above."""

    def __init__(self, image: np.ndarray) -> None:
        self.height, self.width, self.channels = image.shape
        self.fft_shape = (_fast_length(self.height), _fast_length(self.width))
        # Transforms in single precision (twice as fast; the fit's terms need ~1e-4 relative accuracy), window sums
        # from float64 integral images (differences of large sums).
        planes = [np.ascontiguousarray(image[..., c], dtype=np.float32) for c in range(self.channels)]
        self.spectra = [np.fft.rfft2(plane, s=self.fft_shape) for plane in planes]
        self.integrals = [_integral(plane) for plane in planes]
        self.integral_squares = _integral(cast(np.ndarray, sum(np.square(plane, dtype=np.float64) for plane in planes)))

    @staticmethod
    def _box(integral: np.ndarray, th: int, tw: int) -> np.ndarray:
        out = integral[th:, tw:] - integral[:-th, tw:]
        out -= integral[th:, :-tw]
        out += integral[:-th, :-tw]
        return out

    def _kernels(self, template: _Template, luma_only: bool) -> tuple[list[np.ndarray], np.ndarray, _Constants]:
        key = (luma_only, self.fft_shape)
        cached = template.spectra.get(key)
        if cached is None:
            planes = [template.luma] if luma_only else [template.premultiplied[..., c] for c in range(3)]
            planes = [np.asarray(plane, dtype=np.float32) for plane in planes]
            conj = [np.conj(np.fft.rfft2(plane, s=self.fft_shape)) for plane in planes]
            alpha = np.asarray(template.alpha, dtype=np.float32)
            cached = (conj, np.conj(np.fft.rfft2(alpha, s=self.fft_shape)), _Constants.of(template, planes))
            template.spectra[key] = cached
        return cached

    def scores(self, template: _Template, luma_only: bool) -> np.ndarray:
        """The fit's share of explained variance at every valid offset: (H - th + 1, W - tw + 1), float32."""
        th, tw = template.shape
        rows, cols = self.height - th + 1, self.width - tw + 1
        logo_planes, alpha_conj, constants = self._kernels(template, luma_only)
        count = th * tw
        # Residual summed over channels, with B at its optimum:
        # sum(I^2) - 2 sum(I P) + sum(P^2) - (sum(I (1-a)) - sum(P (1-a)))^2 / sum((1-a)^2)
        product = self.spectra[0] * logo_planes[0]
        for spectrum, kernel in zip(self.spectra[1:], logo_planes[1:], strict=True):
            product += spectrum * kernel
        cross = np.fft.irfft2(product, s=self.fft_shape)[:rows, :cols]
        squares = self._box(self.integral_squares, th, tw)
        residual = squares.astype(np.float32)
        residual -= 2.0 * cross
        residual += np.float32(constants.logo_energy)
        variance = squares  # float64 until the window means are out: sum(I^2) - sum(I)^2 / n cancels
        for c in range(self.channels):
            sums = self._box(self.integrals[c], th, tw)
            variance -= np.square(sums) / count
            if constants.transparent_energy > 1e-6:
                with_alpha = np.fft.irfft2(self.spectra[c] * alpha_conj, s=self.fft_shape)[:rows, :cols]
                offset = sums.astype(np.float32)  # sum(I (1-a)) - sum(P (1-a))
                offset -= with_alpha
                offset -= np.float32(constants.logo_under_transparent[c])
                np.square(offset, out=offset)
                offset *= np.float32(1.0 / constants.transparent_energy)
                residual -= offset
        # The share of the window's variance the logo explains. A window with less variance than a faintly visible
        # logo would bring explains nothing: otherwise a flat window "fits" any logo drawn over its own colour.
        floor = np.float32(count * self.channels * constants.visible_variance)
        explained = variance.astype(np.float32)
        np.maximum(residual, 0.0, out=residual)
        score = explained - residual
        np.maximum(explained, floor, out=explained)
        score /= explained
        return score


@dataclass(frozen=True, slots=True)
class _Constants:
    """A template's sums that do not depend on the offset."""

    transparent_energy: float  # sum((1 - a)^2)
    logo_energy: float  # sum over planes of sum(P^2)
    logo_under_transparent: list[float]  # per plane, sum(P (1 - a))
    visible_variance: float  # per pixel and channel: what a faintly visible logo adds to a window

    @staticmethod
    def of(template: _Template, planes: list[np.ndarray]) -> _Constants:
        transparent = 1.0 - template.alpha.astype(np.float64)
        coverage = float(template.alpha.mean())
        return _Constants(
            transparent_energy=float(np.square(transparent).sum()),
            logo_energy=float(sum(np.square(plane, dtype=np.float64).sum() for plane in planes)),
            logo_under_transparent=[float((plane * transparent).sum()) for plane in planes],
            visible_variance=max(1e-4, VISIBLE_CONTRAST ** 2 * coverage * (1.0 - coverage)))


def _integral(plane: np.ndarray) -> np.ndarray:
    """Summed-area table with a zero first row and column (float64: differences of large sums stay exact)."""
    table = np.zeros((plane.shape[0] + 1, plane.shape[1] + 1), dtype=np.float64)
    np.cumsum(np.cumsum(plane, axis=0, dtype=np.float64), axis=1, out=table[1:, 1:])
    return table


def _pad_with_border_colour(planes: np.ndarray, pad: int) -> np.ndarray:
    """(h, w, c) padded on every side with the most common colour of its outermost pixels: beyond the canvas
    edge the fit should see the background, not a logo that touches the edge repeated."""
    border = np.concatenate([planes[0], planes[-1], planes[:, 0], planes[:, -1]])
    levels = np.round(border * 31).astype(np.int32)
    keys = np.zeros(len(border), dtype=np.int64)
    for channel in range(planes.shape[2]):
        keys = keys * 32 + levels[:, channel]
    values, counts = np.unique(keys, return_counts=True)
    colour = border[keys == values[np.argmax(counts)]].mean(0)
    out = np.empty((planes.shape[0] + 2 * pad, planes.shape[1] + 2 * pad, planes.shape[2]), dtype=np.float32)
    out[...] = colour
    out[pad:pad + planes.shape[0], pad:pad + planes.shape[1]] = planes
    return out


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
    pixels = _pad_with_border_colour(np.asarray(crop, dtype=np.float32) / 255.0, SOFT_PAD)
    left, top = left - SOFT_PAD * scale_x, top - SOFT_PAD * scale_y
    size = (size[0] + 2 * SOFT_PAD, size[1] + 2 * SOFT_PAD)
    blurred = _blur(pixels)
    # The size search fits luminance (one channel: a third of the transforms); the winner is re-fitted in colour.
    luma_fitter = _Fitter(np.ascontiguousarray((blurred @ LUMA)[..., None]))
    scored: dict[int, tuple[float, int, int] | None] = {}

    def fits(template_width: int) -> bool:
        template_height = max(1, round(template_width * logo.aspect))
        return (widths[0] <= template_width * scale_x <= widths[1] * (1 + 1e-6)  # the policy's size range
                and template_width + 2 * SOFT_PAD <= size[0] and template_height + 2 * SOFT_PAD <= size[1])

    def best_offset(fitter: _Fitter, template_width: int, luma_only: bool) -> tuple[float, int, int]:
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
    colour_scores = _Fitter(blurred).scores(template, luma_only=False)
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


def _colour_agreement(template: _Template, pixels: np.ndarray, col: int, row: int, tolerance: float) -> float:
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


def _flat_interior(template: _Template) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def _snap(image: np.ndarray, logo: PreparedLogo, match: _Candidate) -> BoxXYWH:
    """The visible footprint at full resolution: pixels that differ from the colour around the logo, connected to
    where the template says the logo is. Falls back to the template's box on busy backgrounds."""
    height, width = image.shape[:2]
    predicted = (round(match.x), round(match.y), max(1, round(match.width)), max(1, round(match.height)))
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
        return _clip_box(predicted, width, height)
    inner[y0:y1, x0:x1] = footprint[y0 - py:y1 - py, x0 - px:x1 - px]
    ring = np.ones(region.shape[:2], dtype=bool)
    ring[max(0, py - 2):py + predicted[3] + 2, max(0, px - 2):px + predicted[2] + 2] = False
    if ring.sum() < 8:
        return _clip_box(predicted, width, height)
    background = np.median(region[ring], axis=0)
    difference = _channel_distance(region, background)
    noise = float(np.percentile(difference[ring], 98))
    contrast = float(np.percentile(difference[inner], 75)) if inner.any() else 0.0
    threshold = max(SNAP_NOISE_FLOOR, 2.0 * noise + 1.0)
    if noise > SNAP_NOISE_FLOOR:
        # Lossy compression rings around edges with a fraction of their contrast: not the logo's footprint.
        threshold = max(threshold, RINGING_SHARE * contrast)
    if contrast < 3 * threshold or np.mean(difference[ring] > threshold) > 0.35:
        return _clip_box(predicted, width, height)  # busy or low-contrast surroundings: trust the template
    visible = difference > threshold
    seed = visible & inner
    if not seed.any():
        return _clip_box(predicted, width, height)
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


def _clip_box(box: BoxXYWH, width: int, height: int) -> BoxXYWH:
    x0, y0 = max(0, box[0]), max(0, box[1])
    x1, y1 = min(width, box[0] + box[2]), min(height, box[1] + box[3])
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


def _overlap_share(candidate: _Candidate, box: Sequence[float]) -> float:
    area = candidate.width * candidate.height
    return overlap_area((candidate.x, candidate.y, candidate.width, candidate.height), box) / area if area else 0.0


# --- clear space ----------------------------------------------------------------------------------------------------


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
                      elements: Sequence[Sequence[int]] | None = None) -> ClearSpace:
    """The logo's clear space: canvas edges and other elements closer than safe_zone_pct of the shorter side.

    `elements` ([x, y, w, h] boxes; SGD renders) gives exact geometry; elements that contain the logo (its plate, a
    background panel) are not intrusions. Without them (external images) intrusions are detected in the pixels of
    the zone around the logo: colours other than the zone's dominant one, after dropping anti-aliasing fringes and
    specks thinner than 3 px."""
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
        gaps = _detected_gaps(rgb, box, required, limit, policy)
        source = "detected"
    zone = _clip_box((x - math.ceil(required), y - math.ceil(required), w + 2 * math.ceil(required),
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


def _detected_gaps(rgb: np.ndarray, logo: BoxXYWH, required: float, limit: float, policy: CritiquePolicy
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
    differs = outside & ~background
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
    for nearest in firsts:
        if gaps[nearest] >= limit:
            continue
        side = SIDES[int(by_side[:, nearest].argmax())]
        bx, by, bw, bh = components.box(int(component[nearest]))
        found.append((float(max(0, gaps[nearest])), (side, (bx + left, by + top, bw, bh))))
    return found


def _background_mask(region: np.ndarray, outside: np.ndarray, inner: tuple[int, int, int, int],
                     tolerance: int) -> np.ndarray:
    """The zone's pixels that are the logo's background rather than another element: the colour right around the
    logo when it surrounds the logo on every side (a plate or panel behind it, connected to the logo), plus the
    dominant colour of what lies beyond a plate (the canvas it sits on). When nothing surrounds the logo (a photo,
    an element touching it), the dominant colour of the whole zone."""
    backdrop_colour = _surrounding_colour(region, inner, tolerance)
    if backdrop_colour is None:
        return _channel_distance(region, _dominant_colour(_sample(region, outside))) <= tolerance
    near = _channel_distance(region, backdrop_colour) <= tolerance
    components = connected_components(near.view(np.int8), ignore=0, pixel_map=True)
    owner = components.pixel_component
    assert owner is not None
    touching = np.unique(owner[_band(near.shape, inner, PLATE_BAND_GAP, PLATE_BAND_DEPTH) & near])
    backdrop = np.isin(owner, touching[touching >= 0])
    reaches_edge = backdrop[0].any() or backdrop[-1].any() or backdrop[:, 0].any() or backdrop[:, -1].any()
    if reaches_edge:
        # The canvas itself or a panel larger than the zone: beyond it, only the zone's dominant colour is background.
        beyond_colour = _dominant_colour(_sample(region, outside))
        if _channel_distance(beyond_colour[None], backdrop_colour)[0] <= tolerance:
            return backdrop | near  # the logo sits on the zone's own background: every other colour is an element
    else:
        # A plate inside the zone: what surrounds it is the canvas it sits on; intrusions are measured beyond it.
        rest = outside & ~backdrop
        if not rest.any():
            return backdrop
        beyond_colour = _dominant_colour(_sample(region, rest))
    beyond = _channel_distance(region, beyond_colour) <= tolerance
    # Where the plate meets what lies beyond it, lossy compression rings a few pixels thick: background too (an
    # element touching the plate keeps its edge, which has no beyond-colour next to it).
    fringe = grow(backdrop, PLATE_FRINGE_PX) & grow(beyond, PLATE_FRINGE_PX)
    return backdrop | beyond | fringe


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
        if np.mean(_channel_distance(strip, colour) <= tolerance) < PLATE_SIDE_SHARE:
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


def _channel_distance(pixels: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """max over channels of |pixel - colour| for (..., 3) pixels (per-plane maxima: a last-axis reduce is slow)."""
    planes = [np.abs(pixels[..., c].astype(np.int16) - np.int16(round(float(colour[c])))) for c in range(3)]
    return np.maximum(np.maximum(planes[0], planes[1]), planes[2])


def _dominant_colour(pixels: np.ndarray) -> np.ndarray:
    """The most common colour (5 bits a channel bins), as the mean of its bin's pixels."""
    quantised = pixels.astype(np.int32) >> 3
    bins = (quantised[:, 0] << 10) | (quantised[:, 1] << 5) | quantised[:, 2]
    winner = int(np.bincount(bins, minlength=32768).argmax())
    return pixels[bins == winner].mean(0).round().astype(np.int16)
