"""Extraction: one admitted file -> its evidence document (text, colour specifications, swatches, palette, fonts,
statements), the JSON stored in S3 and read by canon derivation.

The readers live beside this module: extract_pdf (pypdf layout), text_lines (text, Markdown and HTML as lines),
color_specs (colour specifications), extract_text (statements), extract_image (CIELAB palette), extract_font (name
tables). Heavy libraries are imported inside the functions that use them, so importing this module stays cheap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sgd.errors import ValidationFailed
from sgd.ingest.color_specs import merge_drafts, negative_scopes, parse_color_specs, table_header
from sgd.ingest.extract_text import parse_statements
from sgd.ingest.text_lines import Line, html_to_text, lines_from_text, markdown_to_text

SAME_COLOUR_DELTA_E = 2.5  # a fill this close to a specified colour is that colour (PDF colour values are rounded)


class AdmittedLike(Protocol):
    """The fields of sgd.ingest.admission.AdmittedFile extraction reads."""

    kind: str
    mime: str
    extension: str
    data: bytes


@dataclass(frozen=True)
class Extraction:
    document: dict[str, Any]  # the JSON-serialisable evidence document, stored in S3
    font_file: bytes | None = None  # fonts: a TTF/OTF the design engine can load (WOFF2 decompressed)


def empty_document(kind: str, source: str) -> dict[str, Any]:
    return {"kind": kind, "source": source, "text": "", "pages": [], "fonts": [], "colors": [], "swatches": [],
            "palette": [], "logo": None, "font": None,
            "statements": {"typography": [], "tone": [], "dos": [], "donts": [], "clear_space": []}}


def extract(admitted: AdmittedLike, *, source: str) -> Extraction:
    """Dispatch on the admitted kind: pdf, image, logo, font or text (plain, Markdown or HTML)."""
    try:
        return _extract(admitted, source)
    except ValidationFailed:
        raise
    except Exception as error:
        raise ValidationFailed(f"could not read {source!r} as {admitted.kind}: {type(error).__name__}",
                               details={"source": source, "kind": admitted.kind}) from error


def _extract(admitted: AdmittedLike, source: str) -> Extraction:
    kind = admitted.kind
    document = empty_document(kind, source)
    if kind == "pdf":
        _extract_pdf(admitted.data, document)
        return Extraction(document)
    if kind in ("image", "logo"):
        _extract_image(admitted.data, document)
        return Extraction(document)
    if kind == "font":
        return _extract_font(admitted.data, document)
    if kind == "text":
        _extract_text(_decode(admitted.data), admitted.mime, admitted.extension, document)
        return Extraction(document)
    raise ValidationFailed(f"no extractor for the admitted kind {kind!r}", details={"kind": kind})


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


# ---------------------------------------------------------------------------------------------------------------


def _extract_text(raw: str, mime: str, extension: str, document: dict[str, Any]) -> None:
    extension = extension.lower().lstrip(".")
    if "html" in mime or extension in ("html", "htm"):
        text = html_to_text(raw)
    elif "markdown" in mime or extension in ("md", "markdown"):
        text = markdown_to_text(raw)
    else:
        text = raw
    lines = lines_from_text(text)
    document["text"] = "\n".join(line.text for line in lines)
    document["colors"] = merge_drafts(parse_color_specs(lines))
    document["statements"] = parse_statements(lines)


def _extract_pdf(data: bytes, document: dict[str, Any]) -> None:
    from sgd.ingest.extract_font import is_base14
    from sgd.ingest.extract_pdf import read_pdf

    layout = read_pdf(data)
    lines = [line for page in layout.pages for line in page.lines]
    document["pages"] = [page.text for page in layout.pages]
    document["text"] = "\n\n".join(document["pages"])
    lowered = document["text"].lower()
    document["fonts"] = [family for family in layout.fonts
                         if not is_base14(family) or re.search(rf"\b{re.escape(family.lower())}\b", lowered)]
    colors = merge_drafts(parse_color_specs(lines))
    document["swatches"] = _swatches(layout)
    colors.extend(_content_colors(layout, lines, colors))
    document["colors"] = colors
    document["statements"] = parse_statements(lines)


def _swatches(layout: Any) -> list[dict[str, Any]]:
    totals: dict[tuple[str, int], float] = {}
    for page in layout.pages:
        for fill in page.fills:
            if not fill.page_sized and not fill.decorative:
                key = (fill.hex, page.number)
                totals[key] = totals.get(key, 0.0) + fill.area_pct
    return [{"hex": hex_value, "page": page, "area_pct": round(area, 3)} for (hex_value, page), area in totals.items()]


def _near(specs_lab: Any, hex_value: str) -> bool:
    if not len(specs_lab):
        return False
    from sgd.design.colorimetry import ciede2000, hex_to_lab

    return bool((ciede2000(specs_lab, hex_to_lab(hex_value)) < SAME_COLOUR_DELTA_E).any())


def _label_line(page: Any, fill: Any, lines: Sequence[Line]) -> int | None:
    """The index (in `lines`) of the text that labels a swatch: inside it, to its right or just below it."""
    best: tuple[float, str] | None = None
    for fragment in page.fragments:
        right = fill.x1 - 2 <= fragment.x <= fill.x1 + 160 and fill.y0 - 4 <= fragment.y <= fill.y1 + 4
        below = fill.x0 - 6 <= fragment.x <= fill.x1 and fill.y0 - 2 * fragment.size <= fragment.y < fill.y0
        inside = fill.x0 <= fragment.x <= fill.x1 and fill.y0 <= fragment.y <= fill.y1
        if right or below or inside:
            distance = max(fragment.x - fill.x1, 0) + max(fill.y0 - fragment.y, 0)
            if best is None or distance < best[0]:
                best = (distance, fragment.text)
    if best is None:
        return None
    for index, line in enumerate(lines):
        if line.page == page.number and any(best[1] in cell.text for cell in line.cells):
            return index
    return None


def _content_colors(layout: Any, lines: Sequence[Line], specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Colours drawn but not specified in text: a labelled swatch is a colour in its own right (declared, or
    forbidden in a negative passage); page backgrounds, text colours and unlabelled fills are incidental."""
    from sgd.design.colorimetry import palette_lab
    from sgd.ingest.color_notations import find_notations
    from sgd.ingest.color_specs import is_negative

    specified = palette_lab([spec["hex"] for spec in specs])
    scopes = negative_scopes(lines)
    found: dict[str, dict[str, Any]] = {}

    def add(hex_value: str, page: int, role: str, context: str, name: str | None = None) -> None:
        existing = found.get(hex_value)
        if existing is None:
            found[hex_value] = {"hex": hex_value, "name": name, "notations": {"hex": hex_value}, "context": context,
                                "page": page, "role": role, "source": "swatch"}
        elif existing["role"] == "incidental" and role != "incidental":
            existing.update(role=role, context=context, name=name, page=page)

    for page in layout.pages:
        for fill in page.fills:
            if _near(specified, fill.hex):
                continue
            if fill.page_sized or fill.decorative:
                add(fill.hex, page.number, "incidental", "page background" if fill.page_sized else "decorative band")
                continue
            index = _label_line(page, fill, lines)
            label_line = lines[index] if index is not None else None
            label = label_line.text.replace("\t", " ").strip() if label_line is not None else ""
            # A table's header or row drawn on a shaded cell is not a swatch label.
            is_table_text = label_line is not None and (len(label_line.cells) > 2 or table_header(label_line))
            if label and not is_table_text and not find_notations(label) and len(label.split()) <= 6:
                role = "forbidden" if is_negative(label) or scopes[index] else "declared"  # type: ignore[index]
                add(fill.hex, page.number, role, label, name=label)
            else:
                add(fill.hex, page.number, "incidental", "unlabelled fill")
        for hex_value in page.text_colors:
            if not _near(specified, hex_value):
                add(hex_value, page.number, "incidental", "text colour")
    return list(found.values())


def _extract_image(data: bytes, document: dict[str, Any]) -> None:
    from sgd.ingest.extract_image import read_image

    facts = read_image(data)
    document["palette"] = facts.palette
    document["logo"] = facts.logo


def _extract_font(data: bytes, document: dict[str, Any]) -> Extraction:
    from sgd.ingest.extract_font import read_font_names, to_sfnt

    font_file = to_sfnt(data)
    names = read_font_names(font_file)
    if names is not None:
        document["font"] = {"family": names.family, "style": names.style, "full_name": names.full_name}
        document["fonts"] = [names.family]
    return Extraction(document, font_file)
