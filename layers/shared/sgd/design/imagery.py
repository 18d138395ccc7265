"""The picture in a design: decoded, the plan's treatment of it, and its re-toning in palette colours."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from sgd.design.color import parse_hex

ImageryTreatment = Literal["as_is", "palette"]
IMAGERY_TREATMENTS: tuple[ImageryTreatment, ...] = ("as_is", "palette")
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


def imagery_treatment(layout_plan: Mapping[str, Any], notes: list[str]) -> ImageryTreatment:
    treatment = layout_plan.get("imagery_treatment") or "as_is"
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
