"""Reading brand rules out of text: colour specifications in any common notation, and the typography, tone,
do/don't and clear-space statements. Pure logic over lines of text; the PDF reader feeds it lines it rebuilt
from the page layout (with cell positions), text, Markdown and HTML files feed it their own lines.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from sgd.design.color import to_hex

# ---------------------------------------------------------------------------------------------------------------
# Lines
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    text: str
    x: float = 0.0


@dataclass
class Line:
    """One logical line: a paragraph of prose, a table row (several cells) or a label."""

    cells: list[Cell]
    page: int | None = None
    x: float = 0.0
    y: float = 0.0
    size: float = 0.0  # font size in points (PDF); 0 for plain text

    @property
    def text(self) -> str:
        return "\t".join(cell.text for cell in self.cells)


def lines_from_text(text: str, page: int | None = None) -> list[Line]:
    """Plain text -> logical lines; wrapped prose lines (no terminal punctuation, next starts lower-case) join."""
    lines: list[Line] = []
    for raw in text.splitlines():
        indent = len(raw) - len(raw.lstrip())
        stripped = clean_text(raw)
        if not stripped:
            continue
        parts = [part.strip() for part in re.split(r"\t+| {3,}|\s\|\s", stripped) if part.strip()]
        # A text table has no geometry: a cell's x is its column number (scaled past the header-matching slack).
        cells = [Cell(part, float(indent + 100 * column)) for column, part in enumerate(parts)]
        line = Line(cells or [Cell(stripped)], page, float(indent))
        if lines and continues_prose(lines[-1], line):
            lines[-1].cells[-1] = Cell(lines[-1].cells[-1].text + " " + line.text, lines[-1].cells[-1].x)
        else:
            lines.append(line)
    return lines


_BULLET = re.compile(r"^\s*(?:[\u2022\u25cf\u25aa\u25e6\u00b7\u2023\u2043\u2013\u2014*+\-\u2713\u2714\u2717\u2718"
                     r"\u2715\u2716\x01]|\d{1,2}[.)](?!\d))\s*")


def clean_text(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ").replace("\x01", "\u2022")
    return re.sub(r"[ \u2009\u200a]{2,}", " ", text).strip()


def continues_prose(previous: Line, line: Line) -> bool:
    """Is `line` the wrapped continuation of the prose in `previous`?"""
    if len(previous.cells) != 1 or len(line.cells) != 1 or (_BULLET.match(line.text) and not line.text[:1].isdigit()):
        return False
    before, after = previous.text, line.text
    if previous.size and line.size and (abs(previous.y - line.y) > 2.2 * previous.size or previous.page != line.page):
        return False
    if before.endswith((".", "!", "?", ":")) or _HEADING_WORDS.fullmatch(before.lower()):
        return False
    starts_lower = after[:1].islower() or after[:1] in "#(" or (after[:1].isdigit() and not _BULLET.match(after))
    return starts_lower or (len(before) >= 50 and abs(previous.x - line.x) < 2 and not _BULLET.match(after))


# ---------------------------------------------------------------------------------------------------------------
# Colour notations
# ---------------------------------------------------------------------------------------------------------------

_NUM = r"(\d{1,3}(?:\.\d+)?)"
_SEP = r"\s*[,/;\s]\s*"
_PCT = r"\s*%?"
_HEX_DIGITS = r"([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("hex", re.compile(rf"\b(?:hex(?:adecimal)?|html|web|css)(?:\s+(?:code|value|colou?r))?\s*[:=#]?\s*#?"
                       rf"{_HEX_DIGITS}(?![0-9A-Za-z])", re.I)),
    ("hex", re.compile(rf"(?<![\w&#]){'#'}{_HEX_DIGITS}(?![0-9A-Za-z])")),
    ("rgb", re.compile(rf"\brgba?\(\s*{_NUM}(%?){_SEP}{_NUM}(%?){_SEP}{_NUM}(%?)\s*(?:[,/]\s*[\d.]+%?\s*)?\)", re.I)),
    ("rgb", re.compile(rf"\bRGB\s*(?:values?)?\s*[:=]?\s*{_NUM}{_SEP}{_NUM}{_SEP}{_NUM}(?![\d.])", re.I)),
    ("rgb", re.compile(rf"\bR\s*[:=]?\s*{_NUM}\s*[,;/]?\s*G\s*[:=]?\s*{_NUM}\s*[,;/]?\s*B\s*[:=]?\s*{_NUM}(?![\d.])")),
    ("cmyk", re.compile(rf"\bcmyk\(\s*{_NUM}{_PCT}{_SEP}{_NUM}{_PCT}{_SEP}{_NUM}{_PCT}{_SEP}{_NUM}{_PCT}\s*\)", re.I)),
    ("cmyk", re.compile(rf"\bCMYK\s*(?:values?)?\s*[:=]?\s*{_NUM}{_PCT}{_SEP}{_NUM}{_PCT}{_SEP}{_NUM}{_PCT}{_SEP}"
                        rf"{_NUM}(?![\d.])%?", re.I)),
    ("cmyk", re.compile(rf"\bC\s*[:=]?\s*{_NUM}{_PCT}\s*[,;/]?\s*M\s*[:=]?\s*{_NUM}{_PCT}\s*[,;/]?\s*"
                        rf"Y\s*[:=]?\s*{_NUM}{_PCT}\s*[,;/]?\s*K\s*[:=]?\s*{_NUM}(?![\d.])%?")),
    ("pantone", re.compile(r"\b(?:PANTONE|Pantone|PMS)(?:\s*\u00ae)?\s*[:=]?\s*((?:\d{2,5}(?:-\d)?|"
                           r"[A-Z][A-Za-z]+(?:\s[A-Z][a-z]+){0,2})(?:\s?(?:C|U|CP|UP|M|TCX|TPX|TPG)\b)?)")),
]

# Table header words that say what a bare value in their column is.
_COLUMN_LABELS = {"rgb": "RGB", "r": "R", "g": "G", "b": "B", "cmyk": "CMYK", "c": "C", "m": "M", "y": "Y", "k": "K",
                  "hex": "HEX", "html": "HEX", "web": "HEX", "hex code": "HEX", "css": "HEX", "pantone": "Pantone",
                  "pms": "Pantone", "spot": "Pantone"}
_NAME_HEADERS = {"name", "colour", "color", "colour name", "color name", "swatch name"}
_LABEL_WORDS = re.compile(r"\b(?:hex(?:adecimal)?|html|web|css|rgba?|cmyk|pantone|pms|code|value|values|spot|print|"
                          r"screen|digital)\b|[:=|()\[\],;/\-\u2013\u2014\u2022]", re.I)


@dataclass(frozen=True)
class Notation:
    kind: str  # hex | rgb | cmyk | pantone
    start: int
    end: int
    text: str
    rgb: tuple[int, int, int] | None


def _channel(value: str, percent: str = "") -> int | None:
    number = float(value)
    if percent:
        return round(number * 2.55) if number <= 100 else None
    return round(number) if number <= 255 else None


def _cmyk_to_rgb(values: Sequence[float]) -> tuple[int, int, int] | None:
    if any(value > 100 for value in values):
        return None
    cyan, magenta, yellow, black = (value / 100 for value in values)
    return tuple(round(255 * (1 - channel) * (1 - black)) for channel in (cyan, magenta, yellow))  # type: ignore[return-value]


def _hex_rgb(digits: str) -> tuple[int, int, int]:
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def find_notations(text: str) -> list[Notation]:
    """Every colour notation in `text`, left to right, overlaps resolved in favour of the longer match."""
    found: list[Notation] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            rgb: tuple[int, int, int] | None = None
            if kind == "hex":
                rgb = _hex_rgb(match[1])
            elif kind == "rgb":
                groups = match.groups()
                if len(groups) == 6:
                    channels = [_channel(groups[i], groups[i + 1]) for i in (0, 2, 4)]
                else:
                    channels = [_channel(value) for value in groups]
                if any(channel is None for channel in channels):
                    continue
                rgb = tuple(channels)  # type: ignore[assignment]
            elif kind == "cmyk":
                values = [float(value) for value in match.groups()]
                if any(value > 100 for value in values):
                    continue
            found.append(Notation(kind, match.start(), match.end(), match[0].strip(), rgb))
    found.sort(key=lambda notation: (notation.start, -(notation.end - notation.start)))
    kept: list[Notation] = []
    for notation in found:
        if kept and notation.start < kept[-1].end:
            continue
        kept.append(notation)
    return kept


def notation_hex(notation: Notation) -> str | None:
    """The hex a notation implies: exact for hex and RGB, a naive conversion for CMYK, none for Pantone."""
    if notation.rgb is not None:
        return to_hex(notation.rgb)
    if notation.kind == "cmyk":
        values = [float(value) for value in re.findall(r"\d{1,3}(?:\.\d+)?", notation.text)][-4:]
        rgb = _cmyk_to_rgb(values)
        return to_hex(rgb) if rgb else None
    return None


def _notation_value(notation: Notation) -> str:
    if notation.kind == "hex":
        return to_hex(notation.rgb) if notation.rgb else notation.text
    if notation.kind == "rgb" and notation.rgb:
        return "rgb({}, {}, {})".format(*notation.rgb)
    if notation.kind == "cmyk":
        values = re.findall(r"\d{1,3}(?:\.\d+)?", notation.text)[-4:]
        return "cmyk({})".format(", ".join(values))
    match = re.search(r"(?:PANTONE|Pantone|PMS)(?:\s*\u00ae)?\s*[:=]?\s*(.+)", notation.text)
    return f"Pantone {match[1].strip()}" if match else notation.text


# ---------------------------------------------------------------------------------------------------------------
# Roles: declared, forbidden
# ---------------------------------------------------------------------------------------------------------------

NEGATIVE = re.compile(r"\b(?:never|incorrect(?:ly)?|don't|dont|don'ts|donts|do not|avoid|not allowed|"
                      r"not permitted|wrong|forbidden|prohibited|must not|mustn't|should not|shouldn't|banned|misuse|"
                      r"off-brand)\b", re.I)
_POSITIVE = re.compile(r"\b(?:primary|secondary|accent|tertiary|palette|approved|core colou?rs?|brand colou?rs?|"
                       r"use these|use only|supporting colou?rs?|neutrals?)\b", re.I)
_COLOUR_WORD = re.compile(r"\b(?:colou?rs?|palettes?|hues?|shades?|tints?|swatch(?:es)?)\b", re.I)
_HEADING_NUMBER = re.compile(r"^\d{1,2}(?:\.\d{1,2})*\.?\s+[A-Za-z]")
_HEADING_WORDS = re.compile(r"(?:\d{1,2}\.?\s+)?(?:do|dos|do's|don't|dont|don'ts|donts|the dos|the don'ts|"
                            r"what to do|what not to do|avoid|incorrect(?: use)?|correct(?: use)?)\s*:?")
_SECTION_WORDS = re.compile(r"\b(?:typography|type|logo|logotype|voice|tone|imagery|photography|iconography|layout|"
                            r"contents|introduction)\b", re.I)


def clause_around(text: str, start: int, end: int) -> str:
    """The sentence or clause of `text` that holds [start, end): roles are read from it, not the whole paragraph."""
    splits = re.finditer(r"(?<=[.!?;])\s+(?=\S)|\s+(?:but|instead of|whereas)\s+", text)
    bounds = [0] + [match.end() for match in splits]
    bounds.append(len(text) + 1)
    for left, right in itertools.pairwise(bounds):
        if left <= start < right:
            return text[left:right].strip(" \t;")
    return text


def is_negative(text: str) -> bool:
    return bool(NEGATIVE.search(text))


# ---------------------------------------------------------------------------------------------------------------
# Colour specifications over lines
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class ColorSpecDraft:
    hex: str
    name: str | None
    notations: dict[str, str]
    context: str
    page: int | None
    role: str
    line_index: int
    exact: bool  # its hex came from a hex or RGB notation (not a CMYK conversion)


@dataclass
class _Table:
    columns: list[tuple[float, str]]  # (x, label) where label is a notation label, "NAME" or ""
    page: int | None


@dataclass
class _Group:
    notations: list[Notation] = field(default_factory=list)
    name: str | None = None
    context: str = ""
    line_index: int = 0
    page: int | None = None
    negative: bool = False
    positive: bool = False

    def kinds(self) -> set[str]:
        return {notation.kind for notation in self.notations}

    def exact_hex(self) -> str | None:
        for notation in self.notations:
            if notation.rgb is not None:
                return to_hex(notation.rgb)
        return None


def table_header(line: Line) -> _Table | None:
    if len(line.cells) < 2:
        return None
    columns = []
    recognised = 0
    for cell in line.cells:
        key = cell.text.strip(" :").lower()
        if key in _COLUMN_LABELS:
            columns.append((cell.x, _COLUMN_LABELS[key]))
            recognised += 1
        elif key in _NAME_HEADERS:
            columns.append((cell.x, "NAME"))
        else:
            columns.append((cell.x, ""))
    return _Table(columns, line.page) if recognised else None


def _column_of(table: _Table, x: float) -> str:
    left = [label for column_x, label in table.columns if column_x <= x + 6]
    if left:
        return left[-1]
    return min(table.columns, key=lambda column: abs(column[0] - x))[1]


def _labelled_row(line: Line, table: _Table) -> tuple[str, str | None]:
    """A table row rewritten as labelled text ('R 11 G 61 B 145'), and the cell of its name column."""
    parts: list[str] = []
    name = None
    for cell in line.cells:
        label = _column_of(table, cell.x)
        if label == "NAME" and name is None:
            name = cell.text
            parts.append(cell.text)
        elif label and label != "NAME" and not any(n.kind == _label_kind(label) for n in find_notations(cell.text)):
            parts.append(f"{label} {cell.text}")
        else:
            parts.append(cell.text)
    return "\t".join(parts), name


def _label_kind(label: str) -> str:
    return {"RGB": "rgb", "R": "rgb", "G": "rgb", "B": "rgb", "CMYK": "cmyk", "C": "cmyk", "M": "cmyk", "Y": "cmyk",
            "K": "cmyk", "HEX": "hex", "Pantone": "pantone"}[label]


def _leftover(text: str, notations: Sequence[Notation]) -> str:
    pieces, cursor = [], 0
    for notation in notations:
        pieces.append(text[cursor:notation.start])
        cursor = notation.end
    pieces.append(text[cursor:])
    rest = _LABEL_WORDS.sub(" ", " ".join(pieces))
    return re.sub(r"\s+", " ", rest).strip(" .")


_CAPITALISED_RUN = re.compile(r"\b[A-Z][\w'&-]*(?:\s+[A-Z][\w'&-]*){0,2}")
_NOT_NAMES = {"use", "never", "avoid", "our", "the", "and", "or", "with", "a", "an", "for", "in", "on", "we", "it",
              "its", "this", "these", "rgb", "hex", "cmyk", "pantone", "pms", "r", "g", "b", "c", "m", "y", "k", "do",
              "don't", "always", "only", "primary", "secondary", "accent", "incorrect", "wrong", "not"}


def _name_from_prose(clause_before: str) -> str | None:
    """The colour's name in a sentence: the nearest capitalised words before its value ('... is Lumen Violet,
    RGB: 92/45/145' -> 'Lumen Violet')."""
    for match in reversed(list(_CAPITALISED_RUN.finditer(clause_before))):
        words = [word for word in match[0].split() if word.lower() not in _NOT_NAMES]
        if (words and match[0].split()[0].lower() not in _NOT_NAMES) or len(words) > 1:
            return " ".join(words)
    return None


def _is_name_line(text: str) -> bool:
    words = text.split()
    return 0 < len(words) <= 5 and not text.endswith((".", "!", "?")) and any(ch.isalpha() for ch in text)


def negative_scopes(lines: Sequence[Line]) -> list[bool]:
    """For each line: is it inside a 'colours not to use' passage? A line without colour values that is negative and
    about colour (or a heading such as "Don'ts", or ends in ':') opens one; a positive or new-section heading, or the
    next page, closes it."""
    flags: list[bool] = []
    scope, page = False, None
    for line in lines:
        if line.page != page:
            scope, page = False, line.page
        text = line.text.replace("\t", " ").strip()
        if not find_notations(text):
            if is_negative(text) and (_COLOUR_WORD.search(text) or text.endswith(":")
                                      or _HEADING_WORDS.fullmatch(text.lower())):
                scope = True
            elif _POSITIVE.search(text) or _HEADING_NUMBER.match(text) or (
                    _SECTION_WORDS.search(text) and len(text.split()) <= 4):
                scope = False
        flags.append(scope)
    return flags


def parse_color_specs(lines: Sequence[Line]) -> list[ColorSpecDraft]:
    """Colour specifications in reading order, each swatch's notations grouped, with role and context.

    A group is the notations of one colour: a table row, a card of labelled values on consecutive lines, or one
    colour of a prose sentence. A new group starts at a line with other text, when a notation kind repeats, or
    when a hex/RGB value disagrees with the group's.
    """
    groups: list[_Group] = []
    current: _Group | None = None
    pending_name: str | None = None
    scopes = negative_scopes(lines)
    table: _Table | None = None
    page: int | None = None

    def close() -> None:
        nonlocal current
        if current is not None and current.notations:
            groups.append(current)
        current = None

    for index, line in enumerate(lines):
        if line.page != page:
            close()
            page, table, pending_name = line.page, None, None
        header = table_header(line)
        if header is not None:
            close()
            table, pending_name = header, None
            continue
        text, table_name = line.text, None
        if table is not None and len(line.cells) >= 2:
            text, table_name = _labelled_row(line, table)
        elif table is not None and len(line.cells) < 2:
            table = None
        notations = find_notations(text)
        negative_scope = scopes[index]
        if not notations:
            close()
            stripped = text.strip()
            pending_name = stripped if _is_name_line(stripped) else None
            continue
        leftover = _leftover(text, notations)
        spec_only = not leftover or bool(table_name and leftover == _leftover(table_name, []))
        prose = len(leftover.split()) > 5
        if not spec_only:
            close()
        line_name = table_name or (leftover if leftover and not prose and _is_name_line(leftover) else None)
        for notation in notations:
            if current is not None:
                repeated = notation.kind in current.kinds()
                exact = current.exact_hex()
                disagrees = notation.rgb is not None and exact is not None and to_hex(notation.rgb) != exact
                if repeated or disagrees or (prose and current.line_index != index):
                    close()
            if current is None:
                clause = clause_around(text, notation.start, notation.end) if prose else text.replace("\t", " ")
                if prose:
                    name = _name_from_prose(text[max(0, text.find(clause)):notation.start])
                else:
                    name = line_name or pending_name
                current = _Group(name=name, context=clause, line_index=index, page=line.page)
                current.negative = is_negative(clause) or bool(name and is_negative(name))
                current.positive = bool(_POSITIVE.search(clause)) and not current.negative
                if negative_scope and not current.positive:
                    current.negative = True
            current.notations.append(notation)
        pending_name = None
        if prose:
            close()
    close()
    return _drafts(groups)


def _drafts(groups: Iterable[_Group]) -> list[ColorSpecDraft]:
    drafts = []
    orphans: list[_Group] = []
    for group in groups:
        if group.exact_hex() is None and group.kinds() <= {"pantone"}:
            orphans.append(group)  # a Pantone name alone has no screen value to use
            continue
        notations: dict[str, str] = {}
        for notation in group.notations:
            notations.setdefault(notation.kind, _notation_value(notation))
        exact = group.exact_hex()
        hex_value = exact or next(filter(None, (notation_hex(n) for n in group.notations)), None)
        if hex_value is None:
            continue
        role = "forbidden" if group.negative else "declared"
        drafts.append(ColorSpecDraft(hex_value, group.name, notations, group.context[:300], group.page, role,
                                     group.line_index, exact is not None))
    return drafts


def merge_drafts(drafts: Sequence[ColorSpecDraft]) -> list[dict[str, Any]]:
    """One ColorSpec per hex (first appearance order), every notation merged. A colour the document both declares
    and forbids (a usage restriction such as 'never use Solar for body text') stays declared."""
    merged: dict[str, dict[str, Any]] = {}
    for draft in drafts:
        spec = merged.get(draft.hex)
        if spec is None:
            merged[draft.hex] = {"hex": draft.hex, "name": draft.name, "notations": dict(draft.notations),
                                 "context": draft.context, "page": draft.page, "role": draft.role, "source": "text"}
            continue
        for kind, value in draft.notations.items():
            spec["notations"].setdefault(kind, value)
        spec["name"] = spec["name"] or draft.name
        if draft.role == "declared" and spec["role"] == "forbidden":
            spec["role"], spec["context"] = "declared", draft.context
    return list(merged.values())


# ---------------------------------------------------------------------------------------------------------------
# Statements
# ---------------------------------------------------------------------------------------------------------------

_TYPOGRAPHY = re.compile(
    r"\b(?:headlines?|headings?|heads|body(?:\s+(?:copy|text))?|display|titles?|captions?|sub-?heads?|sub-?headings?|"
    r"typefaces?|fonts?|type\s*famil(?:y|ies)|primary\s+(?:type|font)|secondary\s+(?:type|font)|brand\s+font)\b"
    r"[^.]{0,60}?(?:\bset in\b|\bis\b|\bare\b|\buses?\b|:|\bin\b)", re.I)
_TONE = re.compile(r"\b(?:tone of voice|our tone|brand tone|tone|our voice|brand voice|voice)\s*(?:is|are|:|should be|"
                   r"sounds?|feels?)\s+(?P<phrase>[^.;\n]+)", re.I)
_CLEAR_SPACE = re.compile(r"\b(?:clear\s*space|clear\s*zone|exclusion\s+zone|safe\s+(?:zone|area)|protected\s+area|"
                          r"breathing\s+room|minimum\s+(?:space|margin)|isolation\s+area|free\s+space)\b", re.I)
_DO_HEADING = re.compile(r"(?:\d{1,2}\.?\s+)?(?:do|dos|do's|the dos|what to do|always|correct(?: use)?)\s*:?", re.I)
_DONT_HEADING = re.compile(r"(?:\d{1,2}\.?\s+)?(?:don't|dont|don'ts|donts|do not|the don'ts|what not to do|avoid|never|"
                           r"incorrect(?: use)?)\s*:?", re.I)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


def sentences(text: str) -> list[str]:
    return [match[0].strip() for match in _SENTENCE.finditer(text) if match[0].strip()]


def parse_statements(lines: Sequence[Line]) -> dict[str, list[str]]:
    statements: dict[str, list[str]] = {"typography": [], "tone": [], "dos": [], "donts": [], "clear_space": []}
    free_dos: list[str] = []
    free_donts: list[str] = []
    mode: str | None = None
    heading_x = 0.0
    mode_page: int | None = None
    for line in lines:
        text = line.text.replace("\t", " ").strip()
        lowered = text.lower()
        if line.page != mode_page:
            mode = None
        if _DONT_HEADING.fullmatch(lowered):
            mode, heading_x, mode_page = "donts", line.x, line.page
            continue
        if _DO_HEADING.fullmatch(lowered):
            mode, heading_x, mode_page = "dos", line.x, line.page
            continue
        bullet = _BULLET.match(text)
        if mode is not None:
            item = text[bullet.end():].strip() if bullet else text
            indented = line.x > heading_x + 4
            if (bullet or indented) and item and len(item) <= 300 and not find_notations(item):
                statements[mode].append(item.rstrip("."))
                continue
            mode = None
        body = text[bullet.end():] if bullet else text
        for sentence in sentences(body):
            if _TYPOGRAPHY.search(sentence) and font_names_in(sentence):
                statements["typography"].append(sentence)
            tone = _TONE.search(sentence)
            if tone and len(tone["phrase"].split()) <= 12:
                statements["tone"].append(sentence)
            if _CLEAR_SPACE.search(sentence):
                statements["clear_space"].append(sentence)
            if not find_notations(sentence) and len(sentence) <= 300:
                if re.match(r"never\b", sentence, re.I):
                    free_donts.append(sentence.rstrip("."))
                elif re.match(r"always\b", sentence, re.I):
                    free_dos.append(sentence.rstrip("."))
    # "Never ..." / "Always ..." sentences stand in only where the document has no Do / Don't lists of its own.
    if not statements["dos"] and not statements["donts"]:
        statements["dos"], statements["donts"] = free_dos, free_donts
    for key, values in statements.items():
        statements[key] = list(dict.fromkeys(values))
    return statements


def tone_phrase(statement: str) -> str | None:
    match = _TONE.search(statement)
    if not match:
        return None
    phrase = re.sub(r"^(?:always|consistently|both|to be)\s+", "", match["phrase"].strip(" .:;\"'"), flags=re.I)
    return phrase[:200] or None


_FONT_AFTER = re.compile(
    r"(?:\bset in\b|\btypefaces?\b\s*(?:is|are|:)?|\bfonts?\b\s*(?:is|are|:)?|\bfamil(?:y|ies)\b\s*(?:is|are|:)?|"
    r"\buses?\b|\bis\b|\bare\b|:|\bin\b)\s*(?P<names>[A-Z0-9][^.;:()\n]*)")
_STYLE_WORDS = {"bold", "regular", "italic", "light", "medium", "semibold", "semi", "extrabold", "black", "thin",
                "heavy", "book", "roman", "oblique", "condensed", "demi", "demibold", "ultra", "extralight", "hairline"}
_NOT_FONTS = {"the", "a", "an", "our", "all", "this", "these", "it", "they", "headlines", "body", "copy", "text",
              "display", "use", "and", "or", "for", "with", "type", "font", "fonts", "typeface", "typefaces", "aa",
              "title", "sentence", "upper", "uppercase", "lowercase", "capitals", "caps", "small", "bold", "regular"}


def font_names_in(sentence: str) -> list[str]:
    """'Headlines are set in Noto Serif Bold and body copy in Open Sans.' -> ['Noto Serif', 'Open Sans']."""
    names: list[str] = []
    for match in _FONT_AFTER.finditer(sentence):
        for part in re.split(r",|\band\b|\bor\b|/|\bwith\b|\bfor\b|\bwhile\b", match["names"]):
            words: list[str] = []
            for word in part.split():
                token = word.strip("\"'\u201c\u201d*")
                if not token or not (token[0].isupper() or token[0].isdigit()):
                    break
                words.append(token)
            while words and words[-1].lower() in _STYLE_WORDS:
                words.pop()
            if words and words[0].lower() not in _NOT_FONTS and not words[0].isdigit():
                name = " ".join(words)
                if 1 < len(name) <= 64:
                    names.append(name)
        if names:
            break
    return list(dict.fromkeys(names))


# ---------------------------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------------------------

_BLOCK_TAGS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
               "article", "header", "footer", "hr", "dt", "dd", "blockquote", "pre", "title"}


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "noscript", "template"}:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in {"td", "th"}:
            self.parts.append("\t")
        if tag == "li":
            self.parts.append("\u2022 ")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "noscript", "template"}:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (line.strip(" ") for line in "".join(parser.parts).split("\n"))
    return "\n".join(re.sub(r" *\t *", "\t", line).strip("\t") for line in lines if line.strip())


def markdown_to_text(markdown: str) -> str:
    """Markdown markup that would hide words from the parsers: headings, emphasis, tables, links."""
    text = re.sub(r"^\s{0,3}#{1,6}\s*", "", markdown, flags=re.M)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__|`)", "", text)
    text = re.sub(r"^\s*\|?\s*:?-{3,}.*$", "", text, flags=re.M)
    rows = []
    for line in text.splitlines():
        is_table_row = line.strip().startswith("|")
        rows.append("\t".join(cell.strip() for cell in line.strip().strip("|").split("|")) if is_table_row else line)
    return "\n".join(rows)
