"""Frontal faces in a picture, offline: OpenCV's Viola-Jones Haar cascade (data/haarcascade_frontalface_default.xml,
Rainer Lienhart's stump cascade as shipped in opencv-python-headless 4.14.0.94, under the Intel licence in its header),
evaluated in numpy the way OpenCV's CascadeClassifier.detectMultiScale evaluates it.

Why not OpenCV itself: opencv-python-headless unpacks to 162 MB (its cv2 module 68 MB, its bundled libraries 84 MB);
the render function (SharedLayer + ImagingLayer, 97 MB) would reach about 259 MB, over Lambda's 250 MB limit. The
cascade is 0.9 MB of data, and its evaluation is integral images and table look-ups.

The evaluation follows OpenCV's: an image pyramid (scale factor 1.1), a 24x24 window stepped by 2 px (1 px once the
image is reduced more than twice), each window's variance normalisation over its inner 22x22, each stage's stumps
summed against the stage threshold (rejected at the first stage that fails), and the hits grouped as
groupRectangles(minNeighbors=3, eps=0.2) does. All windows of all scales are evaluated together: the pyramid's
integral images are stacked in one buffer of one row stride, so a feature's corners are one offset for every window.
Loaded and run only on the imagery-crop path (sgd.design.imagery), never at import.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

CASCADE_FILE = Path(__file__).with_name("data") / "haarcascade_frontalface_default.xml"
SCALE_FACTOR = 1.1
MIN_NEIGHBORS = 3
GROUP_EPS = 0.2
STEP = 2  # px between windows at every scale (OpenCV steps 1 px once reduced more than twice)
DENSE_SHARE = 0.3  # stages are evaluated densely while more than this share of the windows is alive

Face = tuple[int, int, int, int]  # x, y, w, h in the picture's pixels


@dataclass(frozen=True)
class Stage:
    threshold: float
    corners: np.ndarray  # (features * 12, 2): each feature's 3 rects x 4 corners as (dy, dx) from a window's corner
    signs: np.ndarray  # (features, 12): each corner's sign times its rect's weight
    features: int
    thresholds: np.ndarray  # (features,)
    left: np.ndarray  # (features,) the stump's value when the feature is below its threshold
    right: np.ndarray


@dataclass(frozen=True)
class Cascade:
    width: int
    height: int
    stages: list[Stage]


@lru_cache(maxsize=1)
def cascade() -> Cascade:
    """The cascade file, parsed once per process (about 40 ms), on the first picture that needs cropping."""
    root = ElementTree.parse(CASCADE_FILE).getroot().find("cascade")  # noqa: S314 (our own file, shipped)
    assert root is not None
    features = root.findall("features/_")
    rects = np.zeros((len(features), 3, 5))
    for index, feature in enumerate(features):
        for slot, rect in enumerate(feature.iterfind("rects/_")):
            rects[index, slot] = [float(value) for value in (rect.text or "").split()]
    stages = []
    for stage in root.iterfind("stages/_"):
        ids, thresholds, left, right = [], [], [], []
        for weak in stage.iterfind("weakClassifiers/_"):
            nodes = (weak.findtext("internalNodes") or "").split()  # left, right, feature, threshold (a stump)
            leaves = (weak.findtext("leafValues") or "").split()
            ids.append(int(nodes[2]))
            thresholds.append(float(nodes[3]))
            left.append(float(leaves[0]))
            right.append(float(leaves[1]))
        chosen = rects[np.asarray(ids, dtype=np.intp)]  # (f, 3, 5)
        x, y, w, h, weight = (chosen[..., index].astype(np.intp) if index < 4 else chosen[..., index]
                              for index in range(5))
        # A rect's sum from the integral image: A(y+h, x+w) - B(y, x+w) - C(y+h, x) + D(y, x).
        corners = np.stack([np.stack([y + h, x + w], -1), np.stack([y, x + w], -1), np.stack([y + h, x], -1),
                            np.stack([y, x], -1)], axis=2)  # (f, 3, 4, 2)
        signs = (weight[..., np.newaxis] * np.array([1.0, -1.0, -1.0, 1.0])).reshape(len(ids), 12)
        stages.append(Stage(float(stage.findtext("stageThreshold") or 0), corners.reshape(-1, 2),
                            signs.astype(np.float32), len(ids), np.asarray(thresholds, dtype=np.float32),
                            np.asarray(left), np.asarray(right)))
    return Cascade(int(root.findtext("width") or 24), int(root.findtext("height") or 24), stages)


def detect_faces(picture: Image.Image, min_size: int = 24) -> list[Face]:
    """Frontal faces in `picture` (its grey levels), boxes in its own pixels, grouped as OpenCV groups them."""
    gray = picture.convert("L")
    width, height = gray.size
    model = cascade()
    win_w, win_h = model.width, model.height
    stride = width + 1
    sums_blocks, square_blocks, starts, limits, factors = [], [], [], [], []
    row = 0
    factor = 1.0
    while True:
        scaled_w, scaled_h = round(width / factor), round(height / factor)
        if scaled_w < win_w or scaled_h < win_h or round(win_w * factor) > width or round(win_h * factor) > height:
            break
        if round(win_w * factor) >= min_size:
            image = gray if factor == 1.0 else gray.resize((scaled_w, scaled_h), Image.Resampling.BILINEAR)
            pixels = np.asarray(image, dtype=np.float64)
            integral = np.zeros((scaled_h + 1, stride))
            integral[1:, 1:scaled_w + 1] = pixels.cumsum(0).cumsum(1)
            squares = np.zeros((scaled_h + 1, stride))
            squares[1:, 1:scaled_w + 1] = (pixels ** 2).cumsum(0).cumsum(1)
            sums_blocks.append(integral)
            square_blocks.append(squares)
            starts.append(row)
            limits.append((scaled_w - win_w, scaled_h - win_h))  # the last window corner that fits
            factors.append(factor)
            row += scaled_h + 1
        factor *= SCALE_FACTOR
    if not starts:
        return []
    # Every scale's integral image stacked in one buffer of one row stride: the windows of all scales are one
    # lattice (every STEP px), and a feature's corner is the same (dy, dx) from every window.
    sums = np.concatenate(sums_blocks).astype(np.float32)  # sums of at most 2^24 grey levels are exact
    squared = np.concatenate(square_blocks)
    rows, cols = np.arange(0, row - win_h, STEP), np.arange(0, width - win_w + 1, STEP)
    block = np.searchsorted(np.asarray(starts), rows, side="right") - 1
    local_y = rows - np.asarray(starts)[block]
    fits_y = local_y <= np.asarray([limit[1] for limit in limits])[block]
    fits = fits_y[:, np.newaxis] & (cols[np.newaxis, :] <= np.asarray([limit[0] for limit in limits])[block][:, None])
    grid = (len(rows), len(cols))

    def lattice(plane: np.ndarray, dy: int, dx: int) -> np.ndarray:
        return plane[dy:dy + STEP * grid[0]:STEP, dx:dx + STEP * grid[1]:STEP][:grid[0], :grid[1]]

    # Variance normalisation over the window's inner rectangle (1, 1, w - 2, h - 2), as OpenCV's.
    inner = [(win_h - 1, win_w - 1, 1.0), (1, win_w - 1, -1.0), (win_h - 1, 1, -1.0), (1, 1, 1.0)]
    value_sum = sum(sign * lattice(sums, dy, dx).astype(np.float64) for dy, dx, sign in inner)
    square_sum = sum(sign * lattice(squared, dy, dx) for dy, dx, sign in inner)
    spread = (win_w - 2) * (win_h - 2) * square_sum - value_sum ** 2
    norm = np.where(spread > 0, np.sqrt(np.maximum(spread, 0)), 1.0).astype(np.float32)
    alive_mask = fits
    stages = iter(model.stages)
    # The first stages reject few windows: evaluated densely, on strided views of the buffer (no index arrays).
    for stage in stages:
        score = np.zeros(grid)
        for feature in range(stage.features):
            value = np.zeros(grid, dtype=np.float32)
            for corner in range(12):
                weight = stage.signs[feature, corner]
                if weight:
                    dy, dx = stage.corners[feature * 12 + corner]
                    value += weight * lattice(sums, int(dy), int(dx))
            score += np.where(value < stage.thresholds[feature] * norm, stage.left[feature], stage.right[feature])
        alive_mask = alive_mask & (score >= stage.threshold)
        if alive_mask.sum() < DENSE_SHARE * alive_mask.size:
            break
    alive_rows, alive_cols = np.nonzero(alive_mask)
    base = (rows[alive_rows] * stride + cols[alive_cols]).astype(np.intp)
    window_norm = norm[alive_rows, alive_cols]
    flat = sums.reshape(-1)
    for stage in stages:  # the rest: only the windows still alive, by index
        if base.size == 0:
            return []
        offsets = (stage.corners[:, 0] * stride + stage.corners[:, 1]).astype(np.intp)
        corners = flat[base[:, np.newaxis] + offsets].reshape(base.size, stage.features, 12)
        values = np.einsum("nfk,fk->nf", corners, stage.signs)
        below = values < stage.thresholds * window_norm[:, np.newaxis]
        keep = np.where(below, stage.left, stage.right).sum(axis=1) >= stage.threshold
        base, window_norm = base[keep], window_norm[keep]
    hits = []
    for offset in base.tolist():
        buffer_row, x = divmod(offset, stride)
        index = int(np.searchsorted(np.asarray(starts), buffer_row, side="right")) - 1
        factor = factors[index]
        y = buffer_row - starts[index]
        hits.append((round(x * factor), round(y * factor), round(win_w * factor), round(win_h * factor)))
    return group_rectangles(hits)


def group_rectangles(rects: list[Face], min_neighbors: int = MIN_NEIGHBORS, eps: float = GROUP_EPS) -> list[Face]:
    """OpenCV's groupRectangles: hits that are similar (every side within eps of the smaller sizes) form a cluster,
    a cluster of more than `min_neighbors` hits becomes its mean box, and a box inside a better-supported one is
    dropped."""
    parent = list(range(len(rects)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    for i, first in enumerate(rects):
        for j in range(i):
            second = rects[j]
            delta = eps * (min(first[2], second[2]) + min(first[3], second[3])) * 0.5
            if abs(first[0] - second[0]) <= delta and abs(first[1] - second[1]) <= delta and \
                    abs(first[0] + first[2] - second[0] - second[2]) <= delta and \
                    abs(first[1] + first[3] - second[1] - second[3]) <= delta:
                parent[root(i)] = root(j)
    clusters: dict[int, list[Face]] = {}
    for index, rect in enumerate(rects):
        clusters.setdefault(root(index), []).append(rect)
    grouped = [(tuple(round(sum(rect[k] for rect in members) / len(members)) for k in range(4)), len(members))
               for members in clusters.values() if len(members) > min_neighbors]
    kept = []
    for box, count in grouped:
        x, y, w, h = box
        inside = False
        for other, other_count in grouped:
            if other is box:
                continue
            dx, dy = round(other[2] * eps), round(other[3] * eps)
            if x >= other[0] - dx and y >= other[1] - dy and x + w <= other[0] + other[2] + dx and \
                    y + h <= other[1] + other[3] + dy and (other_count > max(3, count) or count < 3):
                inside = True
                break
        if not inside:
            kept.append((x, y, w, h))
    return sorted(kept)  # type: ignore[arg-type]
