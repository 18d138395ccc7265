"""Font names: the family from a font file's name table, and the cleaning of PDF BaseFont names."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

# The standard 14 PDF fonts (and their common aliases): PDF writers use them for their own labels, so they say
# nothing about the brand unless the text names them.
BASE_14_FAMILIES = frozenset({"helvetica", "times", "times new roman", "times roman", "courier", "courier new",
                              "symbol", "zapf dingbats", "zapfdingbats", "arial"})

_SUBSET_PREFIX = re.compile(r"^[A-Z]{6}\+")
_STYLE = (r"(?:Semi|Demi|Extra|Ultra|X)?(?:Bold|Light|Black|Heavy|Thin)|Regular|Book|Roman|Italic|Oblique|Medium|"
          r"Normal|Plain|Hairline|It|Ital|BoldItalic|Condensed|Cond|Narrow")
# Glued to the family ('DejaVuSansBold'); 'Roman' is left alone there, since it ends family names ('TimesNewRoman').
_STYLE_SUFFIX = re.compile(rf"(?:[-_,]?(?:{_STYLE.replace('Roman|', '')}))+$")
_POSTSCRIPT_SUFFIX = re.compile(r"(?:PSMT|MT|PS)$")


def clean_font_name(base_font: str) -> str:
    """A PDF BaseFont name -> its family: 'ABCDEF+LiberationSans-Bold' -> 'Liberation Sans',
    'NotoSerif-Regular' -> 'Noto Serif', 'OpenSans' -> 'Open Sans', 'Arial-BoldMT' -> 'Arial'."""
    name = _SUBSET_PREFIX.sub("", base_font.lstrip("/")).replace("#20", " ")
    head, _, tail = re.sub(r"[-,]", "\0", name, count=1).partition("\0")
    if tail and re.fullmatch(rf"(?:{_STYLE}|PSMT|MT|PS|[-_,])+", tail):
        name = head  # 'Arial-BoldMT' -> 'Arial'
    elif tail:
        name = f"{head} {tail}"  # 'Gotham-Rounded' keeps its second word
    name = _POSTSCRIPT_SUFFIX.sub("", name)
    stripped = _STYLE_SUFFIX.sub("", name)
    name = stripped or name
    if " " not in name:
        # Split CamelCase: 'IBMPlexSans' -> 'IBM Plex Sans', 'SourceSans3' -> 'Source Sans 3'.
        name = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)", " ", name)
    return re.sub(r"[_\s]+", " ", name).strip()


def is_base14(family: str) -> bool:
    return family.lower() in BASE_14_FAMILIES


@dataclass(frozen=True)
class FontNames:
    family: str
    style: str
    full_name: str


def _name(table: object, *ids: int) -> str | None:
    for name_id in ids:
        record = table.getDebugName(name_id)  # type: ignore[attr-defined]
        if record and record.strip():
            return record.strip()
    return None


def read_font_names(data: bytes) -> FontNames | None:
    """The family (typographic family 16, else 1), style (17, else 2) and full name (4) of a TTF/OTF/WOFF2;
    None when the bytes hold no readable name table."""
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(io.BytesIO(data), lazy=True, fontNumber=0)
        table = font["name"]
    except Exception:
        return None
    family = _name(table, 16, 1)
    if not family:
        return None
    style = _name(table, 17, 2) or "Regular"
    return FontNames(family, style, _name(table, 4) or f"{family} {style}")


def to_sfnt(data: bytes) -> bytes:
    """A font the design engine can load: WOFF2 (and WOFF) decompressed to TTF/OTF; TTF/OTF returned as given."""
    if data[:4] not in (b"wOF2", b"wOFF"):
        return data
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(data))
    font.flavor = None
    output = io.BytesIO()
    font.save(output)
    return output.getvalue()
