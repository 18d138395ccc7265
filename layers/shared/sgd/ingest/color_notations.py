"""Colour notations in text (hex, RGB, CMYK, Pantone; labelled or in CSS form): found, converted to hex, and written
in one form per kind."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sgd.design.color import to_hex

_NUM = r"(\d{1,3}(?:\.\d+)?)"
_SEP = r"\s*[,/;\s]\s*"
_PCT = r"\s*%?"
_HEX_DIGITS = r"([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("hex", re.compile(rf"\b(?:hex(?:adecimal)?|html|web|css)(?:\s+(?:code|value|colou?r))?\s*[:=#]?\s*#?"
                       rf"{_HEX_DIGITS}(?![0-9A-Za-z])", re.I)),
    ("hex", re.compile(rf"(?<![\w&#]){'#'}{_HEX_DIGITS}(?![0-9A-Za-z])")),
    ("rgb", re.compile(rf"\brgba?\(\s*{_NUM}(%?){_SEP}{_NUM}(%?){_SEP}{_NUM}(%?)\s*(?:[,/]\s*[\d.]+%?\s*)?\)", re.I)),
    ("rgb", re.compile(rf"\bRGB\s*(?:values?)?\s*[:=]?\s*{_NUM}{_SEP}{_NUM}{_SEP}{_NUM}(?![\d.])", re.I)),
    ("rgb", re.compile(rf"\bR\s*[:=]?\s*{_NUM}\s*[,;/]?\s*G\s*[:=]?\s*{_NUM}\s*[,;/]?\s*B\s*[:=]?\s*{_NUM}(?![\d.])")),
    ("cmyk", re.compile(rf"\bcmyk\(\s*{_NUM}{_PCT}{_SEP}{_NUM}{_PCT}{_SEP}{_NUM}{_PCT}{_SEP}{_NUM}{_PCT}\s*\)", re.I)),
    ("cmyk", re.compile(rf"\bCMYK\s*(?:values?)?\s*[:=]?\s*{_NUM}{_PCT}{_SEP}{_NUM}{_PCT}{_SEP}{_NUM}{_PCT}{_SEP}"
                        rf"{_NUM}(?![\d.])%?", re.I)),
    ("cmyk", re.compile(rf"\bC\s*[:=]?\s*{_NUM}{_PCT}\s*[,;/]?\s*M\s*[:=]?\s*{_NUM}{_PCT}\s*[,;/]?\s*"
                        rf"Y\s*[:=]?\s*{_NUM}{_PCT}\s*[,;/]?\s*K\s*[:=]?\s*{_NUM}(?![\d.])%?")),
    ("pantone", re.compile(r"\b(?:PANTONE|Pantone|PMS)(?:\s*\u00ae)?\s*[:=]?\s*((?:\d{2,5}(?:-\d)?|"
                           r"[A-Z][A-Za-z]+(?:\s[A-Z][a-z]+){0,2})(?:\s?(?:C|U|CP|UP|M|TCX|TPX|TPG)\b)?)")),
]


@dataclass(frozen=True)
class Notation:
    kind: str  # hex | rgb | cmyk | pantone
    start: int
    end: int
    text: str
    rgb: tuple[int, int, int] | None


def _channel(value: str, percent: str = "") -> int | None:
    number = float(value)
    if percent:
        return round(number * 2.55) if number <= 100 else None
    return round(number) if number <= 255 else None


def _cmyk_to_rgb(values: Sequence[float]) -> tuple[int, int, int] | None:
    if any(value > 100 for value in values):
        return None
    cyan, magenta, yellow, black = (value / 100 for value in values)
    return tuple(round(255 * (1 - channel) * (1 - black)) for channel in (cyan, magenta, yellow))  # type: ignore[return-value]


def _hex_rgb(digits: str) -> tuple[int, int, int]:
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def find_notations(text: str) -> list[Notation]:
    """Every colour notation in `text`, left to right, overlaps resolved in favour of the longer match."""
    found: list[Notation] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            rgb: tuple[int, int, int] | None = None
            if kind == "hex":
                rgb = _hex_rgb(match[1])
            elif kind == "rgb":
                groups = match.groups()
                if len(groups) == 6:
                    channels = [_channel(groups[i], groups[i + 1]) for i in (0, 2, 4)]
                else:
                    channels = [_channel(value) for value in groups]
                if any(channel is None for channel in channels):
                    continue
                rgb = tuple(channels)  # type: ignore[assignment]
            elif kind == "cmyk":
                values = [float(value) for value in match.groups()]
                if any(value > 100 for value in values):
                    continue
            found.append(Notation(kind, match.start(), match.end(), match[0].strip(), rgb))
    found.sort(key=lambda notation: (notation.start, -(notation.end - notation.start)))
    kept: list[Notation] = []
    for notation in found:
        if kept and notation.start < kept[-1].end:
            continue
        kept.append(notation)
    return kept


def notation_hex(notation: Notation) -> str | None:
    """The hex a notation implies: exact for hex and RGB, a naive conversion for CMYK, none for Pantone."""
    if notation.rgb is not None:
        return to_hex(notation.rgb)
    if notation.kind == "cmyk":
        values = [float(value) for value in re.findall(r"\d{1,3}(?:\.\d+)?", notation.text)][-4:]
        rgb = _cmyk_to_rgb(values)
        return to_hex(rgb) if rgb else None
    return None


def notation_value(notation: Notation) -> str:
    if notation.kind == "hex":
        return to_hex(notation.rgb) if notation.rgb else notation.text
    if notation.kind == "rgb" and notation.rgb:
        return "rgb({}, {}, {})".format(*notation.rgb)
    if notation.kind == "cmyk":
        values = re.findall(r"\d{1,3}(?:\.\d+)?", notation.text)[-4:]
        return "cmyk({})".format(", ".join(values))
    match = re.search(r"(?:PANTONE|Pantone|PMS)(?:\s*\u00ae)?\s*[:=]?\s*(.+)", notation.text)
    return f"Pantone {match[1].strip()}" if match else notation.text
