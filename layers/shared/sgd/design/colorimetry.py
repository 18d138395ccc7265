"""CIELAB and CIEDE2000 over numpy arrays: the colour science behind palette checks, clustering and critique.

sRGB (IEC 61966-2-1) to CIELAB with the D65 white point; CIEDE2000 as written in Sharma, Wu and Dalal, "The
CIEDE2000 Color-Difference Formula: Implementation Notes, Supplementary Test Data, and Mathematical Observations"
(Color Research & Application 30(1), 2005), and tested against that paper's 34 pairs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sgd.design.color import parse_hex

_D65_WHITE = np.array([0.95047, 1.0, 1.08883])
_SRGB_TO_XYZ = np.array([
    [0.4124564, 0.3575761, 0.1804375],
    [0.2126729, 0.7151522, 0.0721750],
    [0.0193339, 0.1191920, 0.9503041],
])
_XYZ_TO_SRGB = np.linalg.inv(_SRGB_TO_XYZ)
_EPSILON, _KAPPA = 216 / 24389, 24389 / 27  # CIE's exact constants, not the rounded 0.008856 / 903.3
_25_POW_7 = 25.0**7


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) sRGB channels in 0..255 (any numeric dtype) -> (..., 3) CIELAB (L*, a*, b*) as float64."""
    channels = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(channels <= 0.04045, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4)
    ratio = (linear @ _SRGB_TO_XYZ.T) / _D65_WHITE
    f = np.where(ratio > _EPSILON, np.cbrt(ratio), (_KAPPA * ratio + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def lab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """(..., 3) CIELAB -> (..., 3) sRGB uint8, clipped to the gamut."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    ratio = np.where(f**3 > _EPSILON, f**3, (116 * f - 16) / _KAPPA)
    linear = np.clip((ratio * _D65_WHITE) @ _XYZ_TO_SRGB.T, 0.0, 1.0)
    channels = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.clip(np.rint(channels * 255), 0, 255).astype(np.uint8)


def hex_to_lab(color: str) -> np.ndarray:
    """'#0B3D91' -> its CIELAB coordinates, shape (3,)."""
    return srgb_to_lab(np.array(parse_hex(color), dtype=np.float64))


def palette_lab(palette: Sequence[str]) -> np.ndarray:
    """A palette of hex colours -> (n, 3) CIELAB."""
    return np.stack([hex_to_lab(color) for color in palette]) if palette else np.zeros((0, 3))


def ciede2000(lab1: np.ndarray, lab2: np.ndarray, *, k_l: float = 1.0, k_c: float = 1.0,
              k_h: float = 1.0) -> np.ndarray:
    """CIEDE2000 colour difference of (..., 3) CIELAB arrays (broadcast against each other); symmetric."""
    lab1, lab2 = np.asarray(lab1, dtype=np.float64), np.asarray(lab2, dtype=np.float64)
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]

    c_mean_ab = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean_ab**7 / (c_mean_ab**7 + _25_POW_7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    # Hue is undefined for a neutral colour; the paper sets it to 0 (atan2(0, 0) is 0 already).
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    chroma_product = c1p * c2p
    neutral = chroma_product == 0

    delta_l = l2 - l1
    delta_c = c2p - c1p
    delta_h_angle = h2p - h1p
    delta_h_angle = np.where(delta_h_angle > 180, delta_h_angle - 360, delta_h_angle)
    delta_h_angle = np.where(delta_h_angle < -180, delta_h_angle + 360, delta_h_angle)
    delta_h_angle = np.where(neutral, 0.0, delta_h_angle)
    delta_h = 2 * np.sqrt(chroma_product) * np.sin(np.radians(delta_h_angle) / 2)

    l_mean = (l1 + l2) / 2
    c_mean = (c1p + c2p) / 2
    h_sum = h1p + h2p
    far_apart = np.abs(h1p - h2p) > 180
    h_mean = np.where(far_apart, np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2), h_sum / 2)
    h_mean = np.where(neutral, h_sum, h_mean)

    t = (1 - 0.17 * np.cos(np.radians(h_mean - 30)) + 0.24 * np.cos(np.radians(2 * h_mean))
         + 0.32 * np.cos(np.radians(3 * h_mean + 6)) - 0.20 * np.cos(np.radians(4 * h_mean - 63)))
    delta_theta = 30 * np.exp(-(((h_mean - 275) / 25) ** 2))
    r_c = 2 * np.sqrt(c_mean**7 / (c_mean**7 + _25_POW_7))
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * c_mean
    s_h = 1 + 0.015 * c_mean * t
    r_t = -np.sin(np.radians(2 * delta_theta)) * r_c

    lightness = delta_l / (k_l * s_l)
    chroma = delta_c / (k_c * s_c)
    hue = delta_h / (k_h * s_h)
    return np.sqrt(np.maximum(lightness**2 + chroma**2 + hue**2 + r_t * chroma * hue, 0.0))


def nearest_palette_distance(lab_pixels: np.ndarray, palette: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """For (..., 3) CIELAB pixels: the index of the nearest palette colour and its CIEDE2000 distance."""
    references = palette_lab(palette)
    if not len(references):
        raise ValueError("the palette is empty")
    distances = ciede2000(np.asarray(lab_pixels)[..., np.newaxis, :], references)
    nearest = np.argmin(distances, axis=-1)
    return nearest, np.take_along_axis(distances, nearest[..., np.newaxis], axis=-1)[..., 0]
