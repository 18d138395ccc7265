"""The brand's ingested logo, decoded once for matching: cropped to its visible (alpha > 0) pixels, with templates
resampled to any size (and softened for the fit) cached per logo."""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from sgd.lru import LruCache

SOFT_SIGMA = 1.0  # verification blur, in verification pixels
SOFT_PAD = 3
_SOFT_KERNEL = np.exp(-0.5 * (np.arange(-3, 4) / SOFT_SIGMA) ** 2).astype(np.float32)
_SOFT_KERNEL /= _SOFT_KERNEL.sum()
MAX_LOGO_PIXELS = 4096 * 4096  # an ingested logo larger than this is downscaled once when prepared
MIN_LOGO_SIDE = 4
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # Pillow's "L" weights


@dataclass(frozen=True, slots=True)
class Template:
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
        self._templates: LruCache[tuple[int, int, bool], Template] = LruCache(self._TEMPLATE_CACHE)

    @property
    def aspect(self) -> float:
        """Height over width of the footprint."""
        return self.height / self.width

    def template(self, width: int, height: int, soft: bool = False) -> Template:
        """The logo at `width` x `height`; `soft`: blurred by SOFT_SIGMA and padded by SOFT_PAD transparent
        pixels on every side (both sides of the fit blurred alike make it tolerant of sub-pixel placement)."""
        key = (max(1, width), max(1, height), soft)
        return self._templates.get_or_make(key, lambda: self._made(*key))

    def _made(self, width: int, height: int, soft: bool) -> Template:
        made = self._resample(width, height)
        return _soften(made) if soft else made

    def _resample(self, width: int, height: int) -> Template:
        shrinking = width <= self.width and height <= self.height
        # Box filtering when shrinking, like the design's own downscale: both sides average the same areas.
        resample = Image.Resampling.BOX if shrinking else Image.Resampling.BICUBIC
        pixels = np.asarray(self.image.resize((width, height), resample), dtype=np.float32) / 255.0
        alpha = np.clip(pixels[..., 3], 0.0, 1.0)
        premultiplied = np.minimum(pixels[..., :3], alpha[..., None])
        return Template(np.ascontiguousarray(premultiplied), np.ascontiguousarray(alpha), premultiplied @ LUMA)


def _soften(template: Template) -> Template:
    pad = ((SOFT_PAD, SOFT_PAD), (SOFT_PAD, SOFT_PAD))
    premultiplied = blur(np.pad(template.premultiplied, (*pad, (0, 0))))
    alpha = blur(np.pad(template.alpha, pad))
    return Template(premultiplied, alpha, premultiplied @ LUMA)


def blur(planes: np.ndarray) -> np.ndarray:
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

