"""Planning a design's colours for the canon's proportion rules ("60 % white, 30 % navy") before it is painted.

The layout is painted once with a probe colour per colour role (the canvas background, the picture area or brand
graphic's base, the graphic's ink, the frame's border, the accent shapes, the panel and the call-to-action button),
so each role's share of the canvas is counted exactly, whatever the shapes (circles, slanted fields, the graphic's
motifs). The colour assignment is then chosen by arithmetic: every assignment of palette colours to the roles that the
usage rules and the copy's contrast allow is scored by how far the resulting shares fall outside the stated ranges,
and the best one is painted. A layout whose regions cannot reach the shares under any assignment says so
(`Plan.miss`), so the engine can try the size's other layouts first.

The graphic of a proportion-ruled design is drawn in two colours (its base and one ink), so its shares are known."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from sgd.design.color import contrast_ratio, parse_hex
from sgd.design.color_roles import (
    PROPORTION_TOLERANCE,
    ColorRoles,
    Preferences,
    UsageRules,
    color_shares,
    readable_with,
)
from sgd.design.copy_fit import Stack
from sgd.design.geometry import Box, Skeleton
from sgd.design.graphics import MIN_INK_CONTRAST
from sgd.design.paint import paint_background
from sgd.design.personality import DesignStyle

# One probe colour per role; any distinct colours do (the graphic's ink only needs contrast with its base).
PROBE: dict[str, str] = {"background": "#FF0000", "media": "#000000", "ink": "#FFFFFF", "border": "#00FF00",
                         "accent": "#0000FF", "ground": "#FF00FF", "picture": "#808080", "panel": "#FFFF00",
                         "button": "#00FFFF"}
FREE_ROLES = ("background", "media", "ink", "border", "accent", "ground")  # the roles the plan assigns
PLAN_MARGIN = 2.5  # points planned inside the tolerance: the copy, the logo and text edges are not in the count
MIN_ROLE_SHARE = 0.5  # % of the canvas: a role smaller than this keeps its default colour


@dataclass(frozen=True)
class Plan:
    preferences: Preferences
    miss: float  # points outside the stated ranges (beyond the tolerance), summed over the rules; 0: all met
    shares: Mapping[str, float]  # the predicted share of each ruled colour, %


def role_shares(skeleton: Skeleton, stack: Stack, has_imagery: bool, keep_out: Box | None, seed: int,
                style: DesignStyle) -> dict[str, float]:
    """Each colour role's share of the canvas (%), counted on the layout painted in probe colours."""
    probe = ColorRoles(tuple(PROBE.values()), PROBE["background"], PROBE["ink"], PROBE["media"], PROBE["border"],
                       PROBE["accent"], None, None, graphic_inks=(PROBE["ink"],), ground=PROBE["ground"])
    picture = Image.new("RGB", (4, 4), parse_hex(PROBE["picture"])) if has_imagery else None
    image, _painted = paint_background(skeleton, probe, picture, None, skeleton.decor, keep_out, seed, style)
    draw = ImageDraw.Draw(image)
    if stack.panel is not None:
        panel = stack.panel
        draw.rectangle((panel.x, panel.y, panel.right - 1, panel.bottom - 1), fill=parse_hex(PROBE["panel"]))
    cta = stack.get("cta")
    if cta is not None and cta.text is not None:
        draw.rectangle((cta.box.x, cta.box.y, cta.box.right - 1, cta.box.bottom - 1), fill=parse_hex(PROBE["button"]))
    for element in stack.elements:  # the kicker rule takes the accent colour
        if element.text is None:
            box = element.box
            draw.rectangle((box.x, box.y, box.right - 1, box.bottom - 1), fill=parse_hex(PROBE["accent"]))
    counted = color_shares(image, list(PROBE.values()))
    return {role: counted[color] for role, color in PROBE.items()}


def plan_colors(shares: Mapping[str, float], default: ColorRoles, text_colors: Sequence[str],
                copy_threshold: float, copy_on_panel: bool) -> Plan:
    """The assignment of palette colours to the free roles that best meets the proportion rules; ties keep the
    default (the colours the layout would take without the rules) as far as possible."""
    rules = default.rules
    palette = list(default.palette)
    defaults = {"background": default.background, "media": default.media,
                "ink": (default.graphic_inks or (default.accent,))[0], "border": default.border,
                "accent": default.accent, "ground": default.ground or default.background}
    fixed: dict[str, float] = {}
    for role, color in (("panel", default.panel), ("button", default.button)):
        if color is not None:
            fixed[color] = fixed.get(color, 0.0) + shares.get(role, 0.0)
    active = [role for role in FREE_ROLES if shares.get(role, 0.0) >= MIN_ROLE_SHARE]
    options = {role: _options(role, palette, defaults[role], rules, text_colors, copy_threshold, copy_on_panel)
               for role in active}
    best: tuple[tuple[float, float, int], dict[str, str], dict[str, float]] | None = None
    for combination in itertools.product(*(options[role] for role in active)):
        chosen = dict(zip(active, combination, strict=True))
        if not _coherent(chosen):
            continue
        totals = dict(fixed)
        for role, color in chosen.items():
            totals[color] = totals.get(color, 0.0) + shares[role]
        for role in FREE_ROLES:  # roles too small to assign keep their default colour
            if role not in chosen and shares.get(role, 0.0) > 0:
                totals[defaults[role]] = totals.get(defaults[role], 0.0) + shares[role]
        miss = distance = 0.0
        for color, low, high in rules.proportions:
            share = totals.get(color, 0.0)
            below = (low - share) if low is not None else 0.0
            above = (share - high) if high is not None else 0.0
            outside = max(0.0, below, above)
            miss += max(0.0, outside - (PROPORTION_TOLERANCE - PLAN_MARGIN))
            distance += outside
        changes = sum(color != defaults[role] for role, color in chosen.items())
        score = (round(miss, 3), round(distance, 3), changes)
        if best is None or score < best[0]:
            best = (score, chosen, totals)
    if best is None:
        return Plan(Preferences(), float("inf"), {})
    (miss, _distance, _changes), chosen, totals = best
    preferences = Preferences(background=chosen.get("background"), media=chosen.get("media"),
                              border=chosen.get("border"), accent=chosen.get("accent"), ink=chosen.get("ink"),
                              ground=chosen.get("ground"))
    return Plan(preferences, miss, {color: totals.get(color, 0.0) for color, _low, _high in rules.proportions})


def _options(role: str, palette: Sequence[str], default: str, rules: UsageRules, text_colors: Sequence[str],
             threshold: float, copy_on_panel: bool) -> list[str]:
    """The colours `role` may take, its default first."""
    def allowed(color: str) -> bool:
        if role in ("background", "media", "border", "ground") and not rules.may_be_background(color):
            return False
        if role in ("ink", "accent") and not rules.may_decorate(color):
            return False
        if role == "background" and not copy_on_panel:
            return rules.may_be_under_text(color) and readable_with(color, text_colors, threshold)
        return True

    ordered = [default, *palette]
    return [color for color in dict.fromkeys(ordered) if color == default or allowed(color)]


def _coherent(chosen: Mapping[str, str]) -> bool:
    """The layout keeps its parts apart: the picture area, the frame and the accents differ from the canvas, and the
    graphic's ink stands out from its base."""
    background = chosen.get("background")
    for role in ("media", "border", "accent"):
        if role in chosen and background is not None and chosen[role] == background:
            return False
    ink, media = chosen.get("ink"), chosen.get("media")
    return ink is None or not (ink == background or (media is not None and (
        ink == media or contrast_ratio(ink, media) < MIN_INK_CONTRAST)))
