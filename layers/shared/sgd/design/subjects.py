"""What a crop of the brand's picture must keep whole: faces and lines of text, found in the picture itself.

- Faces: sgd.design.faces (OpenCV's frontal-face Haar cascade, evaluated in numpy) on a copy FACE_SIDE px along its
  longer side, so faces from about an eighth of the picture's longer side up are found.
- Text: the critic's stroke detector (sgd.critique.text_strokes.polarity_labels: pixels that stand out from their
  local background, darker or lighter; sgd.critique.text_lines.detect_lines_and_pieces: pieces grouped into lines
  by the glyph and baseline rules), on copies TEXT_SIDES px along the longer side. Only the detection is used, not
  the critic's contrast measurement (which leaves out lines whose surround is busy, as a photograph is). Made for
  flat designs, it finds a line best when its letters are about 8 to 16 px tall in the copy, so a line is found on
  one copy and missed on another, or its words apart: the copies' lines are united, and lines that share a band of
  rows and lie within a line height of each other are one. On a photograph the detector also groups grain, the
  arcs of an outline and rows of stripes into "lines": a line is kept only when it reads as text (reads_as_text:
  several letters of one height and of a letter's proportions, standing clear of their ground).

Each box comes with a padded one (a face box spans brows to mouth, so a crop edge just outside it would still cut
forehead or chin; a line's detected ends may miss a letter).
Detection is deterministic, cached per picture (a count-6 render crops one picture six times) and imported only on
the imagery-crop path. Boxes are in the picture's pixels.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from sgd.critique.policy import CritiquePolicy
    from sgd.critique.regions import Components

FACE_SIDE = 192  # px: the face detection copy's longer side (the cascade's window is 24 px)
TEXT_SIDES = (256, 384, 512)  # px: the text detection copies' longer sides
FACE_PAD = 0.25  # of the face box's size, each side: forehead, chin, ears
TEXT_PAD_ALONG = 1.0  # of the line's height, at either end (a letter the detector missed); none above and below:
# the line's box already spans its ascenders and descenders (they are strokes)
SAME_LINE_HEIGHTS = 1.6  # lines merge only when their heights are within this ratio
MAX_TEXT_LINES = 12  # a picture with more is a page of text (or texture): only the largest are kept whole
# What reads as a line of text on a photograph (the stroke detector, made for flat designs, also groups a photograph's
# grain, the arcs of an outline and rows of stripes into "lines"): several letters of one height ...
MIN_LETTERS = 3  # ... at least this many separate shapes ...
LETTER_BAND = 1.25  # ... whose heights lie within this ratio (capitals, or x-height letters) ...
LETTER_PROPORTIONS = (0.25, 2.2)  # ... each of a letter's width / height (not a bar or a stripe, not a long band) ...
MIN_LETTER_PX = 3  # ... and at least this tall in the detection copy (smaller pieces are dots and specks)
MIN_INK_CONTRAST = 24  # luma levels (0-255) between the letters and the rest of the line's box: text is set to be
# read, so it stands clear of its ground; grain that passes the detector's noise threshold stays under ~20
CACHE_SIZE = 16

Kind = Literal["face", "text"]


@dataclass(frozen=True, slots=True)
class KeepWhole:
    """A face or a line of text: the box found (`x`, `y`, `w`, `h`) and the padded box a crop should rather keep
    whole too (forehead, chin and hair; a letter the detector missed at either end of a line)."""

    kind: Kind
    x: float
    y: float
    w: float
    h: float
    padded: tuple[float, float, float, float]

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h


_cache: OrderedDict[bytes, tuple[KeepWhole, ...]] = OrderedDict()


def keep_whole(picture: Image.Image) -> tuple[KeepWhole, ...]:
    """The faces and text lines in `picture`, each with its padded box clipped to the picture: faces first."""
    rgb = picture if picture.mode == "RGB" else picture.convert("RGB")
    key = hashlib.blake2b(rgb.tobytes(), digest_size=16).digest() + bytes(str(rgb.size), "ascii")
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    copy = _reduced(rgb, max(FACE_SIDE, *TEXT_SIDES))
    found = tuple(_padded(box, rgb.size) for box in [*_faces(copy, rgb.size), *_text_lines(copy, rgb.size)])
    _cache[key] = found
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return found


def _reduced(picture: Image.Image, side: int) -> Image.Image:
    width, height = picture.size
    scale = min(1.0, side / max(width, height))
    if scale >= 1.0:
        return picture
    return picture.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BILINEAR)


def _faces(copy: Image.Image, size: tuple[int, int]) -> list[KeepWhole]:
    from sgd.design.faces import detect_faces

    small = _reduced(copy, FACE_SIDE)
    factor = size[0] / small.size[0]
    return [KeepWhole("face", x * factor, y * factor, w * factor, h * factor, (0, 0, 0, 0))
            for x, y, w, h in detect_faces(small)]


@lru_cache(maxsize=1)
def _policy() -> CritiquePolicy:
    from sgd.critique.policy import load_critique_policy

    return load_critique_policy()


def _text_lines(copy: Image.Image, size: tuple[int, int]) -> list[KeepWhole]:
    from sgd.critique.text_lines import detect_lines_and_pieces, stroke_view
    from sgd.critique.text_strokes import polarity_labels

    boxes: list[tuple[float, float, float, float]] = []
    for side in TEXT_SIDES:
        small = _reduced(copy, side)
        factor = size[0] / small.size[0]
        rgb = np.ascontiguousarray(np.asarray(small))
        # The detector's plain reading (no half-cover cut, no stroke-line refinements): those separate a design's
        # clear letters; on a photograph they lose lines and letters (a sign's last letter, 2 of 6 generated lines).
        labels = polarity_labels(rgb, peak_share=0).astype(np.int16)
        lines, pieces = detect_lines_and_pieces(stroke_view(labels, rgb, 1, plain=True), _policy())
        if not lines:
            continue
        luma = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        for line in lines:
            if reads_as_text(pieces, line.members, line.box, luma):
                x, y, w, h = line.box
                boxes.append((x * factor, y * factor, w * factor, h * factor))
    merged = merge_lines(boxes)
    merged.sort(key=lambda box: -box[2] * box[3])
    return [KeepWhole("text", *box, (0, 0, 0, 0)) for box in merged[:MAX_TEXT_LINES]]


def reads_as_text(pieces: Components, members: np.ndarray, box: tuple[int, int, int, int], luma: np.ndarray) -> bool:
    """Whether a detected line (`members` of the copy's connected `pieces`, within `box`; `luma` the copy's
    lightness) reads as text: MIN_LETTERS pieces of letter proportions in one band of heights (LETTER_BAND), and
    those letters MIN_INK_CONTRAST luma levels from the rest of the box (medians). Rows of stripes fail the
    proportions, a photograph's grain and a face's features the letter count or the contrast."""
    members = np.asarray(members)
    widths = (pieces.x1[members] - pieces.x0[members]).astype(np.float64)
    heights = (pieces.y1[members] - pieces.y0[members]).astype(np.float64)
    shaped = (widths >= LETTER_PROPORTIONS[0] * heights) & (widths <= LETTER_PROPORTIONS[1] * heights)
    best, band = 0, np.zeros(heights.size, dtype=bool)
    for height in np.unique(heights[heights >= MIN_LETTER_PX]):
        letters = shaped & (heights >= height) & (heights <= LETTER_BAND * height + 0.5)
        if int(letters.sum()) >= best:  # the taller band among equals: capitals over the x-height
            best, band = int(letters.sum()), letters
    if best < MIN_LETTERS or pieces.pixel_component is None:
        return False
    x, y, w, h = box
    local = pieces.pixel_component[y:y + h, x:x + w]
    ink, ground = np.isin(local, members[band]), ~np.isin(local, members)
    if not ink.any() or not ground.any():
        return False
    lightness = luma[y:y + h, x:x + w]
    return bool(abs(float(np.median(lightness[ink])) - float(np.median(lightness[ground]))) >= MIN_INK_CONTRAST)


def merge_lines(boxes: list[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """Boxes of similar height that overlap, or share most of a band of rows and lie within a line height of each
    other (the words of one line, or one line found at two scales), united until no two more can be."""
    merged = list(boxes)
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                if _same_line(merged[i], merged[j]):
                    a, b = merged[i], merged[j]
                    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
                    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
                    merged[i] = (x0, y0, x1 - x0, y1 - y0)
                    del merged[j]
                    changed = True
                    break
            if changed:
                break
    return merged


def _same_line(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    if max(a[3], b[3]) > SAME_LINE_HEIGHTS * min(a[3], b[3]):
        return False  # a line beside a taller "line" (a row of stripes) is another thing
    rows = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    gap = max(a[0], b[0]) - min(a[0] + a[2], b[0] + b[2])
    cols = -gap
    overlapping = rows > 0 and cols > 0
    return overlapping or (rows >= 0.5 * min(a[3], b[3]) and gap <= max(a[3], b[3]))


def _padded(box: KeepWhole, size: tuple[int, int]) -> KeepWhole:
    if box.kind == "face":
        pad_x = pad_y = FACE_PAD * max(box.w, box.h)
    else:
        pad_x, pad_y = TEXT_PAD_ALONG * box.h, 0.0
    x0, y0 = max(0.0, box.x - pad_x), max(0.0, box.y - pad_y)
    x1, y1 = min(float(size[0]), box.right + pad_x), min(float(size[1]), box.bottom + pad_y)
    return KeepWhole(box.kind, box.x, box.y, box.w, box.h, (x0, y0, x1 - x0, y1 - y0))
