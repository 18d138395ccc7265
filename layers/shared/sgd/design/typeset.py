"""Fitting copy into a box: the largest font size (down to a floor) at which the text, wrapped at word boundaries,
fits the box; at the floor, words too long for a line are broken between characters. Measures real glyph extents,
so a set block never draws outside the box it reports."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from PIL import ImageDraw, ImageFont

from sgd.design.fonts import FontFile, basic_layout_suffices, load_face

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class SetText:
    """A block of copy set at one size: its lines and exact extents (pixels, relative to the block's top-left)."""

    text: str  # the copy as given
    lines: tuple[str, ...]
    size: int
    face: ImageFont.FreeTypeFont
    line_height: int  # baseline to baseline
    first_baseline: int  # from the block's top
    line_lefts: tuple[int, ...]  # ink that starts left of the pen (negative side bearings) per line
    line_widths: tuple[int, ...]
    width: int
    height: int
    broke_words: bool

    def draw(self, draw: ImageDraw.ImageDraw, x: int, y: int, fill: tuple[int, ...], align: Align,
             antialias: bool = True) -> None:
        """Draws the block with its top-left at (x, y), each line aligned within the block's width."""
        draw.fontmode = "L" if antialias else "1"
        for index, line in enumerate(self.lines):
            slack = self.width - self.line_widths[index]
            offset = 0 if align == "left" else slack // 2 if align == "center" else slack
            baseline = y + self.first_baseline + index * self.line_height
            draw.text((x + offset - self.line_lefts[index], baseline), line, font=self.face, fill=fill, anchor="ls")


def fit_text(text: str, font_file: FontFile, max_width: int, max_height: int, max_size: int, min_size: int,
             line_spacing: float = 1.15) -> SetText | None:
    """The largest size in [min_size, max_size] at which `text` fits max_width x max_height wrapped at spaces;
    else `text` at min_size with over-long words broken; None when even that does not fit."""
    if max_width <= 0 or max_height <= 0 or min_size < 1:
        return None
    max_size = max(min_size, min(max_size, max_height))
    shaped = unicodedata.normalize("NFC", text).strip()
    complex_script = not basic_layout_suffices(shaped)

    def attempt(size: int, break_words: bool) -> SetText | None:
        face = load_face(font_file, size, complex_script=complex_script)
        return _set(text, shaped, face, size, max_width, max_height, line_spacing, break_words)

    largest = attempt(max_size, break_words=False)  # the common case: short copy in a roomy box
    if largest is not None:
        return largest
    best = _largest(min_size, max_size - 1, lambda size: attempt(size, break_words=False))
    return best if best is not None else attempt(min_size, break_words=True)


def _largest(low: int, high: int, attempt: Callable[[int], SetText | None]) -> SetText | None:
    """Binary search for the largest size that fits; fitting is monotonic in size up to hinting noise, and each
    result is verified, so noise costs at most a slightly smaller size."""
    found: SetText | None = None
    while low <= high:
        middle = (low + high) // 2
        result = attempt(middle)
        if result is not None:
            found, low = result, middle + 1
        else:
            high = middle - 1
    return found


def _set(text: str, shaped: str, face: ImageFont.FreeTypeFont, size: int, max_width: int, max_height: int,
         line_spacing: float, break_words: bool) -> SetText | None:
    ascent, descent = face.getmetrics()
    line_height = max(1, math.ceil(size * line_spacing))
    wrapped = _wrap(shaped, face, max_width, break_words)
    if wrapped is None:
        return None
    lines, broke_words = wrapped
    if len(lines) > 1 and not broke_words:
        lines = _balanced(shaped, face, max_width, lines)
    # Early exit before measuring glyphs: the nominal height alone already overflows.
    if (len(lines) - 1) * line_height + ascent + descent > max_height:
        return None
    lefts, widths, tops, bottoms = [], [], [], []
    for index, line in enumerate(lines):
        left, top, right, bottom = face.getbbox(line, anchor="ls")
        ink_left = min(0, left)
        lefts.append(ink_left)
        widths.append(max(right, math.ceil(face.getlength(line))) - ink_left)
        baseline = index * line_height
        tops.append(baseline + min(top, -ascent))
        bottoms.append(baseline + max(bottom, descent))
    block_top, block_bottom = min(tops), max(bottoms)
    width, height = max(widths), block_bottom - block_top
    if width > max_width or height > max_height:
        return None
    return SetText(text, tuple(lines), size, face, line_height, -block_top, tuple(lefts), tuple(widths), width,
                   height, broke_words)


def _wrap(text: str, face: ImageFont.FreeTypeFont, max_width: int,
          break_words: bool) -> tuple[list[str], bool] | None:
    """Greedy wrapping at spaces (explicit newlines kept): (lines, whether a word was broken). A word wider than a
    line fails unless `break_words`."""
    lines: list[str] = []
    broke = False
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if face.getlength(candidate) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            if face.getlength(word) <= max_width:
                current = word
                continue
            if not break_words:
                return None
            pieces = _break_word(word, face, max_width)
            if pieces is None:
                return None
            lines.extend(pieces[:-1])
            current, broke = pieces[-1], True
        if current:
            lines.append(current)
    return (lines, broke) if lines else None


def _balanced(text: str, face: ImageFont.FreeTypeFont, max_width: int, lines: list[str]) -> list[str]:
    """The same number of lines with their lengths evened out (the narrowest width that still wraps into as many
    lines): no lone word left on the last line of a headline ("Made for the long / run")."""
    low, high, best = 1, max_width - 1, lines
    while low <= high:
        middle = (low + high) // 2
        wrapped = _wrap(text, face, middle, False)
        if wrapped is not None and len(wrapped[0]) <= len(lines):
            best, high = wrapped[0], middle - 1
        else:
            low = middle + 1
    return best


def _break_word(word: str, face: ImageFont.FreeTypeFont, max_width: int) -> list[str] | None:
    """A word too wide for one line, cut between characters (never inside a base+combining-mark cluster)."""
    pieces, current = [], ""
    for cluster in _clusters(word):
        candidate = current + cluster
        if face.getlength(candidate) <= max_width:
            current = candidate
        elif current:
            pieces.append(current)
            current = cluster
            if face.getlength(current) > max_width:
                return None
        else:
            return None  # a single character wider than the box
    pieces.append(current)
    return pieces


def _clusters(word: str) -> list[str]:
    clusters: list[str] = []
    for char in word:
        if clusters and unicodedata.combining(char):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters
