"""The colour each part of a design takes (background, text, panel, button, accents, the brand graphic), from the
brand's colour roles and usage rules, the plan's colours and the layout's scheme, and the WCAG contrast copy needs.

Roles (primary, secondary, accent, background, neutral, text) come from the canon; a palette colour without one
gets an inferred role (infer_roles). Usage rules are hard limits:

- cta_only: the colour appears on calls to action only (the button, or its label), nowhere else;
- never_background: never a background: not the canvas, a panel, a surface or the brand graphic's base;
- never_text: never a text colour;
- no_text_on: no text is set on it (it is never under copy: canvas, panel or button behind text);
- proportion: the colour's share of the design (planned by sgd.design.proportions, measured by the engine).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sgd.contracts.shapes import ColorRole, UsageRuleFields
from sgd.design.color import AA_LARGE_TEXT, AA_NORMAL_TEXT, chroma, contrast_ratio, normalize_hex, relative_luminance
from sgd.design.geometry import Skeleton
from sgd.design.planner import choose_colors

if TYPE_CHECKING:  # canon derivation infers roles here and must not load Pillow through the copy fitter
    from sgd.design.copy_fit import Stack

LARGE_TEXT_PX = 24  # WCAG large text: 18 pt = 24 px; such text needs 3:1 instead of 4.5:1
CTA_CONTRAST = AA_NORMAL_TEXT  # a call to action reaches 4.5:1 whatever its size


def text_threshold(size_px: int, role: str = "") -> float:
    """The WCAG contrast a text needs: 4.5:1, or 3:1 from 24 px (large text); a call to action always 4.5:1."""
    if role == "cta":
        return CTA_CONTRAST
    return AA_LARGE_TEXT if size_px >= LARGE_TEXT_PX else AA_NORMAL_TEXT


def copy_contrast(stack: Stack) -> float:
    """The contrast the copy (other than the call to action) needs from the surface under it: its strictest part's."""
    return max((text_threshold(element.text.size) for element in stack.elements
                if element.text is not None and element.role != "cta"), default=AA_LARGE_TEXT)


def infer_roles(palette: Sequence[str], given: Mapping[str, str] | None = None) -> dict[str, ColorRole]:
    """A role for every palette colour: the given ones, then by lightness and chroma for the rest: the darkest
    low-chroma colour is the text colour, the lightest low-chroma one the background, the most saturated remaining one
    the accent, the first remaining the primary, the rest secondary (neutral once those are taken)."""
    roles: dict[str, ColorRole] = {}
    for color, role in (given or {}).items():
        hex_value = normalize_hex(color)
        if hex_value in palette and role in ("primary", "secondary", "accent", "background", "neutral", "text"):
            roles[hex_value] = role  # type: ignore[assignment]
    free = [color for color in palette if color not in roles]
    taken = set(roles.values())

    def claim(role: ColorRole, pick: Any) -> None:
        if role in taken or not free:
            return
        color = pick(free)
        if color is not None:
            roles[color] = role
            free.remove(color)
            taken.add(role)

    muted = [color for color in free if chroma(color) < 0.25]
    claim("text", lambda colors: min(muted, key=relative_luminance) if muted and
          relative_luminance(min(muted, key=relative_luminance)) < 0.2 else None)
    muted = [color for color in free if chroma(color) < 0.25]
    claim("background", lambda colors: max(muted, key=relative_luminance) if muted and
          relative_luminance(max(muted, key=relative_luminance)) > 0.6 else None)
    claim("primary", lambda colors: colors[0])
    claim("accent", lambda colors: max(colors, key=chroma) if chroma(max(colors, key=chroma)) >= 0.3 else None)
    for color in list(free):
        roles[color] = "secondary" if "secondary" not in taken else "neutral"
        taken.add(roles[color])
        free.remove(color)
    return roles


@dataclass(frozen=True)
class UsageRules:
    cta_only: frozenset[str] = frozenset()
    never_background: frozenset[str] = frozenset()
    never_text: frozenset[str] = frozenset()
    no_text_on: frozenset[str] = frozenset()
    proportions: tuple[tuple[str, float | None, float | None], ...] = ()  # (hex, min %, max %)

    @staticmethod
    def of(rules: Sequence[UsageRuleFields], palette: Sequence[str]) -> UsageRules:
        sets: dict[str, set[str]] = {kind: set() for kind in ("cta_only", "never_background", "never_text",
                                                               "no_text_on")}
        proportions: list[tuple[str, float | None, float | None]] = []
        for rule in rules:
            try:
                color = normalize_hex(str(rule.get("hex", "")))
            except ValueError:
                continue
            if color not in palette:
                continue
            kind = rule.get("kind")
            if kind == "proportion":
                proportions.append((color, rule.get("min_pct"), rule.get("max_pct")))
            elif kind in sets:
                sets[kind].add(color)
        return UsageRules(frozenset(sets["cta_only"]), frozenset(sets["never_background"]),
                          frozenset(sets["never_text"]), frozenset(sets["no_text_on"]), tuple(proportions))

    def may_be_background(self, color: str) -> bool:
        return color not in self.cta_only and color not in self.never_background

    def may_be_under_text(self, color: str) -> bool:
        return color not in self.no_text_on

    def may_be_text(self, color: str, *, cta: bool = False) -> bool:
        return color not in self.never_text and (cta or color not in self.cta_only)

    def may_decorate(self, color: str) -> bool:
        return color not in self.cta_only

    def missed_proportions(self, shares: Mapping[str, float]) -> list[tuple[str, float, float | None, float | None]]:
        """(colour, its share %, min %, max %) of every proportion rule the shares miss by more than
        PROPORTION_TOLERANCE points."""
        missed = []
        for color, low, high in self.proportions:
            share = shares.get(color, 0.0)
            if (low is not None and share < low - PROPORTION_TOLERANCE) or \
                    (high is not None and share > high + PROPORTION_TOLERANCE):
                missed.append((color, share, low, high))
        return missed


PROPORTION_TOLERANCE = 10.0  # percentage points: a stated proportion is a designer's target, not an exact share


def color_shares(image: Any, palette: Sequence[str]) -> dict[str, float]:
    """Each palette colour's share of the image, in % of its pixels (exact matches: the engine paints exact
    colours; anti-aliased text edges count for neither), counted on every other pixel of every other row: within
    a fraction of a point of the full count, at a quarter of the cost (a few ms for a 1080x1080 design)."""
    import numpy as np  # the engine has it loaded already; this module stays importable without it

    pixels = np.asarray(image.convert("RGB"))[::2, ::2].astype(np.uint32)
    packed = (pixels[..., 0] << 16) | (pixels[..., 1] << 8) | pixels[..., 2]
    total = max(1, packed.size)
    return {color: 100.0 * int(np.count_nonzero(packed == int(color[1:], 16))) / total for color in palette}


@dataclass(frozen=True)
class Preferences:
    """Colours the engine asks of a paint (sgd.design.proportions plans them for the proportion rules): each is
    used for its role when the usage rules allow it."""

    background: str | None = None  # the canvas background, when the copy stays readable on it
    media: str | None = None  # the picture area's base (the brand graphic's ground)
    border: str | None = None  # the frame's surround
    accent: str | None = None  # accent shapes and the kicker rule
    ink: str | None = None  # the brand graphic's one ink (a two-colour graphic, so its shares are known)
    ground: str | None = None  # a layout's ground field (e.g. a banner's logo field), else the canvas colour


@dataclass(frozen=True)
class ColorRoles:
    palette: tuple[str, ...]
    background: str  # the canvas, under the copy unless a panel is
    text: str  # the preferred text colour
    media: str  # the picture area without a picture: the brand graphic's base colour
    border: str
    accent: str  # accent shapes and the kicker rule
    panel: str | None  # behind the copy over imagery
    button: str | None
    rules: UsageRules = field(default_factory=UsageRules)
    roles: Mapping[str, ColorRole] = field(default_factory=dict)
    graphic_inks: tuple[str, ...] = ()  # the brand graphic's colours other than its base, in order of preference
    ground: str | None = None  # a layout's ground field (e.g. a banner's logo field); None: the canvas background

    @staticmethod
    def choose(palette: list[str], layout_plan: Mapping[str, Any], skeleton: Skeleton, stack: Stack, *,
               roles: Mapping[str, str] | None = None, rules: Sequence[UsageRuleFields] = (),
               preferences: Preferences = Preferences()) -> ColorRoles:
        """Colour roles that obey the usage rules: the plan's colours when the rules allow them, rearranged by the
        variant's scheme. Every surface under copy is a colour some allowed text colour reaches the copy's contrast
        on, whenever the palette has such a pair."""
        usage = UsageRules.of(rules, palette)
        assigned = infer_roles(palette, roles)
        by_role = {role: [color for color in palette if assigned.get(color) == role] for role in
                   ("primary", "secondary", "accent", "background", "neutral", "text")}
        plan_background, plan_text, plan_accent = _plan_colors(palette, layout_plan)
        light = [*by_role["background"], *by_role["neutral"]]
        dark = by_role["text"]
        brand = [*by_role["primary"], *by_role["secondary"]]
        scheme = skeleton.variant.scheme
        if scheme == "inverted":
            preferred_backgrounds = [*dark, *brand, plan_background, *light]
        elif scheme == "accent":
            preferred_backgrounds = [*brand, plan_background, *light, *dark]
        else:
            preferred_backgrounds = [plan_background, *light, *brand, *dark]
        if preferences.background is not None:
            preferred_backgrounds.insert(0, preferences.background)

        text_colors = [color for color in dict.fromkeys([*dark, plan_text, *palette]) if usage.may_be_text(color)]
        copy_threshold = copy_contrast(stack)
        under_text = [color for color in palette if usage.may_be_background(color) and usage.may_be_under_text(color)]
        panel = None
        if stack.panel is not None:
            panel = _readable_fill([plan_background, *light, *dark], under_text or palette, text_colors,
                                   copy_threshold)
            backgrounds = [color for color in palette if usage.may_be_background(color)] or list(palette)
            background = _first_of(preferred_backgrounds, backgrounds)
        else:
            background = _readable_fill(preferred_backgrounds, under_text or palette, text_colors, copy_threshold)
        text = _best_text(background, text_colors or list(palette), copy_threshold)

        decorative = [color for color in palette if usage.may_decorate(color) and color != background]
        large_fills = [color for color in decorative if usage.may_be_background(color)]
        media = _first_of([*_given(preferences.media), *by_role["secondary"], *by_role["primary"], plan_accent,
                           *light, *dark], large_fills or decorative or [background])
        border = _first_of([*_given(preferences.border), *by_role["primary"], *by_role["secondary"], plan_text],
                           large_fills or decorative or [background])
        accent = _first_of([*_given(preferences.accent), *by_role["accent"], plan_accent, *by_role["secondary"],
                            *by_role["primary"], plan_text],
                           [color for color in decorative if color != media or color == preferences.accent]
                           or decorative or [text])
        button = None
        cta = stack.get("cta")
        if cta is not None and cta.text is not None:
            under = panel or background
            fills = [color for color in dict.fromkeys([*sorted(usage.cta_only), *by_role["accent"], plan_accent,
                                                       *by_role["primary"], *by_role["secondary"], plan_text,
                                                       *palette])
                     if color != under and usage.may_be_under_text(color)]
            labels = [color for color in palette if usage.may_be_text(color, cta=True)]
            button = _button_fill(fills or [color for color in palette if color != under] or [under],
                                  labels or list(palette))
        inks = tuple(color for color in dict.fromkeys([*_given(preferences.ink)] if preferences.ink else
                                                      [*by_role["primary"], *by_role["secondary"], *by_role["accent"],
                                                       *light, *dark, *palette])
                     if usage.may_decorate(color) and color != media)
        ground = preferences.ground if preferences.ground in large_fills else None
        return ColorRoles(tuple(palette), background, text, media, border, accent, panel, button, usage, assigned,
                          inks, ground)

    def text_candidates(self, role: str = "") -> list[str]:
        allowed = [color for color in dict.fromkeys([self.text, *self.palette])
                   if self.rules.may_be_text(color, cta=role == "cta")]
        return allowed or list(self.palette)

    def text_on(self, surface: str, size_px: int, role: str = "") -> tuple[str, float]:
        """The text colour for `surface`: the preferred one when it reaches the threshold, else the first allowed
        palette colour that does, else the allowed colour with the best contrast."""
        threshold = text_threshold(size_px, role)
        candidates = [color for color in self.text_candidates(role) if color != surface] or [surface]
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


def _given(color: str | None) -> list[str]:
    return [color] if color else []


def readable_with(fill: str, partners: Sequence[str], threshold: float) -> bool:
    """Some partner colour reaches `threshold` on `fill`."""
    return _best_partner_ratio(fill, partners) >= threshold


def _best_partner_ratio(fill: str, partners: Sequence[str]) -> float:
    return max((contrast_ratio(fill, other) for other in partners if other != fill), default=1.0)


def _readable_fill(preferred: Sequence[str], allowed: Sequence[str], partners: Sequence[str],
                   threshold: float) -> str:
    """The first allowed colour (preferred ones first, then in `allowed` order) that some partner colour reaches
    `threshold` on; else the one with the best partner (a member of the best pair)."""
    order = [color for color in dict.fromkeys([*preferred, *allowed]) if color in allowed] or list(allowed)
    for color in order:
        if _best_partner_ratio(color, partners) >= threshold:
            return color
    return max(order, key=lambda color: _best_partner_ratio(color, partners))


def _best_text(surface: str, partners: Sequence[str], threshold: float) -> str:
    """The first partner reaching `threshold` on `surface` (partners are in order of preference), else the best."""
    candidates = [color for color in partners if color != surface] or list(partners)
    return next((color for color in candidates if contrast_ratio(surface, color) >= threshold),
                max(candidates, key=lambda color: contrast_ratio(surface, color)))


def _button_fill(fills: Sequence[str], labels: Sequence[str]) -> str:
    """The first fill some label reaches the call-to-action contrast on; else the fill of the best pair."""
    for color in fills:
        if _best_partner_ratio(color, labels) >= CTA_CONTRAST:
            return color
    return max(fills, key=lambda color: _best_partner_ratio(color, labels))


def _first_of(preferred: Sequence[str], allowed: Sequence[str]) -> str:
    """The first preferred colour that is allowed, else the first allowed one."""
    return next((color for color in preferred if color in allowed), allowed[0])
