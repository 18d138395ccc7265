"""Font resolution for the design engine: the project's uploaded fonts first, then the bundled open fonts chosen by
family (or by class: serif, mono, sans), then a documented fallback. Every family that is not used as requested is
recorded as a substitution. Loaded faces are cached per (font file, size, layout engine) for warm invocations.

Bundled fonts live in SGD_FONTS_DIR, else /opt/fonts (the ImagingLayer), else the repository's layers/imaging/fonts.
The last-resort fallback, when none of those folders holds the bundled files, is Pillow's built-in scalable font."""

from __future__ import annotations

import hashlib
import io
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from PIL import ImageFont

from sgd.lru import LruCache

FONTS_DIR_ENV = "SGD_FONTS_DIR"
LAYER_FONTS_DIR = Path("/opt/fonts")
REPO_FONTS_DIR = Path(__file__).resolve().parents[3] / "imaging" / "fonts"

Weight = Literal["regular", "bold"]

# family -> file per weight, all in the fonts folder (layers/imaging/fonts, with their licences).
BUNDLED_FAMILIES: dict[str, dict[Weight, str]] = {
    "Liberation Sans": {"regular": "LiberationSans-Regular.ttf", "bold": "LiberationSans-Bold.ttf"},
    "Liberation Serif": {"regular": "LiberationSerif-Regular.ttf", "bold": "LiberationSerif-Bold.ttf"},
    "Liberation Mono": {"regular": "LiberationMono-Regular.ttf", "bold": "LiberationMono-Bold.ttf"},
    "DejaVu Sans": {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"},
    "DejaVu Serif": {"regular": "DejaVuSerif.ttf", "bold": "DejaVuSerif-Bold.ttf"},
}
FALLBACK_FAMILY = "Liberation Sans"  # for families of no recognisable class, and when no font is requested
WIDE_COVERAGE_FAMILY = "DejaVu Sans"  # covers Greek, Cyrillic, Armenian, Georgian, Hebrew, Arabic and symbols
BUILTIN_FAMILY = "Pillow built-in"  # only when the bundled files are missing from every fonts folder

# Liberation is metric-compatible with these, so copy set for them keeps its line breaks.
METRIC_COMPATIBLE: dict[str, str] = {
    "arial": "Liberation Sans", "helvetica": "Liberation Sans", "helvetica neue": "Liberation Sans",
    "arimo": "Liberation Sans", "times new roman": "Liberation Serif", "times": "Liberation Serif",
    "tinos": "Liberation Serif", "courier new": "Liberation Mono", "courier": "Liberation Mono",
    "cousine": "Liberation Mono", "bitstream vera sans": "DejaVu Sans", "verdana": "DejaVu Sans",
    "bitstream vera serif": "DejaVu Serif",
}
_MONO_HINTS = re.compile(
    r"\bmono|\bcode\b|courier|consol|menlo|monaco|inconsolata|typewriter|\bplex mono|\bsfmono", re.IGNORECASE
)
_SERIF_HINTS = re.compile(
    r"serif|times|garamond|georgia|merriweather|playfair|baskerville|bodoni|caslon|didot|\blora\b|cambria"
    r"|palatino|antiqua|crimson|slab|rockwell|minion|cormorant|spectral|bitter|domine|cheltenham|century"
    r"|charter|sabon|perpetua|goudy|libre caslon|\bpt serif|\bfraunces|\bliterata|\bnewsreader|\bgelasio",
    re.IGNORECASE,
)
_SANS_HINT = re.compile(r"\bsans\b", re.IGNORECASE)

REASON_UNAVAILABLE = "not uploaded or bundled; closest bundled {kind}"
REASON_METRIC = "not uploaded or bundled; metric-compatible bundled substitute"
REASON_UNREADABLE = "the uploaded font file could not be read; closest bundled {kind}"
REASON_NO_BUNDLE = "bundled fonts not found (set SGD_FONTS_DIR); Pillow's built-in font"
REASON_GLYPHS = "no glyphs for some characters of the copy; wider-coverage bundled font"


@dataclass(frozen=True)
class FontFile:
    """One font file: a path on disk or uploaded bytes; `key` identifies it in the face cache."""

    key: str
    path: Path | None = None
    data: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ResolvedFamily:
    requested: str | None  # None: nothing was requested
    family: str  # the family actually used
    source: Literal["project", "bundled", "builtin"]
    files: Mapping[Weight, FontFile]  # a project upload has one file, used for both weights

    def file(self, weight: Weight) -> FontFile | None:
        return self.files.get(weight) or self.files.get("regular")


@dataclass(frozen=True)
class FontChoice:
    headline: ResolvedFamily
    body: ResolvedFamily
    substitutions: tuple[dict[str, str], ...]


def fonts_dir() -> Path | None:
    """The folder holding the bundled fonts: SGD_FONTS_DIR, else /opt/fonts, else the repository's copy."""
    configured = os.environ.get(FONTS_DIR_ENV)
    for candidate in ([Path(configured)] if configured else []) + [LAYER_FONTS_DIR, REPO_FONTS_DIR]:
        if (candidate / BUNDLED_FAMILIES[FALLBACK_FAMILY]["regular"]).is_file():
            return candidate
    return None


def family_key(name: str) -> str:
    """Case-, accent- and spacing-insensitive family name: 'Open  Sans' and 'open sans' are the same family."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().replace("-", " ").replace("_", " ").split())


def font_class(name: str) -> Literal["sans", "serif", "mono"]:
    """The class of an unknown family, read from its name ('Noto Serif' serif, 'Fira Code' mono, else sans)."""
    if _MONO_HINTS.search(name):
        return "mono"
    if _SERIF_HINTS.search(name) and not _SANS_HINT.search(name):
        return "serif"
    return "sans"


CLASS_FAMILY: dict[str, str] = {"sans": "Liberation Sans", "serif": "Liberation Serif", "mono": "Liberation Mono"}


def resolve_fonts(requested: Sequence[str], project_fonts: Mapping[str, bytes] | None = None) -> FontChoice:
    """The headline family (the first requested) and the body family (the second, else the first), each from the
    project's uploads, else the bundled fonts, else the fallback, with a substitution for each family not used as
    requested."""
    names = [name for name in requested if name and name.strip()]
    uploads = {family_key(family): (family, data) for family, data in (project_fonts or {}).items() if data}
    folder = fonts_dir()
    headline, headline_reason = _resolve_one(names[0] if names else None, uploads, folder)
    body, body_reason = _resolve_one(names[1], uploads, folder) if len(names) > 1 else (headline, headline_reason)
    substitutions: list[dict[str, str]] = []
    for resolved, reason in ((headline, headline_reason), (body, body_reason)):
        if reason and resolved.requested is not None:
            record_substitution(substitutions, resolved.requested, resolved.family, reason)
    return FontChoice(headline, body, tuple(substitutions))


def record_substitution(substitutions: list[dict[str, str]], requested: str, used: str, reason: str) -> None:
    """Appends {"requested","used","reason"} unless that exact substitution is already recorded."""
    entry = {"requested": requested, "used": used, "reason": reason}
    if entry not in substitutions:
        substitutions.append(entry)


def _resolve_one(requested: str | None, uploads: Mapping[str, tuple[str, bytes]],
                 folder: Path | None) -> tuple[ResolvedFamily, str | None]:
    """The family used for `requested` and why it differs from the request (None: used as requested)."""
    if requested is None:
        return _bundled(None, FALLBACK_FAMILY, folder, None)
    kind = font_class(requested)
    upload = uploads.get(family_key(requested))
    if upload is not None:
        family, data = upload
        font_file = FontFile(key="sha256:" + hashlib.sha256(data).hexdigest(), data=data)
        if _readable(font_file):
            return ResolvedFamily(requested, family, "project", {"regular": font_file}), None
        return _bundled(requested, CLASS_FAMILY[kind], folder, REASON_UNREADABLE.format(kind=kind))
    bundled = _bundled_name(requested)
    if bundled is not None:
        return _bundled(requested, bundled, folder, None)
    metric = METRIC_COMPATIBLE.get(family_key(requested))
    if metric is not None:
        return _bundled(requested, metric, folder, REASON_METRIC)
    return _bundled(requested, CLASS_FAMILY[kind], folder, REASON_UNAVAILABLE.format(kind=kind))


def _bundled_name(requested: str) -> str | None:
    key = family_key(requested)
    return next((family for family in BUNDLED_FAMILIES if family_key(family) == key), None)


def _bundled(requested: str | None, family: str, folder: Path | None,
             reason: str | None) -> tuple[ResolvedFamily, str | None]:
    if folder is None:
        return ResolvedFamily(requested, BUILTIN_FAMILY, "builtin", {"regular": FontFile(key="builtin")}), \
            REASON_NO_BUNDLE
    files: dict[Weight, FontFile] = {weight: FontFile(key=str(folder / name), path=folder / name)
                                     for weight, name in BUNDLED_FAMILIES[family].items()}
    return ResolvedFamily(requested, family, "bundled", files), reason


def bundled_family(family: str) -> ResolvedFamily | None:
    """A bundled family by exact name (e.g. WIDE_COVERAGE_FAMILY), or None when the fonts folder is missing."""
    folder = fonts_dir()
    if folder is None:
        return None
    return _bundled(family, family, folder, None)[0]


# --- loading and caching --------------------------------------------------------------------------------------------

_CACHE_LIMIT = 512
_faces: LruCache[tuple[str, int, int], ImageFont.FreeTypeFont] = LruCache(_CACHE_LIMIT)
_coverage: LruCache[tuple[str, str], bool] = LruCache(8 * _CACHE_LIMIT)
_MISSING_CODEPOINT = "\U0010fffd"  # private use, plane 16: no font maps it, so it renders as .notdef


def basic_layout_suffices(text: str) -> bool:
    """True when `text` needs no complex shaping or bidi (Latin, Greek, Cyrillic, symbols): the faster and
    fully deterministic BASIC layout engine is then used."""
    return all(ord(char) < 0x0590 or 0x2000 <= ord(char) < 0x3000 for char in text)


def load_face(font_file: FontFile, size: int, *, complex_script: bool = False) -> ImageFont.FreeTypeFont:
    """The face of `font_file` at `size` px, cached (LRU) per file, size and layout engine."""
    engine = ImageFont.Layout.RAQM if complex_script and _raqm_available() else ImageFont.Layout.BASIC
    return _faces.get_or_make((font_file.key, size, int(engine)), lambda: _open(font_file, size, engine))


def _open(font_file: FontFile, size: int, engine: ImageFont.Layout) -> ImageFont.FreeTypeFont:
    if font_file.key == "builtin":
        face = ImageFont.load_default(size)
        if not isinstance(face, ImageFont.FreeTypeFont):  # pragma: no cover - Pillow built without FreeType
            raise RuntimeError("Pillow has no FreeType support; the design engine needs it")
        return face
    source = font_file.path if font_file.path is not None else io.BytesIO(font_file.data or b"")
    return ImageFont.truetype(source, size, layout_engine=engine)


def _readable(font_file: FontFile) -> bool:
    try:
        load_face(font_file, 12)
    except (OSError, ValueError):
        return False
    return True


_raqm: bool | None = None


def _raqm_available() -> bool:
    global _raqm
    if _raqm is None:
        from PIL import features

        _raqm = bool(features.check("raqm"))
    return _raqm


def covers(font_file: FontFile, text: str) -> bool:
    """Whether the font has a glyph for every visible character of `text`. A missing glyph renders as .notdef,
    so each character's mask is compared with that of a code point no font maps."""
    face = load_face(font_file, 16)
    notdef = _glyph_signature(face, _MISSING_CODEPOINT)
    for char in _visible_chars(text):
        known = _coverage.get_or_make((font_file.key, char), lambda: _glyph_signature(face, char) != notdef)  # noqa: B023
        if not known:
            return False
    return True


def _visible_chars(text: str) -> Iterable[str]:
    # Spaces, controls, format marks and combining marks are not glyphs of their own worth checking.
    return dict.fromkeys(char for char in text if unicodedata.category(char)[0] not in ("Z", "C", "M"))


def _glyph_signature(face: ImageFont.FreeTypeFont, char: str) -> tuple[object, ...]:
    mask = face.getmask(char)
    return face.getbbox(char), mask.size, bytes(cast(Any, mask))  # the mask's raw bytes (ImagingCore is a buffer)
