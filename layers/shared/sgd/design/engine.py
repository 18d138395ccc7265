"""The offline design engine: a render plan (guardrails/render_plan.json), a palette, fonts and a logo in, a finished
design out. Deterministic: the same request gives byte-identical output (no clock, no randomness, fixed encoder
settings, no metadata). Fills and text use palette colours only; every text box is checked for WCAG contrast
against the colour actually under it; the logo keeps its clear space from the edges and from every other element.

This module runs the steps and encodes the result; the steps live beside it: request (DesignRequest, Design),
copy_fit, color_roles, imagery, logo and paint.

Route modules must import this module lazily (inside the handler): it loads numpy and Pillow at import time."""

from __future__ import annotations

import io
import zlib
from dataclasses import replace
from typing import Any

from PIL import Image

from sgd.design.color import normalize_hex
from sgd.design.color_roles import ColorRoles
from sgd.design.copy_fit import balance_stack, faces_for_copy, fit_copy_in
from sgd.design.fonts import resolve_fonts
from sgd.design.imagery import decode_imagery, imagery_treatment
from sgd.design.layout import TEMPLATES, Box, build_skeleton, clear_space_px, variant_for
from sgd.design.logo import decode_logo, draw_logo, logo_placement
from sgd.design.paint import draw_copy, paint_background
from sgd.design.planner import FALLBACK_HEADLINE, template_for
from sgd.design.request import MIME_TYPES, Design, DesignRequest, validate_request

PNG_COMPRESS_LEVEL = 1  # flat colour compresses well even at the fastest zlib level
JPEG_QUALITY = WEBP_QUALITY = 90
WEBP_METHOD = 2  # libwebp effort 0-6: 2 encodes a 1080x1080 design about twice as fast as 4 for a few % more bytes


def render_design(request: DesignRequest) -> Design:
    """Renders one design. Raises ValueError for a request no design can satisfy (bad size, format or palette)."""
    validate_request(request)
    palette = list(dict.fromkeys(normalize_hex(color) for color in request.palette))
    layout_plan: dict[str, Any] = dict(request.plan.get("layout") or {})
    notes: list[str] = []
    canvas = Box(0, 0, request.width, request.height)

    template = layout_plan.get("template")
    if template not in TEMPLATES:
        template = template_for(request.width, request.height)
    headline = (layout_plan.get("headline") or "").strip()
    if not headline:
        headline = FALLBACK_HEADLINE
        notes.append(f"the plan has no headline; used {FALLBACK_HEADLINE!r}")
    copy = {"headline": headline, "subline": (layout_plan.get("subline") or "").strip(),
            "cta": (layout_plan.get("cta") or "").strip()}

    fonts = resolve_fonts(request.fonts, request.project_fonts)
    substitutions = list(fonts.substitutions)
    imagery = decode_imagery(request.imagery, notes) if request.imagery else None
    variant = variant_for(template, request.seed)
    logo_image = decode_logo(request.logo, notes) if request.logo else None
    clear = clear_space_px(request.logo_safe_zone_pct, canvas)
    placement = logo_placement(logo_image, layout_plan, template, canvas, clear, notes)
    media_graphic = imagery is None and len(palette) > 1
    skeleton = build_skeleton(template, request.width, request.height, variant, has_imagery=imagery is not None,
                              keep_out=placement.keep_out if placement else None, media_graphic=media_graphic)

    faces = faces_for_copy(copy, fonts, substitutions, notes)
    stack = fit_copy_in(skeleton, copy, faces, notes)
    if stack is None and placement is not None:
        notes.append("logo left out: its clear space leaves no room for the headline")
        placement = None
        skeleton = build_skeleton(template, request.width, request.height, variant, has_imagery=imagery is not None,
                                  media_graphic=media_graphic)
        stack = fit_copy_in(skeleton, copy, faces, notes)
    if stack is None:
        # Last resort for tiny canvases: the whole canvas for the copy, without picture or accent shapes.
        notes.append("picture area and accent shapes left out to make room for the headline")
        imagery = None
        skeleton = replace(skeleton, media=None, surfaces=(), decor=(), kicker=False, panel_behind_copy=False,
                           copy_area=skeleton.canvas.inset(max(1, skeleton.margin // 2)))
        stack = fit_copy_in(skeleton, copy, faces, notes)
    if stack is None:  # pragma: no cover - within the API's limits a headline always fits at the absolute floor
        raise ValueError(f"the headline cannot fit a {request.width}x{request.height} canvas")
    if media_graphic and skeleton.media is not None:
        skeleton, stack = balance_stack(skeleton, stack, copy, faces, placement)
    colors = ColorRoles.choose(palette, layout_plan, skeleton, stack)
    treatment = imagery_treatment(layout_plan, notes) if imagery is not None else None
    image, painted = paint_background(skeleton, colors, imagery, treatment, skeleton.decor,
                                      placement.keep_out if placement else None, request.seed)
    imagery_box = next((box for box, _kind, _color, name in painted if name == "imagery"), None)
    text_boxes = draw_copy(image, stack, colors, faces, painted, notes)
    logo_box = draw_logo(image, logo_image, placement, painted, colors, notes) if placement and logo_image else None

    layout = {
        "text_boxes": text_boxes,
        "logo_box": logo_box.as_list() if logo_box else None,
        "imagery_box": imagery_box.as_list() if imagery_box else None,
        "imagery_treatment": treatment if imagery_box else None,
        "colors_used": list(dict.fromkeys(color for _box, _kind, color, _name in painted if color)
                            | dict.fromkeys(box["color"] for box in text_boxes)),
        "clear_space_px": clear,
        "template": template,
        "variant": request.seed,
        "shapes": [{"name": name, "kind": kind, "box": box.as_list(), "color": color}
                   for box, kind, color, name in painted[1:] if color],
    }
    data = _encode(image, request.format)
    return Design(data, request.width, request.height, request.format, MIME_TYPES[request.format], layout,
                  substitutions, list(dict.fromkeys(notes)), image)


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
