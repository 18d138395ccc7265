"""A guideline PDF as evidence. pypdf reads each page in one pass: the text rebuilt into lines and table rows (cells
with positions), the fill colours of rectangles (swatches) and of text, and the embedded fonts; that layout then
becomes the document's text, fonts, colour specifications, swatches, drawn colours and statements."""

from __future__ import annotations

import io
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sgd.design.color import to_hex
from sgd.ingest.color_notations import find_notations
from sgd.ingest.color_specs import is_negative, merge_drafts, negative_scopes, parse_color_specs, table_header
from sgd.ingest.extract_font import clean_font_name, is_base14, read_font_names
from sgd.ingest.extract_text import parse_statements
from sgd.ingest.text_lines import Cell, Line, clean_text, continues_prose

_FILL_OPS = {b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"}
_TEXT_OPS = {b"Tj", b"TJ", b"'", b'"'}
_PAGE_SIZED = 0.85  # a fill covering this share of the page is its background, not a swatch
_MAX_ASPECT = 5.0  # longer and thinner than this is a band or a rule
_MAX_WIDTH_SHARE = 0.6  # wider than this share of the page is a band
SAME_COLOUR_DELTA_E = 2.5  # a fill this close to a specified colour is that colour (PDF colour values are rounded)


@dataclass(frozen=True)
class Fragment:
    text: str
    x: float
    y: float
    size: float


@dataclass(frozen=True)
class Fill:
    hex: str
    x0: float
    y0: float
    x1: float
    y1: float
    area_pct: float
    page_sized: bool
    decorative: bool  # a band or rule (long and thin, or most of the page wide): not a swatch


@dataclass
class PdfPage:
    number: int  # 1-based
    text: str
    lines: list[Line]
    fragments: list[Fragment]
    fills: list[Fill]
    text_colors: Counter[str] = field(default_factory=Counter)


@dataclass
class PdfLayout:
    pages: list[PdfPage]
    fonts: list[str]  # embedded or referenced families, cleaned, in order of first use


def _multiply(first: list[float], second: list[float]) -> list[float]:
    a, b, c, d, e, f = first
    g, h, i, j, k, l_ = second
    return [a * g + b * i, a * h + b * j, c * g + d * i, c * h + d * j, e * g + f * i + k, e * h + f * j + l_]


def _color(operands: list[Any], space: str | None) -> str | None:
    try:
        values = [float(value) for value in operands if not hasattr(value, "startswith")]
    except (TypeError, ValueError):
        return None
    if len(values) == 1 or (space == "gray" and values):
        level = round(255 * min(max(values[0], 0.0), 1.0))
        return to_hex((level, level, level))
    if len(values) == 3:
        return to_hex(tuple(round(255 * min(max(value, 0.0), 1.0)) for value in values))  # type: ignore[arg-type]
    if len(values) == 4:
        cyan, magenta, yellow, black = (min(max(value, 0.0), 1.0) for value in values)
        return to_hex(tuple(round(255 * (1 - channel) * (1 - black)) for channel in (cyan, magenta, yellow)))  # type: ignore[arg-type]
    return None


class _PageReader:
    """Collects text fragments, rectangle fills and text colours through pypdf's extract_text visitors."""

    def __init__(self, width: float, height: float) -> None:
        self.page_width = max(width, 1.0)
        self.page_area = max(width * height, 1.0)
        self.fragments: list[Fragment] = []
        self.fills: list[Fill] = []
        self.text_colors: Counter[str] = Counter()
        self.fill_color: str | None = "#000000"
        self.fill_space: str | None = None
        self.stack: list[tuple[str | None, str | None]] = []
        self.rects: list[tuple[float, float, float, float]] = []

    def operand(self, operator: bytes, operands: list[Any], cm: list[float], tm: list[float]) -> None:
        if operator == b"q":
            self.stack.append((self.fill_color, self.fill_space))
        elif operator == b"Q":
            if self.stack:
                self.fill_color, self.fill_space = self.stack.pop()
        elif operator in (b"rg", b"g", b"k"):
            self.fill_color = _color(operands, "gray" if operator == b"g" else None)
        elif operator == b"cs":
            name = str(operands[0]) if operands else ""
            self.fill_space = "gray" if "Gray" in name else None
        elif operator in (b"sc", b"scn"):
            self.fill_color = _color(operands, self.fill_space)
        elif operator == b"re" and len(operands) == 4:
            x, y, w, h = (float(value) for value in operands)
            corners = [(x, y), (x + w, y), (x, y + h), (x + w, y + h)]
            points = [(cm[0] * px + cm[2] * py + cm[4], cm[1] * px + cm[3] * py + cm[5]) for px, py in corners]
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            self.rects.append((min(xs), min(ys), max(xs), max(ys)))
        elif operator in _FILL_OPS:
            if self.fill_color:
                for x0, y0, x1, y1 in self.rects:
                    area = (x1 - x0) * (y1 - y0)
                    if area > 4:  # hairlines are rules, not swatches
                        share = area / self.page_area
                        width, height = x1 - x0, y1 - y0
                        decorative = (max(width, height) > _MAX_ASPECT * min(width, height)
                                      or width > _MAX_WIDTH_SHARE * self.page_width)
                        self.fills.append(Fill(self.fill_color, x0, y0, x1, y1, round(100 * share, 3),
                                               share >= _PAGE_SIZED, decorative))
            self.rects = []
        elif operator in (b"n", b"S", b"s"):
            self.rects = []
        elif operator in _TEXT_OPS and self.fill_color:
            self.text_colors[self.fill_color] += 1

    def text(self, text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        cleaned = clean_text(text)
        if not cleaned:
            return
        matrix = _multiply(tm, cm)
        scale = math.hypot(matrix[0], matrix[1]) or 1.0
        self.fragments.append(Fragment(cleaned, matrix[4], matrix[5], size * scale))


def _lines(fragments: list[Fragment], page: int) -> list[Line]:
    """Fragments in content-stream order -> lines; fragments on one baseline join, a wide gap starts a new cell."""
    lines: list[Line] = []
    previous: Fragment | None = None
    for fragment in fragments:
        same_row = (previous is not None and abs(fragment.y - previous.y) < 0.4 * max(previous.size, 1)
                    and fragment.x >= previous.x)
        if same_row and lines:
            assert previous is not None
            estimated_end = previous.x + 0.5 * previous.size * len(previous.text)
            line = lines[-1]
            if fragment.x - estimated_end > 1.5 * previous.size:
                line.cells.append(Cell(fragment.text, fragment.x))
            else:
                last = line.cells[-1]
                line.cells[-1] = Cell(f"{last.text} {fragment.text}", last.x)
        else:
            line = Line([Cell(fragment.text, fragment.x)], page, fragment.x, fragment.y, fragment.size)
            if lines and continues_prose(lines[-1], line):
                last = lines[-1].cells[-1]
                lines[-1].cells[-1] = Cell(f"{last.text} {fragment.text}", last.x)
                lines[-1].y = fragment.y
            else:
                lines.append(line)
        previous = fragment
    return lines


def _font_families(reader: Any) -> list[str]:
    """Every font the pages use: the family from the embedded font program's name table when there is one,
    else the cleaned BaseFont name."""
    families: list[str] = []
    seen: set[int] = set()
    for page in reader.pages:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font") if resources is not None else None
        if fonts is None:
            continue
        for reference in fonts.get_object().values():
            font = reference.get_object()
            if id(font) in seen:
                continue
            seen.add(id(font))
            base = str(font.get("/BaseFont", ""))
            family = _embedded_family(font)
            family = family or (clean_font_name(base) if base else None)
            if family and family not in families:
                families.append(family)
    return families


def _embedded_family(font: Any) -> str | None:
    descriptor = font.get("/FontDescriptor")
    if descriptor is None and "/DescendantFonts" in font:
        descendants = font["/DescendantFonts"].get_object()
        descriptor = descendants[0].get_object().get("/FontDescriptor") if descendants else None
    if descriptor is None:
        return None
    descriptor = descriptor.get_object()
    for key in ("/FontFile2", "/FontFile3"):
        if key in descriptor:
            try:
                names = read_font_names(descriptor[key].get_object().get_data())
            except Exception:
                names = None
            if names:
                return names.family
    return None


def read_pdf(data: bytes) -> PdfLayout:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    pages: list[PdfPage] = []
    for number, page in enumerate(reader.pages, start=1):
        box = page.mediabox
        collector = _PageReader(float(box.width), float(box.height))
        page.extract_text(visitor_operand_before=collector.operand, visitor_text=collector.text)
        lines = _lines(collector.fragments, number)
        text = "\n".join(line.text.replace("\t", "  ") for line in lines)
        pages.append(PdfPage(number, text, lines, collector.fragments, collector.fills, collector.text_colors))
    return PdfLayout(pages, _font_families(reader))


# --- the layout as evidence -------------------------------------------------------------------------------------


def extract_pdf(data: bytes, document: dict[str, Any]) -> None:
    """Fills `document` (sgd.ingest.extract.empty_document) with what the PDF says and shows."""
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


def _swatches(layout: PdfLayout) -> list[dict[str, Any]]:
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


def _label_line(page: PdfPage, fill: Fill, lines: Sequence[Line]) -> int | None:
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


def _content_colors(layout: PdfLayout, lines: Sequence[Line], specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Colours drawn but not specified in text: a labelled swatch is a colour in its own right (declared, or
    forbidden in a negative passage); page backgrounds, text colours and unlabelled fills are incidental."""
    from sgd.design.colorimetry import palette_lab

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
