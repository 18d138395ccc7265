"""Brand statements read from lines of text: typography (and the font names it gives), tone of voice, dos and
don'ts, and clear space."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sgd.ingest.color_notations import find_notations
from sgd.ingest.text_lines import BULLET, Line

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
        bullet = BULLET.match(text)
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
