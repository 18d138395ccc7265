"""An image's dominant palette (k-means in CIELAB) and, for images with transparency, the logo facts."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from sgd.design.color import to_hex
from sgd.design.colorimetry import ciede2000, srgb_to_lab

MAX_SIDE = 256
CLUSTERS = 8
ITERATIONS = 12
MIN_SHARE = 0.01  # clusters smaller than this are anti-aliasing and noise, not palette colours
MERGE_DELTA_E = 6.0  # clusters closer than this (CIEDE2000) are one colour
OPAQUE = 128


@dataclass(frozen=True)
class ImageFacts:
    width: int
    height: int
    palette: list[dict[str, Any]]
    logo: dict[str, Any] | None


def _initial_centres(lab: np.ndarray, weights: np.ndarray, count: int) -> np.ndarray:
    """Deterministic farthest-point start: the most frequent colour, then repeatedly the colour farthest (weighted
    towards frequent ones) from every centre chosen so far."""
    centres = [lab[int(np.argmax(weights))]]
    nearest = np.full(len(lab), np.inf)
    for _ in range(1, count):
        nearest = np.minimum(nearest, np.sum((lab - centres[-1]) ** 2, axis=1))
        score = nearest * np.sqrt(weights)
        best = int(np.argmax(score))
        if score[best] <= 0:
            break
        centres.append(lab[best])
    return np.array(centres)


def dominant_palette(rgb: np.ndarray, *, clusters: int = CLUSTERS) -> list[dict[str, Any]]:
    """(n, 3) uint8 opaque pixels -> [{"hex", "share"}] by share. Each colour is the most frequent exact pixel
    colour of its cluster, so flat brand colours come back exactly rather than as an averaged centroid."""
    if len(rgb) == 0:
        return []
    # One integer per colour: a 1-D unique is far faster than unique rows.
    flat = rgb.reshape(-1, 3).astype(np.uint32)
    packed, counts = np.unique((flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2], return_counts=True)
    colours = np.stack([(packed >> 16) & 255, (packed >> 8) & 255, packed & 255], axis=1).astype(np.uint8)
    lab = srgb_to_lab(colours)
    weights = counts.astype(np.float64)
    centres = _initial_centres(lab, weights, min(clusters, len(colours)))
    labels = np.zeros(len(colours), dtype=np.int64)
    for _ in range(ITERATIONS):
        distances = np.sum((lab[:, None, :] - centres[None, :, :]) ** 2, axis=2)
        labels = np.argmin(distances, axis=1)
        moved = centres.copy()
        for index in range(len(centres)):
            members = labels == index
            if members.any():
                moved[index] = np.average(lab[members], axis=0, weights=weights[members])
        if np.allclose(moved, centres, atol=1e-3):
            break
        centres = moved
    total = weights.sum()
    found: list[tuple[float, np.ndarray]] = []
    for index in range(len(centres)):
        members = np.flatnonzero(labels == index)
        if not len(members):
            continue
        share = float(weights[members].sum() / total)
        found.append((share, colours[members[int(np.argmax(weights[members]))]]))
    found.sort(key=lambda item: -item[0])
    palette: list[tuple[float, np.ndarray]] = []
    for share, colour in found:
        colour_lab = srgb_to_lab(colour.astype(np.float64))
        for position, (kept_share, kept) in enumerate(palette):
            if float(ciede2000(colour_lab, srgb_to_lab(kept.astype(np.float64)))) < MERGE_DELTA_E:
                palette[position] = (kept_share + share, kept)
                break
        else:
            palette.append((share, colour))
    return [{"hex": to_hex(tuple(int(channel) for channel in colour)), "share": round(share, 4)}  # type: ignore[arg-type]
            for share, colour in sorted(palette, key=lambda item: -item[0]) if share >= MIN_SHARE]


def read_image(data: bytes) -> ImageFacts:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
        image = image.convert("RGBA" if has_alpha else "RGB")
        if max(width, height) > MAX_SIDE:
            # NEAREST keeps exact pixel colours (a filter would blend edges into new colours).
            image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.NEAREST)
        pixels = np.asarray(image)
    if has_alpha:
        alpha = pixels[..., 3]
        opaque = alpha >= OPAQUE
        rgb = pixels[..., :3][opaque]
        transparent_share = round(float(1 - opaque.mean()), 4)
        logo = {"width": width, "height": height, "transparent_share": transparent_share}
    else:
        rgb = pixels.reshape(-1, 3)
        logo = None
    return ImageFacts(width, height, dominant_palette(rgb), logo)
