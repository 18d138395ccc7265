"""The compositing fit that scores every offset of a logo template over an image at once (see sgd.critique.logo):
the sums the fit needs are correlations of the design with fixed kernels, one FFT per kernel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from sgd.critique.logo_prepared import Template

VISIBLE_CONTRAST = 0.08  # channel difference (0..1) below which a logo barely shows on its background


def fast_length(n: int) -> int:
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


class Fitter:
    """Scores every offset of a template over one image (h, w, c) by the compositing fit described above."""

    def __init__(self, image: np.ndarray) -> None:
        self.height, self.width, self.channels = image.shape
        self.fft_shape = (fast_length(self.height), fast_length(self.width))
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

    def _kernels(self, template: Template, luma_only: bool) -> tuple[list[np.ndarray], np.ndarray, _Constants]:
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

    def scores(self, template: Template, luma_only: bool) -> np.ndarray:
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
    def of(template: Template, planes: list[np.ndarray]) -> _Constants:
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


def pad_with_border_colour(planes: np.ndarray, pad: int) -> np.ndarray:
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


