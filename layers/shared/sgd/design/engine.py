"""The offline design engine: a render plan (guardrails/render_plan.json), a palette, fonts and a logo in, a finished
design out. Deterministic: the same request gives byte-identical output (no clock, no randomness, fixed encoder
settings, no metadata). Fills and text use palette colours only; every text box is checked for WCAG contrast
against the colour actually under it; the logo keeps its clear space from the edges and from every other element.

This module runs the steps and encodes the result; the steps live beside it: request (DesignRequest, Design),
copy_fit, color_roles, imagery, logo and paint.

Route modules must import this module lazily (inside the handler): it loads numpy and Pillow at import time."""

from __future__ import annotations

import io
import itertools
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from PIL import Image

from sgd.design.color import normalize_hex
from sgd.design.color_roles import ColorRoles, Preferences, UsageRules, color_shares, copy_contrast
from sgd.design.copy_fit import COPY_ROLES, OPTIONAL_ROLES, Faces, Stack, balance_stack, faces_for_copy, fit_copy_in
from sgd.design.fonts import resolve_fonts
from sgd.design.geometry import Box, Skeleton
from sgd.design.imagery import decode_imagery, imagery_treatment
from sgd.design.layout import (
    DEFAULT_MEDIA_SHARE,
    LOGO_MIN_LONG_SIDE,
    VARIANTS_PER_CYCLE,
    LogoPlacement,
    build_skeleton,
    clear_space_px,
    personal_templates,
    template_candidates,
    template_for_seed,
    variant_for,
)
from sgd.design.logo import decode_logos, draw_logo, logo_options
from sgd.design.paint import Painted, draw_copy, paint_background
from sgd.design.personality import DesignStyle, Personality, describe
from sgd.design.planner import FALLBACK_HEADLINE
from sgd.design.proportions import Plan, plan_colors, role_shares
from sgd.design.request import MIME_TYPES, Design, DesignRequest, validate_request

PNG_COMPRESS_LEVEL = 1  # flat colour compresses well even at the fastest zlib level
JPEG_QUALITY = WEBP_QUALITY = 90
GRAPHIC_TRIES = 3  # brand graphic styles tried on one layout for the canon's proportions before the next layout
WEBP_METHOD = 2  # libwebp effort 0-6: 2 encodes a 1080x1080 design about twice as fast as 4 for a few % more bytes


def render_design(request: DesignRequest) -> Design:
    """Renders one design. Raises ValueError for a request no design can satisfy (bad size, format or palette)."""
    validate_request(request)
    palette = list(dict.fromkeys(normalize_hex(color) for color in request.palette))
    layout_plan: dict[str, Any] = dict(request.plan.get("layout") or {})
    notes: list[str] = []
    canvas = Box(0, 0, request.width, request.height)
    look = request.look
    personality = Personality.of(look.personality, look.voice)
    style = DesignStyle.of(personality) if personality.expressed else DesignStyle.neutral()

    candidates = template_candidates(request.width, request.height,
                                     personality.character if personality.expressed else None,
                                     first=layout_plan.get("template"))
    # Seeds walk the brand's own structures (the plan's template, when it chose one, leads); the fallbacks below
    # walk every candidate.
    walk = personal_templates(candidates, personality.character if personality.expressed else None)
    if layout_plan.get("template") == candidates[0]:
        walk = (candidates[0], *(name for name in walk if name != candidates[0]))
    template, variant_index = template_for_seed(walk, request.seed)
    headline = (layout_plan.get("headline") or "").strip()
    if not headline:
        headline = FALLBACK_HEADLINE
        notes.append(f"the plan has no headline; used {FALLBACK_HEADLINE!r}")
    copy = {"headline": headline, **{role: (layout_plan.get(role) or "").strip() for role in OPTIONAL_ROLES}}
    if copy["eyebrow"] and style.eyebrow_upper:
        copy["eyebrow"] = copy["eyebrow"].upper()

    fonts = resolve_fonts(request.fonts, request.project_fonts)
    substitutions = list(fonts.substitutions)
    imagery = decode_imagery(request.imagery, notes) if request.imagery else None
    logo_image, logo_versions = decode_logos(request.logo, request.logo_versions, notes)
    clear = clear_space_px(request.logo_safe_zone_pct, canvas)
    media_graphic = imagery is None and len(palette) > 1
    faces = faces_for_copy(copy, fonts, substitutions, notes, headline_weight=style.headline_weight)
    min_width = look.logo_min_width_px or LOGO_MIN_LONG_SIDE
    proportion_ruled = bool(UsageRules.of(look.usage_rules, palette).proportions)

    def skeleton_builder(name: str, index: int) -> Callable[..., Skeleton]:
        variant = variant_for(name, index)

        def build(keep_out: Box | None, media_share: float = DEFAULT_MEDIA_SHARE) -> Skeleton:
            return build_skeleton(name, request.width, request.height, variant, has_imagery=imagery is not None,
                                  keep_out=keep_out, media_graphic=media_graphic, media_share=media_share,
                                  margin_factor=style.margin_factor, accent_shapes=style.accent_shapes)
        return build

    def arrange(name: str, index: int) -> _Arrangement:
        """The logo and the copy on one layout: the first logo option that leaves the copy room (no logo when none
        does), the picture area balanced against the copy."""
        skeleton_for = skeleton_builder(name, index)
        bare = skeleton_for(None)
        arrange_notes: list[str] = []
        options = logo_options(logo_image, layout_plan, name, canvas, clear, bare.margin, slot=bare.logo_slot,
                               min_width=min_width, plate=look.logo_plate or not look.logo_recolour,
                               notes=arrange_notes)
        placement, skeleton, stack = _place_logo_and_copy(options, skeleton_for, bare, copy, faces, style,
                                                          arrange_notes)
        has_imagery = imagery is not None
        if stack is None:
            # Last resort for tiny canvases: the whole canvas for the copy, without picture or accent shapes.
            arrange_notes.append("picture area and accent shapes left out to make room for the headline")
            skeleton = replace(skeleton, media=None, surfaces=(), decor=(), kicker=False, panel_behind_copy=False,
                               copy_area=skeleton.canvas.inset(max(1, skeleton.margin // 2)), cta_area=None)
            stack = fit_copy_in(skeleton, copy, faces, arrange_notes, style.headline_scale)
        if stack is None:  # pragma: no cover - within the API's limits a headline always fits at the absolute floor
            raise ValueError(f"the headline cannot fit a {request.width}x{request.height} canvas")
        if has_imagery and skeleton.media is None:
            arrange_notes.append(f"imagery left out: the {name} layout of a {request.width}x{request.height} canvas "
                                 "has no picture area")
            has_imagery = False
        if media_graphic and skeleton.media is not None:
            keep_out = placement.keep_out if placement else None
            skeleton, stack = balance_stack(skeleton, stack, copy, faces,
                                            lambda share: skeleton_for(keep_out, share), style.headline_scale)
        return _Arrangement(name, placement, skeleton, stack, has_imagery, arrange_notes)

    def plan_for(arrangement: _Arrangement, graphic_seed: int) -> Plan:
        """The colours that bring this layout's shares within the canon's proportion rules, planned on the
        layout's regions (its brand graphic drawn for `graphic_seed`) before it is painted."""
        default = ColorRoles.choose(palette, layout_plan, arrangement.skeleton, arrangement.stack,
                                    roles=look.color_roles, rules=look.usage_rules)
        keep_out = arrangement.placement.keep_out if arrangement.placement else None
        shares = role_shares(arrangement.skeleton, arrangement.stack, arrangement.has_imagery, keep_out,
                             graphic_seed, style)
        return plan_colors(shares, default, default.text_candidates(), copy_contrast(arrangement.stack),
                           arrangement.stack.panel is not None)

    # The seed's template first; when the logo cannot go on it with the copy, the other templates for the size
    # (the logo is left out only when none has room for it).
    seeded = arrange(template, variant_index)
    chosen = seeded
    logo_wanted = logo_image is not None and layout_plan.get("logo_position") != "none"
    if logo_wanted and seeded.placement is None:
        for name in candidates:
            if name != template:
                other = arrange(name, 0)
                if other.placement is not None:
                    notes.append(f"layout {name} instead of {template}: the logo and its clear space fit only there")
                    chosen = other
                    break
    graphic_seed = request.seed
    plan = plan_for(chosen, graphic_seed) if proportion_ruled else None
    if plan is not None and plan.miss > 0:
        # The canon's proportions come first: the layout with the brand's other graphic styles (a sparser graphic
        # leaves its base colour more room), then the size's other layouts (in the seed's order, then their other
        # variants), each with its graphic styles in turn, until one whose regions can reach them; the nearest one
        # when none can.
        def graphic_seeds(arrangement: _Arrangement) -> range:
            drawn = media_graphic and arrangement.skeleton.media is not None
            return range(request.seed, request.seed + (min(style.graphic_choices, GRAPHIC_TRIES) if drawn else 1))

        tried = {(chosen.template, variant_index if chosen is seeded else 0)}
        order = [(name, (variant_index + step) % VARIANTS_PER_CYCLE) for step in range(2)
                 for name in _rotated(candidates, template)]
        others = (arrange(name, index) for name, index in dict.fromkeys(order) if (name, index) not in tried)
        for other in itertools.chain([chosen], others):
            if logo_wanted and other.placement is None:
                continue
            for graphic in graphic_seeds(other):
                if other is chosen and graphic == graphic_seed:
                    continue
                other_plan = plan_for(other, graphic)
                if other_plan.miss < plan.miss:
                    chosen, plan, graphic_seed = other, other_plan, graphic
                    if plan.miss == 0:
                        break
            if plan.miss == 0:
                break
        if chosen.template != template:
            notes.append(f"layout {chosen.template} instead of {template}: its regions reach the canon's "
                         "proportions")
        if graphic_seed != request.seed:
            notes.append("another of the brand's graphic styles: the seed's leaves the canon's proportions out of "
                         "reach")
    template, placement, skeleton, stack = chosen.template, chosen.placement, chosen.skeleton, chosen.stack
    notes.extend(chosen.notes)
    if not chosen.has_imagery:
        imagery = None
    treatment = imagery_treatment(layout_plan, notes, style.imagery_treatment) if imagery is not None else None

    def paint(preferences: Preferences) -> _Painting:
        colors = ColorRoles.choose(palette, layout_plan, skeleton, stack, roles=look.color_roles,
                                   rules=look.usage_rules, preferences=preferences)
        image, painted = paint_background(skeleton, colors, imagery, treatment, skeleton.decor,
                                          placement.keep_out if placement else None, graphic_seed, style)
        paint_notes: list[str] = []
        text_boxes = draw_copy(image, stack, colors, faces, painted, paint_notes, style.button)
        logo_box, logo_used = draw_logo(image, logo_image, placement, painted, colors, paint_notes,
                                        plate=look.logo_plate, recolour=look.logo_recolour,
                                        versions=logo_versions) if placement and logo_image else (None, None)
        # Measured only when the canon states proportions: counting pixels costs time every render would pay.
        shares = color_shares(image, palette) if colors.rules.proportions else {}
        return _Painting(image, painted, text_boxes, logo_box, logo_used, shares,
                         colors.rules.missed_proportions(shares), colors, paint_notes)

    painting = paint(plan.preferences if plan is not None else Preferences())
    notes.extend(painting.notes)
    for color, share, low, high in painting.missed:
        notes.append(f"{color} covers {share:.0f}% of the design; the canon asks for "
                     f"{_range_words(low, high)}: no layout of this size reaches it")
    image, painted, text_boxes, logo_box, shares = (painting.image, painting.painted, painting.text_boxes,
                                                    painting.logo_box, painting.shares)

    layout = {
        "text_boxes": text_boxes,
        "logo_box": logo_box.as_list() if logo_box else None,
        "logo_version": painting.logo_used,
        "imagery_box": next((box.as_list() for box, _kind, _color, name in painted if name == "imagery"), None),
        "imagery_treatment": treatment if any(name == "imagery" for *_rest, name in painted) else None,
        "colors_used": list(dict.fromkeys(color for _box, _kind, color, _name in painted if color)
                            | dict.fromkeys(box["color"] for box in text_boxes)),
        "clear_space_px": clear,
        "template": template,
        "variant": request.seed,
        "personality": describe(personality) if personality.expressed else None,
        "color_shares": {color: round(share, 1) for color, share in shares.items() if share >= 0.05} or None,
        "shapes": [{"name": name, "kind": kind, "box": box.as_list(), "color": color}
                   for box, kind, color, name in painted[1:] if color],
    }
    data = _encode(image, request.format)
    return Design(data, request.width, request.height, request.format, MIME_TYPES[request.format], layout,
                  substitutions, list(dict.fromkeys(notes)), image)


@dataclass(frozen=True)
class _Arrangement:
    template: str
    placement: LogoPlacement | None
    skeleton: Skeleton
    stack: Stack
    has_imagery: bool  # the layout has a picture area for the imagery
    notes: list[str]


def _rotated(names: tuple[str, ...], first: str) -> list[str]:
    """`names` from `first` on, wrapping around: the order later seeds walk them."""
    start = names.index(first) if first in names else 0
    return [*names[start:], *names[:start]]


@dataclass(frozen=True)
class _Painting:
    image: Image.Image
    painted: Painted
    text_boxes: list[dict[str, Any]]
    logo_box: Box | None
    logo_used: dict[str, Any] | None  # which logo version was drawn, how, on what (the layout's logo_version)
    shares: dict[str, float]  # palette colour -> % of the pixels
    missed: list[tuple[str, float, float | None, float | None]]  # proportion rules missed
    colors: ColorRoles
    notes: list[str]


def _place_logo_and_copy(options: list[LogoPlacement], skeleton_for: Callable[[Box | None], Skeleton],
                         bare: Skeleton, copy: Mapping[str, str], faces: Faces, style: DesignStyle,
                         notes: list[str]) -> tuple[LogoPlacement | None, Skeleton, Stack | None]:
    """The first logo option whose layout still holds all the copy that fits without a logo; failing that, the first
    that holds the headline (the logo matters more than a subline); failing that, no logo."""
    wanted: list[str] | None = None
    fallback: tuple[LogoPlacement, Skeleton, Stack, list[str]] | None = None
    for placement in options:
        skeleton = skeleton_for(placement.keep_out)
        scratch: list[str] = []
        stack = fit_copy_in(skeleton, copy, faces, scratch, style.headline_scale)
        if stack is None:
            continue
        roles = _copy_roles(stack)
        if wanted is None and roles != [role for role in COPY_ROLES if copy.get(role)]:
            bare_stack = fit_copy_in(bare, copy, faces, [], style.headline_scale)
            wanted = _copy_roles(bare_stack) if bare_stack is not None else []
        if wanted is None or roles == wanted:
            notes.extend(scratch)
            return placement, skeleton, stack
        if fallback is None:
            fallback = (placement, skeleton, stack, scratch)
    if fallback is not None:
        notes.extend(fallback[3])
        return fallback[0], fallback[1], fallback[2]
    if options:
        notes.append("logo left out: its clear space leaves no room for the headline")
    return None, bare, fit_copy_in(bare, copy, faces, notes, style.headline_scale)


def _copy_roles(stack: Stack) -> list[str]:
    return [element.role for element in stack.elements if element.text is not None]


def _range_words(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{low:g}-{high:g}%"
    return f"at least {low:g}%" if low is not None else f"at most {high:g}%"


def _encode(image: Image.Image, image_format: str) -> bytes:
    """Fixed encoder settings and no metadata (no EXIF, ICC, text chunks or timestamps): same pixels, same bytes."""
    buffer = io.BytesIO()
    if image_format == "png":
        # Z_RLE: flat colour runs compress about as well as with the default strategy, at a third less time.
        image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL, compress_type=zlib.Z_RLE, optimize=False)
    elif image_format == "jpg":
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY, subsampling=0, optimize=False, progressive=False)
    else:
        image.save(buffer, format="WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD, exact=False)
    return buffer.getvalue()
