"""Extraction: one admitted file -> its evidence document (text, colour specifications, swatches, palette, fonts,
statements), the JSON stored in S3 and read by canon derivation.

This module dispatches on the admitted kind and reads text files itself; the other kinds have their readers beside
it: extract_pdf, extract_image (CIELAB palette), extract_font (name tables). Heavy libraries are imported inside
the functions that use them, so importing this module stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sgd.errors import ValidationFailed
from sgd.ingest.admitted import AdmittedFile
from sgd.ingest.color_specs import merge_drafts, parse_color_specs
from sgd.ingest.extract_text import parse_statements
from sgd.ingest.text_lines import html_to_text, lines_from_text, markdown_to_text


@dataclass(frozen=True)
class Extraction:
    document: dict[str, Any]  # the JSON-serialisable evidence document, stored in S3
    font_file: bytes | None = None  # fonts: a TTF/OTF the design engine can load (WOFF2 decompressed)


def empty_document(kind: str, source: str) -> dict[str, Any]:
    return {"kind": kind, "source": source, "text": "", "pages": [], "fonts": [], "colors": [], "swatches": [],
            "palette": [], "logo": None, "font": None,
            "statements": {"typography": [], "tone": [], "dos": [], "donts": [], "clear_space": []}}


def extract(admitted: AdmittedFile, *, source: str) -> Extraction:
    """Dispatch on the admitted kind: pdf, image, logo, font or text (plain, Markdown or HTML)."""
    try:
        return _extract(admitted, source)
    except ValidationFailed:
        raise
    except Exception as error:
        raise ValidationFailed(f"could not read {source!r} as {admitted.kind}: {type(error).__name__}",
                               details={"source": source, "kind": admitted.kind}) from error


def _extract(admitted: AdmittedFile, source: str) -> Extraction:
    kind = admitted.kind
    document = empty_document(kind, source)
    if kind == "pdf":
        from sgd.ingest.extract_pdf import extract_pdf

        extract_pdf(admitted.data, document)
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
