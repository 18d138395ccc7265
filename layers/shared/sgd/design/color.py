"""Colour helpers shared by the planner, the design engine and the critic: hex parsing and WCAG 2.1 contrast."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

Rgb = tuple[int, int, int]
Color = str | Rgb

AA_NORMAL_TEXT = 4.5  # WCAG 2.1 SC 1.4.3, body text
AA_LARGE_TEXT = 3.0  # WCAG 2.1 SC 1.4.3 large text, and SC 1.4.11 non-text (buttons, icons)

_HEX = re.compile(r"#?([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})")


def parse_hex(value: str) -> Rgb:
    """'#1a2B3c' -> (26, 43, 60). Accepts an optional '#' and the 3-digit short form."""
    match = _HEX.fullmatch(value.strip())
    if not match:
        raise ValueError(f"not a hex colour: {value!r}; expected #RRGGBB")
    digits = match[1]
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def to_hex(rgb: Rgb) -> str:
    """(26, 43, 60) -> '#1A2B3C', the canonical upper-case form."""
    if len(rgb) != 3 or not all(isinstance(channel, int) and 0 <= channel <= 255 for channel in rgb):
        raise ValueError(f"not an RGB triple of 0-255 integers: {rgb!r}")
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def normalize_hex(value: str) -> str:
    """Any accepted hex spelling -> '#RRGGBB' upper case, so colours compare by string."""
    return to_hex(parse_hex(value))


def _rgb(color: Color) -> Rgb:
    return parse_hex(color) if isinstance(color, str) else color


def _linear(channel: int) -> float:
    # sRGB transfer function as WCAG 2.1 defines it (threshold 0.04045, not the older 0.03928).
    value = channel / 255
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def relative_luminance(color: Color) -> float:
    """WCAG 2.1 relative luminance, 0.0 (black) to 1.0 (white)."""
    red, green, blue = _rgb(color)
    return 0.2126 * _linear(red) + 0.7152 * _linear(green) + 0.0722 * _linear(blue)


def contrast_ratio(first: Color, second: Color) -> float:
    """WCAG 2.1 contrast ratio, 1.0 to 21.0; symmetric. Not rounded: WCAG forbids rounding up to a threshold."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def chroma(color: Color) -> float:
    """Colourfulness 0.0 (grey) to 1.0 (pure hue): max - min channel. Unlike HSL/HSV saturation it does not call
    near-black or near-white tints saturated."""
    rgb = _rgb(color)
    return (max(rgb) - min(rgb)) / 255


def _unique_hex(colors: Iterable[Color]) -> list[str]:
    return list(dict.fromkeys(to_hex(_rgb(color)) for color in colors))


def best_text_pair(colors: Sequence[Color]) -> tuple[str, str, float]:
    """(background, text, ratio): the two colours with the highest contrast. Of the pair, the colour listed first
    is the background (palettes list their dominant colours first); ties keep the earliest pair."""
    palette = _unique_hex(colors)
    if len(palette) < 2:
        raise ValueError("best_text_pair needs at least two distinct colours")
    best = (palette[0], palette[1], contrast_ratio(palette[0], palette[1]))
    for i, background in enumerate(palette):
        for text in palette[i + 1 :]:
            ratio = contrast_ratio(background, text)
            if ratio > best[2]:
                best = (background, text, ratio)
    return best


def readable_on(background: Color, candidates: Iterable[Color], minimum: float = AA_NORMAL_TEXT) -> list[str]:
    """The candidates with at least `minimum` contrast on `background`, best first (ties keep input order)."""
    scored = [(contrast_ratio(background, candidate), candidate) for candidate in _unique_hex(candidates)]
    return [candidate for ratio, candidate in sorted(scored, key=lambda item: -item[0]) if ratio >= minimum]
