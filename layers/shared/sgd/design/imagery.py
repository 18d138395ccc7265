"""The picture in a design: decoded, the plan's treatment of it, and its re-toning in palette colours."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from sgd.design.color import parse_hex

ImageryTreatment = Literal["as_is", "palette", "duotone"]
IMAGERY_TREATMENTS: tuple[ImageryTreatment, ...] = ("as_is", "palette", "duotone")
# The palette treatment re-tones a picture in palette colours by lightness (a posterised duotone/tritone). Palette
# colours closer in luma than this would only band the picture's noise, so the later of such a pair is not a tone.
TONE_MIN_LUMA_STEP = 24
TONE_DETAIL_PX = 360  # the treated picture keeps about this much detail across its shorter side: no speckle
TONE_BLUR = 1  # box-blur radius at the reduced size: evens out grain before the lightness picks a tone
TONE_MAX_GAIN = 3.0  # how far a low-contrast picture's tones are stretched (more would band its noise)
TONE_CLIP_SHARE = 0.02  # darkest and lightest shares of the picture ignored when stretching its tones


def decode_imagery(data: bytes, notes: list[str]) -> Image.Image | None:
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.draft("RGB", (4096, 4096))  # JPEG: decode at a reduced scale when the source is huge
            return ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        notes.append("imagery left out: the picture could not be read")
        return None


def imagery_treatment(layout_plan: Mapping[str, Any], notes: list[str],
                      default: ImageryTreatment = "as_is") -> ImageryTreatment:
    """The plan's treatment of the picture, else `default` (the brand style's)."""
    treatment = layout_plan.get("imagery_treatment") or default
    if treatment not in IMAGERY_TREATMENTS:
        notes.append(f"unknown imagery_treatment {treatment!r}: the picture was used as it is")
        return "as_is"
    return treatment  # type: ignore[no-any-return]


def map_to_palette(picture: Image.Image, palette: Sequence[str]) -> Image.Image:
    """The picture re-toned in palette colours, every pixel exactly one of them: its lightness (smoothed, so tone
    boundaries are clean curves without speckle, and stretched to the palette's range when the picture is flat) picks
    the palette colour of the nearest lightness. Deterministic and a few milliseconds for a 1080x1080 picture."""
    tones = _palette_tones(palette)
    size = picture.size
    if len(tones) == 1:
        return Image.new("RGB", size, parse_hex(tones[0][1]))
    luma = picture.convert("L")
    factor = max(2, round(min(size) / TONE_DETAIL_PX))
    if min(size) >= 4 * factor:
        # Reduced, lightly blurred and enlarged again: a band-limited lightness field thresholds into smooth regions.
        luma = luma.reduce(factor).filter(ImageFilter.BoxBlur(TONE_BLUR)).resize(size, Image.Resampling.BILINEAR)
    index = luma.point(_tone_lut(luma.histogram(), [level for level, _color in tones]))
    rgb = [parse_hex(color) for _level, color in tones]
    return Image.merge("RGB", [index.point([rgb[i][channel] for i in range(len(rgb))] + [0] * (256 - len(rgb)))
                               for channel in range(3)])


def duotone(picture: Image.Image, palette: Sequence[str]) -> Image.Image:
    """The picture as a duotone: its lightness mapped smoothly from the palette's darkest colour (shadows) to its
    lightest (highlights). Keeps the picture's detail; its colours are blends of two palette colours."""
    tones = sorted(dict.fromkeys(palette), key=_luma)
    dark, light = parse_hex(tones[0]), parse_hex(tones[-1])
    luma = ImageOps.autocontrast(picture.convert("L"), cutoff=1)
    return ImageOps.colorize(luma, dark, light)


SALIENCY_SIDE = 160  # px: the saliency map is computed on a copy this large along its longer side
CUT_PENALTY = 2.0  # how much a crop edge through busy detail (text, a face's features) costs against what it keeps


def smart_fit(picture: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The picture scaled to cover `size` (aspect kept, never stretched) and cropped to it where it keeps the most
    of the picture's salient detail: a window sliding along the axis that has to be cut. Faces and lines of text
    found in the picture (sgd.design.subjects) are kept whole or left out whole wherever a window allows it (faces
    first, then text), and the window keeping the most faces whole is preferred; among the rest, the window is
    scored on an edge-and-colour saliency map, with crop edges through quiet parts rather than busy detail. A
    picture that already has the target's aspect is only scaled."""
    return ImageOps.fit(picture, size, Image.Resampling.LANCZOS, centering=salient_centering(picture, size))


def salient_centering(picture: Image.Image, size: tuple[int, int]) -> tuple[float, float]:
    """ImageOps.fit's centering (0..1 along each axis) that keeps the most salient window of the target's aspect."""
    width, height = picture.size
    target_w, target_h = size
    if width <= 0 or height <= 0 or target_w <= 0 or target_h <= 0:
        return 0.5, 0.5
    scale = SALIENCY_SIDE / max(width, height)
    small = picture.convert("RGB").resize((max(1, round(width * scale)), max(1, round(height * scale))),
                                          Image.Resampling.BILINEAR)
    saliency = _saliency(np.asarray(small, dtype=np.float64))
    crop_horizontally = width * target_h > height * target_w  # the picture is wider than the target
    profile = saliency.sum(axis=0) if crop_horizontally else saliency.sum(axis=1)
    length = len(profile)
    crop = height * target_w / target_h if crop_horizontally else width * target_h / target_w  # picture px
    window = min(length, max(1, round(crop * scale)))
    if window >= length:
        return 0.5, 0.5
    cumulative = np.concatenate([[0.0], np.cumsum(profile)])
    kept = cumulative[window:] - cumulative[:-window]
    edges = profile[:length - window + 1] + profile[window - 1:]
    score = kept - CUT_PENALTY * edges
    centre = (length - window) / 2
    face_cut, text_cut, faces, penalty = _whole(picture, crop_horizontally, length - window + 1, crop, profile, scale)
    score = score - penalty
    best = max(range(len(score)), key=lambda start: (-round(float(face_cut[start]), 2),
                                                     -round(float(text_cut[start]), 2), int(faces[start]),
                                                     round(float(score[start]), 6), -abs(start - centre)))
    position = best / (length - window)
    return (position, 0.5) if crop_horizontally else (0.5, position)


PADDED_CUT_COST = 0.5  # a padded box cut (a letter missed at a line's end; a face's hair and chin) costs its own
# saliency this many times over
CUT_TOLERANCE = 0.005  # a box's share cut off below which it counts as whole (rounding)


def _whole(picture: Image.Image, crop_horizontally: bool, starts: int, crop: float, profile: np.ndarray,
           scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each of the `starts` window positions along the cut axis (the crop `crop` picture px long, at the offset
    ImageOps.fit gives that position): how much it cuts the faces found and the text lines found, how many faces
    it keeps whole, and the saliency it costs for cutting padded boxes. A box's cut is the smaller of its parts
    inside and outside the crop over its length (0 kept whole or left out whole, 0.5 cut in half), measured in the
    picture's own pixels. Faces, then text lines, come before the saliency (the cascade seldom finds a face that is
    not there; a line is kept only when it reads as text, sgd.design.subjects.reads_as_text: before that rule the
    stroke detector's rows of stripes outweighed the subject, and text was weighed against the saliency). A box
    longer than the crop cannot be kept whole and is left to the saliency."""
    from sgd.design.subjects import keep_whole

    face_cut, text_cut, penalty = np.zeros(starts), np.zeros(starts), np.zeros(starts)
    faces = np.zeros(starts, dtype=np.int64)
    full = picture.width if crop_horizontally else picture.height
    start = np.linspace(0.0, full - crop, starts) if starts > 1 else np.zeros(1)

    def cut_of(low: float, high: float) -> tuple[np.ndarray, np.ndarray] | None:
        """(the cut, kept whole inside) per position; None for a box longer than the crop."""
        span = high - low
        if span <= 0 or span > crop:
            return None
        inside = np.clip(np.minimum(high, start + crop) - np.maximum(low, start), 0, None)
        return np.minimum(inside, span - inside) / span, inside >= span - 1e-6

    def mass(low: float, high: float) -> float:
        """The saliency profile over a span of the picture."""
        return float(profile[int(low * scale):max(int(low * scale) + 1, math.ceil(high * scale))].sum())

    for box in keep_whole(picture):
        px, py, pw, ph = box.padded
        low, high = (box.x, box.right) if crop_horizontally else (box.y, box.bottom)
        pad_low, pad_high = (px, px + pw) if crop_horizontally else (py, py + ph)
        found = cut_of(low, high)
        if found is None:
            continue
        if box.kind == "face":
            face_cut += found[0]
            faces += found[1]
        else:
            text_cut += found[0]
        padded = cut_of(pad_low, pad_high)
        if padded is not None:
            penalty += PADDED_CUT_COST * (padded[0] > CUT_TOLERANCE) * mass(pad_low, pad_high)
    return face_cut, text_cut, faces, penalty


SURROUND_SHARE = 0.15  # the surround a pixel's colour is compared with: this share of the saliency map's shorter side


def _saliency(pixels: np.ndarray) -> np.ndarray:
    """Per pixel: gradient magnitude of the lightness plus how far the colour stands out from its surround (the mean
    colour of a window around it), both normalised, lightly smoothed. Subjects are busy in edges or stand out in
    colour from what is around them; backgrounds are neither, even where a slow gradient or a vignette carries them
    far from the picture's mean colour (centre-surround, not distance from the global mean)."""
    luma = pixels @ np.array([0.299, 0.587, 0.114])
    gradient = np.zeros_like(luma)
    gradient[:, 1:] += np.abs(np.diff(luma, axis=1))
    gradient[1:, :] += np.abs(np.diff(luma, axis=0))
    surround = max(3, round(SURROUND_SHARE * min(luma.shape)) | 1)
    around = np.stack([_box_blur(pixels[..., channel], surround) for channel in range(3)], axis=2)
    distinct = np.sqrt(((pixels - around) ** 2).sum(axis=2))
    saliency = gradient / max(1e-6, float(gradient.max())) + 0.5 * distinct / max(1e-6, float(distinct.max()))
    return _box_blur(saliency, 5)  # spreads an edge over its surroundings without moving it


def _box_blur(values: np.ndarray, size: int) -> np.ndarray:
    """The mean over a size x size window (size odd) around each value, edges extended: cumulative sums."""
    half = size // 2
    padded = np.pad(values, half, mode="edge")
    summed = np.pad(padded.cumsum(axis=0).cumsum(axis=1), ((1, 0), (1, 0)))
    return (summed[size:, size:] - summed[:-size, size:] - summed[size:, :-size] + summed[:-size, :-size]) / size ** 2


def _luma(color: str) -> int:
    """ITU-R 601 luma as Pillow's convert("L") computes it, so palette tones and picture pixels compare."""
    red, green, blue = parse_hex(color)
    return (red * 299 + green * 587 + blue * 114) // 1000


def _palette_tones(palette: Sequence[str]) -> list[tuple[int, str]]:
    """(luma, colour) of the palette colours whose lightness differs enough, dominant colours first, darkest first."""
    tones: list[tuple[int, str]] = []
    for color in palette:
        level = _luma(color)
        if all(abs(level - kept) >= TONE_MIN_LUMA_STEP for kept, _color in tones):
            tones.append((level, color))
    return sorted(tones)


def _tone_lut(histogram: Sequence[int], levels: Sequence[int]) -> list[int]:
    """Luma (0-255) -> the index of the tone level it maps to. The picture's tonal range (its extreme
    TONE_CLIP_SHARE left out) is stretched onto the tones' range, at most TONE_MAX_GAIN times; a picture with less
    contrast keeps its own lightness (moved only as far as the tones' range needs), so a flat picture becomes its
    nearest tone instead of being split at a boundary between two."""
    total = sum(histogram)
    cumulative = np.cumsum(histogram)
    low = int(np.searchsorted(cumulative, TONE_CLIP_SHARE * total))
    high = int(np.searchsorted(cumulative, (1 - TONE_CLIP_SHARE) * total))
    gain = min(TONE_MAX_GAIN, (levels[-1] - levels[0]) / max(1, high - low))
    middle, half = (low + high) / 2, (high - low) / 2 * gain
    centre = min(max(middle, levels[0] + half), levels[-1] - half)
    mapped = centre + (np.arange(256) - middle) * gain
    nearest = np.abs(mapped[:, np.newaxis] - np.asarray(levels, dtype=np.float64)[np.newaxis, :]).argmin(axis=1)
    return [int(value) for value in nearest]
