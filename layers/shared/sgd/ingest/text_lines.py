"""Text as logical lines: plain text split into lines and table cells (wrapped prose joined), HTML and Markdown
reduced to such text first. The PDF reader builds the same lines from page positions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser


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


BULLET = re.compile(r"^\s*(?:[\u2022\u25cf\u25aa\u25e6\u00b7\u2023\u2043\u2013\u2014*+\-\u2713\u2714\u2717\u2718"
                     r"\u2715\u2716\x01]|\d{1,2}[.)](?!\d))\s*")
HEADING_WORDS = re.compile(r"(?:\d{1,2}\.?\s+)?(?:do|dos|do's|don't|dont|don'ts|donts|the dos|the don'ts|"
                            r"what to do|what not to do|avoid|incorrect(?: use)?|correct(?: use)?)\s*:?")


def clean_text(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ").replace("\x01", "\u2022")
    return re.sub(r"[ \u2009\u200a]{2,}", " ", text).strip()


def continues_prose(previous: Line, line: Line) -> bool:
    """Is `line` the wrapped continuation of the prose in `previous`?"""
    if len(previous.cells) != 1 or len(line.cells) != 1 or (BULLET.match(line.text) and not line.text[:1].isdigit()):
        return False
    before, after = previous.text, line.text
    if previous.size and line.size and (abs(previous.y - line.y) > 2.2 * previous.size or previous.page != line.page):
        return False
    if before.endswith((".", "!", "?", ":")) or HEADING_WORDS.fullmatch(before.lower()):
        return False
    starts_lower = after[:1].islower() or after[:1] in "#(" or (after[:1].isdigit() and not BULLET.match(after))
    return starts_lower or (len(before) >= 50 and abs(previous.x - line.x) < 2 and not BULLET.match(after))


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
