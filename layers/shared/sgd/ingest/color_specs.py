"""Colour specifications read from lines of text: the notations of each colour grouped (a table row, a card of
values, a sentence), named, and declared or forbidden by what the text around them says."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sgd.design.color import to_hex
from sgd.ingest.color_notations import Notation, find_notations, notation_hex, notation_value
from sgd.ingest.text_lines import HEADING_WORDS, Line

# Table header words that say what a bare value in their column is.
_COLUMN_LABELS = {"rgb": "RGB", "r": "R", "g": "G", "b": "B", "cmyk": "CMYK", "c": "C", "m": "M", "y": "Y", "k": "K",
                  "hex": "HEX", "html": "HEX", "web": "HEX", "hex code": "HEX", "css": "HEX", "pantone": "Pantone",
                  "pms": "Pantone", "spot": "Pantone"}
_NAME_HEADERS = {"name", "colour", "color", "colour name", "color name", "swatch name"}
# Columns that say how a colour is used: its role, and its usage (rules, proportions). Their cells are read as the
# colour's role and usage rules (sgd.canon.usage), and a "never as a background" there restricts, never bans, it.
_ROLE_HEADERS = {"role", "colour role", "color role", "function", "category", "type"}
_USAGE_HEADERS = {"usage", "use", "use it for", "used for", "how to use", "where to use", "when to use", "usage rule",
                  "usage rules", "rule", "rules", "proportion", "share", "ratio", "coverage", "notes", "note",
                  "guidance"}
_LABEL_WORDS = re.compile(r"\b(?:hex(?:adecimal)?|html|web|css|rgba?|cmyk|pantone|pms|code|value|values|spot|print|"
                          r"screen|digital)\b|[:=|()\[\],;/\-\u2013\u2014\u2022]", re.I)

NEGATIVE = re.compile(r"\b(?:never|incorrect(?:ly)?|don't|dont|don'ts|donts|do not|avoid|not allowed|"
                      r"not permitted|wrong|forbidden|prohibited|must not|mustn't|should not|shouldn't|banned|misuse|"
                      r"off-brand)\b", re.I)
_POSITIVE = re.compile(r"\b(?:primary|secondary|accent|tertiary|palette|approved|core colou?rs?|brand colou?rs?|"
                       r"use these|use only|supporting colou?rs?|neutrals?)\b", re.I)
_COLOUR_WORD = re.compile(r"\b(?:colou?rs?|palettes?|hues?|shades?|tints?|swatch(?:es)?)\b", re.I)
_HEADING_NUMBER = re.compile(r"^\d{1,2}(?:\.\d{1,2})*\.?\s+[A-Za-z]")
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
    table: dict[str, str] | None = None  # a table row's role and usage cells


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
    table: dict[str, str] | None = None  # the row's role and usage cells

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
        elif key in _ROLE_HEADERS:
            columns.append((cell.x, "ROLE"))
        elif key in _USAGE_HEADERS:
            columns.append((cell.x, "USAGE"))
        else:
            columns.append((cell.x, ""))
    return _Table(columns, line.page) if recognised else None


def _column_of(table: _Table, x: float) -> str:
    left = [label for column_x, label in table.columns if column_x <= x + 6]
    if left:
        return left[-1]
    return min(table.columns, key=lambda column: abs(column[0] - x))[1]


def _labelled_row(line: Line, table: _Table) -> tuple[str, str | None, dict[str, str]]:
    """A table row rewritten as labelled text ('R 11 G 61 B 145'), the cell of its name column, and the cells of
    its role and usage columns ({"role": ..., "usage": ...}, kept out of the text)."""
    parts: list[str] = []
    name = None
    usage: dict[str, str] = {}
    for cell in line.cells:
        label = _column_of(table, cell.x)
        if label in ("ROLE", "USAGE") and not find_notations(cell.text):
            key = label.lower()
            usage[key] = f"{usage[key]}; {cell.text}" if key in usage else cell.text
        elif label == "NAME" and name is None:
            name = cell.text
            parts.append(cell.text)
        elif label and label not in ("NAME", "ROLE", "USAGE") and \
                not any(n.kind == _label_kind(label) for n in find_notations(cell.text)):
            parts.append(f"{label} {cell.text}")
        else:
            parts.append(cell.text)
    return "\t".join(parts), name, usage


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
                                      or HEADING_WORDS.fullmatch(text.lower())):
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
        text, table_name, table_usage = line.text, None, {}
        if table is not None and len(line.cells) >= 2:
            text, table_name, table_usage = _labelled_row(line, table)
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
                current = _Group(name=name, context=clause, line_index=index, page=line.page,
                                 table=dict(table_usage) or None)
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
            notations.setdefault(notation.kind, notation_value(notation))
        exact = group.exact_hex()
        hex_value = exact or next(filter(None, (notation_hex(n) for n in group.notations)), None)
        if hex_value is None:
            continue
        role = "forbidden" if group.negative else "declared"
        drafts.append(ColorSpecDraft(hex_value, group.name, notations, group.context[:300], group.page, role,
                                     group.line_index, exact is not None, group.table))
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
            if draft.table:
                merged[draft.hex]["table"] = {key: value[:300] for key, value in draft.table.items()}
            continue
        if draft.table and "table" not in spec:
            spec["table"] = {key: value[:300] for key, value in draft.table.items()}
        for kind, value in draft.notations.items():
            spec["notations"].setdefault(kind, value)
        spec["name"] = spec["name"] or draft.name
        if draft.role == "declared" and spec["role"] == "forbidden":
            spec["role"], spec["context"] = "declared", draft.context
    return list(merged.values())
