"""The measured (deterministic) critique of one design against the brand canon: logo, palette, text contrast, logo
clear space and format, in that order. Pure: pixels, canon and policy in; findings, numbers and a score out.

`decode_design` turns untrusted bytes into pixels (PNG, JPEG or WebP only) and raises UndecodableImage (422) for
anything else, so bad bytes are a client error and never a 5xx."""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from sgd.contracts.shapes import BrandCanon
from sgd.critique.logo import PreparedLogo, check_clear_space
from sgd.critique.logo_locate import locate_logo
from sgd.critique.palette import check_palette
from sgd.critique.palette_roles import check_colour_roles
from sgd.critique.policy import CritiquePolicy
from sgd.critique.regions import Box, clip_box
from sgd.critique.text import check_contrast
from sgd.errors import ValidationFailed

DECODABLE = {"PNG", "JPEG", "WEBP"}
LOSSY = {"JPEG", "WEBP"}
# Text detection in an external image looks at a copy reduced by an integer factor to at most this many pixels
# (1080x1080 at half size); the lines it finds are measured at full size.
DETECTION_MAX_PIXELS = 600_000
FORMAT_NAMES = {"png": "PNG", "image/png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "image/jpeg": "JPEG",
                "webp": "WEBP", "image/webp": "WEBP"}


class UndecodableImage(ValidationFailed):
    code = "image_undecodable"


def decode_design(data: bytes, max_pixels: int = 40_000_000) -> Image.Image:
    """The design's pixels as an RGB image (format kept in `.format`). Raises UndecodableImage for bytes that are not
    a complete PNG, JPEG or WebP, or that would decode to more than `max_pixels` (a decompression bomb)."""
    if not data:
        raise UndecodableImage("the asset is empty: upload a PNG, JPEG or WebP design")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))
            image_format = opened.format
            if image_format not in DECODABLE:
                raise UndecodableImage(f"the asset is {image_format or 'not an image'}; critique reads PNG, JPEG "
                                       "and WebP: export the design in one of them")
            if opened.width * opened.height > max_pixels:
                raise UndecodableImage(f"the image is {opened.width}x{opened.height}, over {max_pixels:,} pixels: "
                                       "export it smaller")
            opened.load()
            image = ImageOps.exif_transpose(opened)
            if image.mode != "RGB":
                image = _flatten(image)
    except UndecodableImage:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            EOFError) as error:
        raise UndecodableImage("the asset's bytes are not a readable PNG, JPEG or WebP (corrupt or truncated): "
                               "re-export and upload it again", details={"reason": type(error).__name__}) from None
    image.format = image_format  # type: ignore[misc]  # kept for the format check
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """RGB; transparency is composited over white, as the design shows on a page."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB")


@dataclass(frozen=True, slots=True)
class Measurement:
    score: float  # policy.score(severities)
    violations: list[dict[str, Any]]  # findings: kind, message, severity, box
    checks: dict[str, Any]  # {"palette", "contrast", "logo_safe_zone", "format"}
    repair_suggestions: list[str]


def measure_design(image: Image.Image, canon: BrandCanon, policy: CritiquePolicy, *,
                   layout: Mapping[str, Any] | None = None, logo: PreparedLogo | None = None,
                   expected: Mapping[str, Any] | None = None,
                   logo_versions: Mapping[str, PreparedLogo] | None = None) -> Measurement:
    """Measures a design against the canon. `layout`: an SGD render's layout (text_boxes, logo_box, shapes,
    imagery_box) or None for an external image, whose text and logo are then found in the pixels (the logo by
    matching `logo`, the brand's ingested logo, and each of `logo_versions`, asset id -> prepared: the canon's
    light and dark versions). `expected`: {"width", "height", "format"} recorded for the asset."""
    picture = image if image.mode == "RGB" else image.convert("RGB")
    rgb = np.asarray(picture)
    height, width = rgb.shape[:2]
    violations: list[dict[str, Any]] = []
    suggestions: list[str] = []
    checks: dict[str, Any] = {}

    logo_box, logo_check, logo_findings, logo_suggestions = locate_logo(rgb, canon, policy, layout, logo,
                                                                        lossy=image.format in LOSSY,
                                                                        versions=logo_versions)
    violations += logo_findings
    imagery = box_or_none(layout.get("imagery_box"), width, height) if layout else None
    palette = check_palette(rgb, canon, policy, exclude=[logo_box] if logo_box else [],
                            photo_boxes=[imagery] if imagery else [], detect_photos=layout is None,
                            lossy=image.format in LOSSY, text_colours=_layout_text_colours(layout), picture=picture)
    checks["palette"] = palette.check
    violations += palette.violations
    suggestions += palette.repair_suggestions

    text_boxes = (layout.get("text_boxes") or []) if layout is not None else None
    factor = math.ceil(math.sqrt(height * width / DETECTION_MAX_PIXELS)) if height * width > DETECTION_MAX_PIXELS \
        else 1
    contrast = check_contrast(palette.analysis, policy, text_boxes, scale=factor)
    checks["contrast"] = contrast.check
    violations += contrast.violations
    suggestions += contrast.repair_suggestions
    role_findings, role_suggestions = check_colour_roles(palette.analysis, canon, contrast.regions)
    if role_findings:
        checks["palette"] = dict(checks["palette"]) | {"ok": False, "usage_rules_broken": len(role_findings)}
    violations += role_findings
    suggestions += role_suggestions

    safe_zone = canon.get("logo_safe_zone_pct")
    if logo_box and safe_zone is not None:
        clear = check_clear_space(rgb, logo_box, float(safe_zone), policy,
                                  _elements(layout, width, height) if layout else None,
                                  photo=palette.analysis.photo if layout is None else None,
                                  lossy=image.format in LOSSY)
        checks["logo_safe_zone"] = logo_check | clear.as_check()
        checks["logo_safe_zone"]["ok"] = clear.as_check()["ok"] and not logo_findings
        violations += clear.violations
        if clear.violations:
            suggestions.append(f"Give the logo {clear.required_px:.0f} px of clear space ({float(safe_zone):g}% of "
                               "the shorter side) from the canvas edges and every other element")
    else:
        checks["logo_safe_zone"] = logo_check | {
            "ok": not logo_findings and (logo_box is not None or logo_check["logo_source"] == "none"),
            "note": "the canon sets no clear space" if logo_box else
            "logo missing or unrecognisable" if logo_check["logo_source"] != "none" else "no logo to check"}
    suggestions += logo_suggestions

    format_check, format_violations = _check_format(image, width, height, expected)
    checks["format"] = format_check
    violations += format_violations
    suggestions += [f"Export the design as {format_check['expected'].get('format') or 'recorded'} "
                    f"{format_check['expected'].get('width')}x{format_check['expected'].get('height')}"
                    ] if format_violations else []

    return Measurement(policy.score([violation["severity"] for violation in violations]), violations, checks,
                       list(dict.fromkeys(suggestions)))


def _layout_text_colours(layout: Mapping[str, Any] | None) -> list[str] | None:
    if layout is None:
        return None
    return [entry["color"] for entry in layout.get("text_boxes") or [] if isinstance(entry.get("color"), str)]


def box_or_none(value: Any, width: int, height: int) -> Box | None:
    if not isinstance(value, Sequence) or len(value) != 4:
        return None
    try:
        return clip_box([float(part) for part in value], width, height)
    except (TypeError, ValueError):
        return None


def _elements(layout: Mapping[str, Any], width: int, height: int) -> list[Box]:
    """Everything a render placed besides the logo: text boxes, shapes, the imagery (the clear-space check skips
    those that contain the logo, such as its plate)."""
    boxes = [entry.get("box") for entry in layout.get("text_boxes") or []]
    boxes += [shape.get("box") for shape in layout.get("shapes") or []]
    boxes.append(layout.get("imagery_box"))
    return [box for box in (box_or_none(value, width, height) for value in boxes) if box is not None]


def _check_format(image: Image.Image, width: int, height: int,
                  expected: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    actual = {"width": width, "height": height, "format": image.format}
    if not expected:
        return {"expected": {}, "actual": actual, "ok": True}, []
    wanted_format = FORMAT_NAMES.get(str(expected.get("format") or "").lower(), expected.get("format"))
    wanted = {"width": expected.get("width"), "height": expected.get("height"), "format": wanted_format}
    problems = []
    if wanted["width"] is not None and wanted["height"] is not None and \
            (int(wanted["width"]), int(wanted["height"])) != (width, height):
        problems.append(f"it is {width}x{height}, not the recorded {wanted['width']}x{wanted['height']}")
    if wanted_format and image.format and wanted_format != image.format:
        problems.append(f"it is {image.format}, not the recorded {wanted_format}")
    violations = [{"kind": "format", "severity": "high", "box": None,
                   "message": f"The asset's format does not match its record: {'; '.join(problems)}. Re-render or "
                              "re-export it at the recorded size and type."}] if problems else []
    return {"expected": wanted, "actual": actual, "ok": not problems}, violations
