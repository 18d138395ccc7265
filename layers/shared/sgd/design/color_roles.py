"""The colour each part of a design takes (background, text, panel, button, accents), from the plan and the palette,
and the WCAG contrast its copy needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sgd.design.color import AA_LARGE_TEXT, AA_NORMAL_TEXT, contrast_ratio, normalize_hex
from sgd.design.copy_fit import Stack
from sgd.design.layout import Skeleton
from sgd.design.planner import choose_colors

LARGE_TEXT_PX = 24  # WCAG large text: 18 pt = 24 px; such text needs 3:1 instead of 4.5:1


def text_threshold(size_px: int) -> float:
    """The WCAG contrast a text of this size needs: 3:1 from 24 px (large text), else 4.5:1."""
    return AA_LARGE_TEXT if size_px >= LARGE_TEXT_PX else AA_NORMAL_TEXT


@dataclass(frozen=True)
class ColorRoles:
    palette: tuple[str, ...]
    background: str  # the canvas, under the copy unless a panel is
    text: str  # the preferred text colour
    media: str
    border: str
    accent: str  # accent shapes and the kicker rule
    panel: str | None  # behind the copy over imagery
    button: str | None

    @staticmethod
    def choose(palette: list[str], layout_plan: Mapping[str, Any], skeleton: Skeleton, stack: Stack) -> ColorRoles:
        """Colour roles from the plan's colours (when in the palette) rearranged by the variant's scheme. Every
        surface under copy is a colour that some palette colour reaches the copy's contrast on, whenever the
        palette has such a pair."""
        base = _plan_colors(palette, layout_plan)
        plan_background, plan_text, plan_accent = base
        scheme = skeleton.variant.scheme
        if scheme == "inverted":
            backgrounds, text, accents = [plan_text, plan_background], plan_background, [plan_accent, plan_background]
        elif scheme == "accent":
            backgrounds, text, accents = [plan_accent, plan_background], plan_text, [plan_background, plan_text]
        else:
            backgrounds, text, accents = [plan_background, plan_text], plan_text, [plan_accent, plan_text]
        copy_threshold = max((text_threshold(element.text.size) for element in stack.elements
                              if element.text is not None and element.role != "cta"), default=AA_LARGE_TEXT)
        panel = None
        if stack.panel is not None:
            panel = _readable_fill([plan_background, plan_text], palette, copy_threshold)
            background = _first_other(backgrounds, palette, avoid=())
        else:
            background = _readable_fill(backgrounds, palette, copy_threshold)
        border = _first_other([plan_accent, plan_text], palette, avoid=(background,))
        media = _first_other([plan_accent, *accents], palette, avoid=(background, border))
        accent = _first_other(accents, palette, avoid=(background, media))
        button = None
        cta = stack.get("cta")
        if cta is not None and cta.text is not None:
            under = panel or background
            button = _readable_fill([plan_accent, *accents, plan_text], palette, text_threshold(cta.text.size),
                                    avoid=(under,))
        return ColorRoles(tuple(palette), background, text, media, border, accent, panel, button)

    def text_on(self, surface: str, size_px: int) -> tuple[str, float]:
        """The text colour for `surface`: the preferred one when it reaches the size's threshold, else the first
        palette colour that does, else the palette colour with the best contrast."""
        threshold = text_threshold(size_px)
        candidates = [color for color in dict.fromkeys([self.text, *self.palette]) if color != surface] or [surface]
        for color in candidates:
            ratio = contrast_ratio(surface, color)
            if ratio >= threshold:
                return color, ratio
        best = max(candidates, key=lambda color: contrast_ratio(surface, color))
        return best, contrast_ratio(surface, best)


def _plan_colors(palette: list[str], layout_plan: Mapping[str, Any]) -> tuple[str, str, str]:
    """(background, text, accent): the plan's, when they are palette colours, else the planner's choice."""
    derived = choose_colors(palette)
    chosen = []
    for key in ("background_hex", "text_hex", "accent_hex"):
        value = layout_plan.get(key)
        try:
            color = normalize_hex(value) if isinstance(value, str) else None
        except ValueError:
            color = None
        chosen.append(color if color in palette else derived.get(key, palette[0]))
    return chosen[0], chosen[1], chosen[2]


def _best_partner_ratio(fill: str, palette: Sequence[str]) -> float:
    return max((contrast_ratio(fill, other) for other in palette if other != fill), default=1.0)


def _readable_fill(preferred: Sequence[str], palette: Sequence[str], threshold: float,
                   avoid: Sequence[str] = ()) -> str:
    """The first colour (preferred ones first, then palette order, avoided ones last) that some other palette
    colour reaches `threshold` on; else the one with the best partner (a member of the best pair)."""
    order = list(dict.fromkeys([*preferred, *palette]))
    order = [color for color in order if color not in avoid] + [color for color in order if color in avoid]
    for color in order:
        if _best_partner_ratio(color, palette) >= threshold:
            return color
    return max(order, key=lambda color: _best_partner_ratio(color, palette))


def _first_other(preferred: Sequence[str], palette: Sequence[str], avoid: Sequence[str]) -> str:
    """The first preferred (then palette) colour not in `avoid`; the first preferred one when all are avoided."""
    order = list(dict.fromkeys([*preferred, *palette]))
    return next((color for color in order if color not in avoid), order[0])
