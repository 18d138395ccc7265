"""Admission: decide from the bytes alone whether an uploaded file may leave quarantine, and what gets promoted.

The type is sniffed from magic numbers and text structure, never from a file name, and checked against an
allowlist (PDF, PNG, JPEG, WebP, plain text, Markdown, HTML, TTF, OTF, WOFF2). Executables, archives, SVG and
polyglots (a valid file that also carries another format) are refused, as are files over the size, page or
pixel limits. Image dimensions are read from the container headers before any pixel is decoded, so a
decompression bomb is refused without being expanded.

Images are promoted re-encoded from their pixels only: EXIF (after applying its orientation), XMP, ICC
(pixels converted to sRGB first), text chunks and comments are gone. Animated PNG/WebP keep their first frame
only: brand material is a still (a logo, a reference picture), and one frame is what the palette and logo
steps read. Other types are promoted unchanged; HTML is only ever read for its text, never served.

Pillow, pypdf and fontTools are imported inside the functions that need them: `sniff` stays cheap to import.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["pdf", "image", "logo", "font", "text"]

ALLOWED_TYPES = ("pdf", "png", "jpeg", "webp", "text", "markdown", "html", "ttf", "otf", "woff2")
EXECUTABLE_TYPES = frozenset({"elf", "pe", "mach-o", "java-class", "wasm", "script", "php"})
ARCHIVE_TYPES = frozenset({"zip", "gzip", "bzip2", "xz", "7z", "rar", "tar", "zstd", "cab", "lzip"})

# A logo is an image whose alpha channel is really used: at least this share of nearly transparent pixels.
LOGO_TRANSPARENT_SHARE = 0.05
TRANSPARENT_ALPHA_MAX = 25  # alpha <= ~10 %: background, not an anti-aliased edge
JPEG_QUALITY = 95
WEBP_QUALITY = 95
MAX_WOFF2_TABLES_BYTES = 64 * 1024 * 1024  # the largest CJK fonts are ~30 MB uncompressed
MAX_PDF_OBJECTS = 500_000  # a walk bound, far above any real guideline document
# Extraction reads text at a few seconds per MB in the worst case (a colour spec on every line): this keeps one
# document well inside the function's 28 s, so a file is always admitted or rejected with a reason, never lost.
MAX_TEXT_BYTES = 2 * 1024 * 1024
SNIFF_WINDOW = 64 * 1024

_OUTPUT = {  # sniffed type -> (kind, mime, extension); "image" may become "logo" after the alpha check
    "pdf": ("pdf", "application/pdf", "pdf"),
    "png": ("image", "image/png", "png"),
    "jpeg": ("image", "image/jpeg", "jpg"),
    "webp": ("image", "image/webp", "webp"),
    "text": ("text", "text/plain", "txt"),
    "markdown": ("text", "text/markdown", "md"),
    "html": ("text", "text/html", "html"),
    "ttf": ("font", "font/ttf", "ttf"),
    "otf": ("font", "font/otf", "otf"),
    "woff2": ("font", "font/woff2", "woff2"),
}

_CONVERSION_HINTS = {
    "gif": "export it as PNG", "bmp": "export it as PNG", "tiff": "export it as PNG or JPEG",
    "heif": "export it as JPEG or PNG", "avif": "export it as PNG or WebP", "ico": "export it as PNG",
    "psd": "export it as PNG", "woff": "convert it to WOFF2 or upload the TTF/OTF", "ttc": "upload a single TTF/OTF",
    "text-utf16": "re-save it as UTF-8",
    "text-8bit": "text in a legacy 8-bit encoding: re-save it as UTF-8",
    "xml": "upload the content as text or HTML", "ole2": "export it as PDF",
    "rtf": "export it as PDF or plain text", "postscript": "export it as PDF",
}


@dataclass(frozen=True)
class AdmittedFile:
    kind: Kind
    mime: str
    extension: str
    data: bytes
    width: int | None = None
    height: int | None = None
    pages: int | None = None


class AdmissionRejected(Exception):
    """A file that may not leave quarantine. `code` is machine-readable; `reason` says what is wrong and what
    to do about it. Always the uploader's problem: callers answer it as a 4xx / a `rejected[]` entry."""

    def __init__(self, code: str, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


# ---------------------------------------------------------------------------------------------------------------
# Sniffing
# ---------------------------------------------------------------------------------------------------------------

_MAGIC: tuple[tuple[bytes, str], ...] = (  # signatures at offset 0, most specific first
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"), (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"),
    (b"\x00\x00\x01\x00", "ico"),
    (b"8BPS", "psd"),
    (b"wOF2", "woff2"), (b"wOFF", "woff"), (b"OTTO", "otf"), (b"\x00\x01\x00\x00", "ttf"), (b"true", "ttf"),
    (b"ttcf", "ttc"),
    (b"\x7fELF", "elf"),
    (b"\xfe\xed\xfa\xce", "mach-o"), (b"\xfe\xed\xfa\xcf", "mach-o"),
    (b"\xce\xfa\xed\xfe", "mach-o"), (b"\xcf\xfa\xed\xfe", "mach-o"),
    (b"\x00asm", "wasm"),
    (b"dex\n", "java-class"),
    (b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"PK\x07\x08", "zip"),
    (b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"), (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"), (b"\x28\xb5\x2f\xfd", "zstd"), (b"MSCF", "cab"), (b"LZIP", "lzip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole2"),
    (b"{\\rtf", "rtf"), (b"%!PS", "postscript"),
    (b"\xff\xfe", "text-utf16"), (b"\xfe\xff", "text-utf16"),
)

_HTML_MARKERS = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)
_XML_PROLOGUE = re.compile(  # the XML declaration, comments, processing instructions and a DOCTYPE before the root
    rb"\A(?:\s+|<\?[^>]*\?>|<!--.*?-->|<!doctype[^>\[]*(?:\[.*?\])?\s*>)*", re.IGNORECASE | re.DOTALL)
_ROOT_ELEMENT = re.compile(rb"<([a-z_][\w.\-]*:)?([a-z_][\w.\-]*)", re.IGNORECASE)
_MARKDOWN_STRONG = (
    re.compile(r"^ {0,3}#{1,6}[ \t]+\S", re.MULTILINE),  # ATX heading
    re.compile(r"^ {0,3}(?:```|~~~)", re.MULTILINE),  # fenced code
    re.compile(r"\[[^\]\n]+\]\((?:https?://|/|#|\.{0,2}/?)[^)\s]*(?:\s+\"[^\"]*\")?\)"),  # [text](link)
    re.compile(r"^[^\n]+\n {0,3}(?:=+|-{3,})[ \t]*$", re.MULTILINE),  # setext heading
)
_MARKDOWN_WEAK = (
    re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__|(?<![*\w])\*[^*\s][^*\n]*\*(?![*\w])"),  # emphasis
    re.compile(r"^ {0,3}>[ \t]?\S", re.MULTILINE),  # block quote
    re.compile(r"`[^`\n]+`"),  # inline code
)
_MARKDOWN_LIST_ITEM = re.compile(r"^ {0,3}(?:[-*+]|\d{1,3}[.)])[ \t]+\S", re.MULTILINE)


def sniff(data: bytes) -> str | None:
    """The type the bytes say they are ("pdf", "png", "zip", "elf", "svg", "markdown", …), or None when they
    match no known format. Looks at the leading bytes (and a text window) only: cheap, no parsing."""
    for signature, name in _MAGIC:
        if data.startswith(signature):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        return "avif" if brand in (b"avif", b"avis") else "heif" if brand[:3] in (b"hei", b"hev", b"mif") else "mp4"
    if data[:2] == b"BM" and len(data) >= 26 and data[6:10] == b"\x00\x00\x00\x00":
        return "bmp"
    if data[:4] in (b"\xca\xfe\xba\xbe", b"\xbe\xba\xfe\xca"):
        # Universal Mach-O binaries and Java classes share this magic; both are executables.
        return "mach-o" if struct.unpack(">I", data[4:8].ljust(4, b"\0"))[0] < 64 else "java-class"
    if data[257:262] == b"ustar":
        return "tar"
    if data[:2] == b"MZ" and _looks_like_dos_executable(data):
        return "pe"
    return _sniff_text(data[:SNIFF_WINDOW])


def _looks_like_dos_executable(data: bytes) -> bool:
    """MZ is also how a text can start ("MZ Studio…"): an executable has a PE header or binary header fields."""
    if len(data) >= 64:
        pe_offset = struct.unpack("<I", data[60:64])[0]
        if data[pe_offset:pe_offset + 4] == b"PE\x00\x00":
            return True
    return b"\x00" in data[:64]


def _sniff_text(window: bytes) -> str | None:
    if b"\x00" in window:
        return None
    text = _decode_utf8_prefix(window)
    if text is None:
        return "text-8bit" if _looks_like_8bit_text(window) else None
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("#!"):
        return "script"
    if stripped[:5].lower() == "<?php":
        return "php"
    raw = stripped.encode()
    if raw.startswith(b"<"):
        root = _xml_root(raw)
        if root == "svg":
            return "svg"
        if raw[:5].lower() == b"<?xml":
            return "html" if root == "html" else "xml"
    if _HTML_MARKERS.search(raw):
        return "html"
    return "markdown" if _looks_like_markdown(stripped) else "text"


def _decode_utf8_prefix(window: bytes) -> str | None:
    """Decodes a window that may end inside a multi-byte character; None when it is not UTF-8."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        return decoder.decode(window, final=False)
    except UnicodeDecodeError:
        return None


def _looks_like_8bit_text(window: bytes) -> bool:
    """Latin-1/Windows-1252 prose: almost all printable ASCII, a few high bytes, no control characters."""
    printable = sum(1 for byte in window if 32 <= byte < 127 or byte in (9, 10, 13))
    controls = sum(1 for byte in window if byte < 32 and byte not in (9, 10, 12, 13))
    return controls == 0 and printable >= 0.9 * len(window)


def _xml_root(raw: bytes) -> str | None:
    """The local name of the first element after the XML prologue (declaration, comments, DOCTYPE)."""
    prologue = _XML_PROLOGUE.match(raw)
    match = _ROOT_ELEMENT.match(raw, prologue.end() if prologue else 0)
    return match.group(2).decode("ascii", "replace").lower() if match else None


def _looks_like_markdown(text: str) -> bool:
    if any(pattern.search(text) for pattern in _MARKDOWN_STRONG):
        return True
    weak = sum(1 for pattern in _MARKDOWN_WEAK if pattern.search(text))
    weak += len(_MARKDOWN_LIST_ITEM.findall(text)) >= 2
    return weak >= 2


# ---------------------------------------------------------------------------------------------------------------
# Admission
# ---------------------------------------------------------------------------------------------------------------


def admit(data: bytes, *, max_bytes: int, max_pdf_pages: int = 200,
          max_image_pixels: int = 40_000_000) -> AdmittedFile:
    """The file as it may be promoted, or AdmissionRejected saying why not. Never raises anything else."""
    if not data:
        raise AdmissionRejected("empty", "the file is empty: upload the document itself")
    if len(data) > max_bytes:
        raise AdmissionRejected("too_large", f"the file is {len(data):,} bytes; the limit is {max_bytes:,} bytes: "
                                             "compress or split it")
    detected = sniff(data)
    _refuse_disallowed(detected)
    assert detected is not None  # _refuse_disallowed refuses unknown data
    try:
        if detected == "pdf":
            return _admit_pdf(data, max_pdf_pages)
        if detected in ("png", "jpeg", "webp"):
            return _admit_image(data, detected, max_image_pixels)
        if detected in ("ttf", "otf", "woff2"):
            return _admit_font(data, detected)
        return _admit_text(data, detected)
    except AdmissionRejected:
        raise
    except Exception as error:  # a parser choking on hostile input is a corrupt upload, never a crash
        raise AdmissionRejected("corrupt", f"the file could not be read as {detected.upper()} "
                                           f"({type(error).__name__}): re-export it and upload again") from error


def _refuse_disallowed(detected: str | None) -> None:
    allowed = ", ".join(ALLOWED_TYPES)
    if detected is None:
        raise AdmissionRejected("type_not_allowed", f"the content matches no allowed type (unrecognised binary data); "
                                                    f"allowed: {allowed}")
    if detected in EXECUTABLE_TYPES:
        raise AdmissionRejected("executable", f"the file is an executable ({detected}): only documents, images and "
                                              "fonts are accepted")
    if detected in ARCHIVE_TYPES:
        hint = " (Office documents and JARs are ZIP archives: export as PDF)" if detected == "zip" else ""
        raise AdmissionRejected("archive", f"the file is a {detected} archive{hint}: upload the files inside it "
                                           "one by one")
    if detected == "svg":
        raise AdmissionRejected("svg", "SVG files can carry scripts and are not accepted: export the logo as a PNG "
                                       "with a transparent background")
    if detected not in ALLOWED_TYPES:
        hint = _CONVERSION_HINTS.get(detected, "convert it to an allowed type")
        raise AdmissionRejected("type_not_allowed", f"detected type {detected} is not allowed ({hint}); "
                                                    f"allowed: {allowed}")


# --- polyglot signals ------------------------------------------------------------------------------------------

# Another format's signature inside metadata or appended data (compared lower-cased).
_FOREIGN_MARKERS: tuple[tuple[bytes, str], ...] = (
    (b"pk\x03\x04", "a ZIP local file header"), (b"pk\x01\x02", "a ZIP central directory"),
    (b"pk\x05\x06", "a ZIP end record"), (b"%pdf-", "a PDF header"), (b"\x7felf", "an ELF executable"),
    (b"this program cannot be run in dos mode", "a Windows executable"), (b"<script", "an HTML script"),
    (b"<html", "an HTML document"), (b"<?php", "a PHP script"), (b"<svg", "an SVG document"),
    (b"rar!\x1a\x07", "a RAR archive"), (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
)
# Appended data may also be a whole other media file (GIFAR-style images, motion-photo videos).
_TRAILING_MARKERS = (*_FOREIGN_MARKERS, (b"gif8", "a GIF image"), (b"ftyp", "an MP4/HEIF container"),
                     (b"\x1f\x8b\x08", "gzip data"), (b"\x89png", "a PNG image"))
# Browsers and PDF readers look for their formats at the start of a file.
_HEADER_MARKERS = ((b"<html", "an HTML document"), (b"<script", "an HTML script"), (b"<!doctype html", "HTML"),
                   (b"<?php", "a PHP script"), (b"<svg", "an SVG document"))


def _foreign_marker(blob: bytes, markers: Iterable[tuple[bytes, str]] = _FOREIGN_MARKERS) -> str | None:
    lowered = blob.lower()
    return next((label for marker, label in markers if marker in lowered), None)


def _refuse_polyglot(data: bytes, detected: str, segments: Iterable[bytes] = (), trailing: bytes = b"") -> None:
    """Refuses a file that another program would read as a different format."""
    name = detected.upper()
    if _is_zip(data):
        raise AdmissionRejected("polyglot", f"the {name} file is also a ZIP archive (data appended to it): "
                                            "re-export the original file")
    header = data[:1024]
    found = _foreign_marker(header, _HEADER_MARKERS)
    if found is None and detected != "pdf" and b"%pdf-" in header.lower():
        found = "a PDF header"
    if found:
        raise AdmissionRejected("polyglot", f"the {name} file carries {found} in its first bytes: re-export the "
                                            "original file")
    for segment in segments:
        found = _foreign_marker(segment)
        if found:
            raise AdmissionRejected("polyglot", f"the {name} file hides {found} in its metadata: re-export the image "
                                                "without metadata")
    found = _foreign_marker(trailing, _TRAILING_MARKERS) if trailing.strip(b"\x00\r\n\t ") else None
    if found:
        raise AdmissionRejected("polyglot", f"{len(trailing):,} bytes carrying {found} are appended after the end of "
                                            f"the {name} data: re-export the original file")


def _is_zip(data: bytes) -> bool:
    """True when a ZIP reader would open the bytes (its end record near the end and a readable directory)."""
    stream = io.BytesIO(data)
    if not zipfile.is_zipfile(stream):
        return False
    try:
        with zipfile.ZipFile(stream) as archive:
            return len(archive.infolist()) > 0
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return False


# --- text ------------------------------------------------------------------------------------------------------


def _admit_text(data: bytes, detected: str) -> AdmittedFile:
    if len(data) > MAX_TEXT_BYTES:
        raise AdmissionRejected("too_large", f"the text document is {len(data):,} bytes; text, Markdown and HTML "
                                             f"are limited to {MAX_TEXT_BYTES:,} bytes: split it, or upload the "
                                             "guideline as a PDF")
    if b"\x00" in data:
        raise AdmissionRejected("corrupt", "the text contains NUL bytes: save it as plain UTF-8 text")
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise AdmissionRejected("corrupt", f"the text is not valid UTF-8 (byte {error.start:,}): re-save it as "
                                           "UTF-8") from error
    kind, mime, extension = _OUTPUT[detected]
    return AdmittedFile(kind=kind, mime=mime, extension=extension, data=data)


# --- PDF -------------------------------------------------------------------------------------------------------

_PDF_ACTIVE_KEYS = {"/JS": "JavaScript", "/JavaScript": "JavaScript", "/EmbeddedFiles": "embedded files",
                    "/EF": "embedded files", "/XFA": "an XFA (scriptable) form", "/RichMediaContent": "rich media"}
_PDF_ACTIVE_VALUES = {("/S", "/JavaScript"): "JavaScript", ("/S", "/Launch"): "a launch action",
                      ("/Type", "/EmbeddedFile"): "embedded files", ("/Subtype", "/RichMedia"): "rich media",
                      ("/Subtype", "/FileAttachment"): "a file attachment"}


def _admit_pdf(data: bytes, max_pages: int) -> AdmittedFile:
    end = data.rfind(b"%%EOF")
    _refuse_polyglot(data, "pdf", trailing=data[end + 5:] if end >= 0 else b"")

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        raise AdmissionRejected("encrypted", "the PDF is encrypted or password-protected: save an unprotected copy "
                                             "and upload that")
    page_tree = reader.trailer["/Root"]["/Pages"]
    declared = page_tree.get("/Count", 0)
    if isinstance(declared, int) and declared > max_pages:
        raise AdmissionRejected("too_many_pages", f"the PDF declares {declared:,} pages; the limit is {max_pages}: "
                                                  "split it")
    pages = len(reader.pages)
    if pages > max_pages:
        raise AdmissionRejected("too_many_pages", f"the PDF has {pages:,} pages; the limit is {max_pages}: split it")
    if pages == 0:
        raise AdmissionRejected("corrupt", "the PDF has no pages: re-export it")
    active = _pdf_active_content(reader)
    if active:
        raise AdmissionRejected("polyglot", f"the PDF carries {active}: remove it (print to a new PDF) and upload "
                                            "again")
    return AdmittedFile(kind="pdf", mime="application/pdf", extension="pdf", data=data, pages=pages)


def _pdf_active_content(reader: Any) -> str | None:
    """Walks every object reachable from the trailer; names the first executable or embedded content found."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    stack: list[Any] = [reader.trailer]
    seen: set[tuple[int, int]] = set()
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            reference = (item.idnum, item.generation)
            if reference in seen:
                continue
            seen.add(reference)
            item = item.get_object()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise AdmissionRejected("corrupt", "the PDF has an unreasonable number of objects: re-export it")
        if isinstance(item, DictionaryObject):
            for key, label in _PDF_ACTIVE_KEYS.items():
                if key in item:
                    return label
            for (key, value), label in _PDF_ACTIVE_VALUES.items():
                if dict.get(item, key) == value:
                    return label
            stack.extend(dict.values(item))  # raw values: references are followed once, through `seen`
        elif isinstance(item, ArrayObject):
            stack.extend(list.__iter__(item))
    return None


# --- fonts -----------------------------------------------------------------------------------------------------


def _admit_font(data: bytes, detected: str) -> AdmittedFile:
    _refuse_polyglot(data, detected)
    if detected == "woff2":
        _check_woff2_size(data)

    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(data), lazy=True, recalcBBoxes=False, recalcTimestamp=False)
    tables = set(font.keys())
    missing = [tag for tag in ("head", "name", "cmap") if tag not in tables]
    if not tables & {"glyf", "CFF ", "CFF2"}:
        missing.append("glyf/CFF")
    if missing:
        raise AdmissionRejected("corrupt", f"the font lacks required tables ({', '.join(missing)}): upload the "
                                           "original font file")
    font["head"]
    font["cmap"]
    if not font["name"].getBestFamilyName():
        raise AdmissionRejected("corrupt", "the font's name table has no family name: upload the original font file")
    kind, mime, extension = _OUTPUT[detected]
    return AdmittedFile(kind=kind, mime=mime, extension=extension, data=data)


def _check_woff2_size(data: bytes) -> None:
    """fontTools decompresses a WOFF2 stream in one call: first prove, with a bounded decompressor, that the
    stream expands to no more than its table directory declares (and a sane maximum)."""
    import brotli
    from fontTools.misc import sstruct
    from fontTools.ttLib.woff2 import WOFF2DirectoryEntry, woff2DirectoryFormat, woff2DirectorySize

    stream = io.BytesIO(data)
    header: Any = type("Woff2Header", (), {})()
    sstruct.unpack(woff2DirectoryFormat, stream.read(woff2DirectorySize), header)
    declared = 0
    for _ in range(header.numTables):
        entry = WOFF2DirectoryEntry()
        entry.fromFile(stream)
        declared += entry.length
    if declared > MAX_WOFF2_TABLES_BYTES:
        raise AdmissionRejected("too_large", f"the WOFF2 font expands to {declared:,} bytes; the limit is "
                                             f"{MAX_WOFF2_TABLES_BYTES:,}")
    compressed = stream.read(header.totalCompressedSize)
    decompressor = brotli.Decompressor()
    produced = len(decompressor.process(compressed, output_buffer_limit=declared + 1))
    while produced <= declared and not decompressor.can_accept_more_data() and not decompressor.is_finished():
        chunk = decompressor.process(b"", output_buffer_limit=declared + 1 - produced)
        if not chunk:
            break
        produced += len(chunk)
    if produced != declared:
        raise AdmissionRejected("corrupt", "the WOFF2 font's compressed data does not match its table directory: "
                                           "upload the original font file")


# --- images ----------------------------------------------------------------------------------------------------


@dataclass
class _ImageLayout:
    """What the container says before any pixel is decoded."""

    width: int | None = None
    height: int | None = None
    metadata: list[bytes] = field(default_factory=list)  # non-pixel chunks/segments, scanned for other formats
    trailing: bytes = b""  # bytes after the image's end marker
    lossless: bool = False
    problem: str | None = None  # a structural error; reported after the cheaper dimension check


def _admit_image(data: bytes, detected: str, max_pixels: int) -> AdmittedFile:
    layout = {"png": _png_layout, "jpeg": _jpeg_layout, "webp": _webp_layout}[detected](data)
    name = detected.upper()
    if layout.width and layout.height and layout.width * layout.height > max_pixels:
        raise AdmissionRejected("too_many_pixels", f"the {name} image is {layout.width}x{layout.height} "
                                                   f"({layout.width * layout.height:,} pixels); the limit is "
                                                   f"{max_pixels:,}: scale it down")
    if layout.problem or not (layout.width and layout.height):
        raise AdmissionRejected("corrupt", f"the {name} file is damaged ({layout.problem or 'no image dimensions'}): "
                                           "re-export it")
    _refuse_polyglot(data, detected, layout.metadata, layout.trailing)
    return _reencode(data, detected, layout, max_pixels)


def _png_layout(data: bytes) -> _ImageLayout:
    layout = _ImageLayout(lossless=True)
    if data[12:16] != b"IHDR" or len(data) < 33:
        layout.problem = "the header chunk is missing"
        return layout
    layout.width, layout.height = struct.unpack(">II", data[16:24])
    position = 8
    while position + 12 <= len(data):
        length, chunk_type = struct.unpack(">I4s", data[position:position + 8])
        end = position + 12 + length
        if end > len(data):
            layout.problem = f"chunk {chunk_type!r} is truncated"
            return layout
        if chunk_type == b"IEND":
            layout.trailing = data[end:]
            return layout
        if chunk_type not in (b"IDAT", b"fdAT", b"IHDR"):
            layout.metadata.append(data[position + 8:end - 4])
        position = end
    layout.problem = "the file ends before its IEND chunk"
    return layout


_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_NEXT_MARKER = re.compile(rb"\xff+([^\x00\xd0-\xd7\xff])")  # skips stuffed bytes, restarts and fill bytes


def _jpeg_layout(data: bytes) -> _ImageLayout:
    layout = _ImageLayout()
    position = 2
    while position < len(data):
        if data[position] != 0xFF:
            layout.problem = f"expected a marker at byte {position:,}"
            return layout
        while position < len(data) and data[position] == 0xFF:
            position += 1
        if position >= len(data):
            break
        marker = data[position]
        position += 1
        if marker == 0xD9:  # end of image
            layout.trailing = data[position:]
            return layout
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        if position + 2 > len(data):
            break
        length = struct.unpack(">H", data[position:position + 2])[0]
        segment = data[position + 2:position + length]
        if length < 2 or position + length > len(data):
            layout.problem = f"segment 0x{marker:02X} is truncated"
            return layout
        if marker in _JPEG_SOF and len(segment) >= 5:
            layout.height, layout.width = struct.unpack(">HH", segment[1:5])
        elif 0xE0 <= marker <= 0xEF or marker == 0xFE:
            layout.metadata.append(segment)
        position += length
        if marker == 0xDA:  # start of scan: entropy-coded data runs to the next real marker
            match = _JPEG_NEXT_MARKER.search(data, position)
            if match is None:
                break
            position = match.start(1) - 1
    # No end-of-image marker: Pillow decides below whether the scan data is complete.
    return layout


def _webp_layout(data: bytes) -> _ImageLayout:
    layout = _ImageLayout()
    riff_end = 8 + struct.unpack("<I", data[4:8])[0]
    if riff_end > len(data) or riff_end < 12:
        layout.problem = "the RIFF size does not match the file"
        return layout
    position = 12
    has_lossy = False
    while position + 8 <= riff_end:
        fourcc, size = struct.unpack("<4sI", data[position:position + 8])
        payload = data[position + 8:position + 8 + size]
        if position + 8 + size > riff_end:
            layout.problem = f"chunk {fourcc!r} is truncated"
            return layout
        if fourcc == b"VP8X" and len(payload) >= 10 and layout.width is None:
            layout.width = 1 + int.from_bytes(payload[4:7], "little")
            layout.height = 1 + int.from_bytes(payload[7:10], "little")
        elif fourcc == b"VP8 " and len(payload) >= 10:
            has_lossy = True
            if layout.width is None:
                layout.width, layout.height = (value & 0x3FFF for value in struct.unpack("<HH", payload[6:10]))
        elif fourcc == b"VP8L" and len(payload) >= 5:
            layout.lossless = True
            if layout.width is None:
                bits = int.from_bytes(payload[1:5], "little")
                layout.width, layout.height = 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
        elif fourcc == b"ANMF":
            has_lossy |= b"VP8 " in payload[16:40]
            layout.lossless |= b"VP8L" in payload[16:40]
        elif fourcc not in (b"ALPH", b"ANIM"):
            layout.metadata.append(payload)
        position += 8 + size + (size & 1)
    layout.lossless = layout.lossless and not has_lossy
    layout.trailing = data[riff_end:]
    return layout


def _reencode(data: bytes, detected: str, layout: _ImageLayout, max_pixels: int) -> AdmittedFile:
    from PIL import Image, ImageOps

    pillow_format = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[detected]
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[pillow_format]) as probe:
                probe.verify()
            with Image.open(io.BytesIO(data), formats=[pillow_format]) as opened:
                if opened.width * opened.height > max_pixels:
                    raise AdmissionRejected("too_many_pixels", f"the image is {opened.width}x{opened.height}; the "
                                                               f"limit is {max_pixels:,} pixels: scale it down")
                opened.seek(0)  # animated images keep their first frame
                opened.load()
                sampling = _jpeg_sampling(opened) if detected == "jpeg" else -1
                image = ImageOps.exif_transpose(opened)
                icc_profile = opened.info.get("icc_profile")
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise AdmissionRejected("too_many_pixels", "the image expands to more pixels than allowed (a "
                                                       "decompression bomb): scale it down") from error
        except ValueError as error:
            if "decompressed" in str(error).lower():  # Pillow's cap on compressed text/ICC chunks
                raise AdmissionRejected("corrupt", "the image carries an oversized compressed metadata chunk: "
                                                   "re-export it without metadata") from error
            raise
    image = _to_srgb(image, icc_profile)
    image = _normalise_mode(image, detected)
    clean = Image.frombytes(image.mode, image.size, image.tobytes())  # pixels only: no info, no metadata
    output = io.BytesIO()
    if detected == "png":
        clean.save(output, "PNG", optimize=False, compress_level=6)
    elif detected == "jpeg":
        options: dict[str, Any] = {"quality": JPEG_QUALITY}
        if sampling >= 0:
            options["subsampling"] = sampling
        clean.save(output, "JPEG", **options)
    else:
        clean.save(output, "WEBP", **({"lossless": True} if layout.lossless else {"quality": WEBP_QUALITY}))
    kind: Kind = "logo" if detected != "jpeg" and _alpha_is_used(clean) else "image"
    _, mime, extension = _OUTPUT[detected]
    return AdmittedFile(kind=kind, mime=mime, extension=extension, data=output.getvalue(),
                        width=clean.width, height=clean.height)


def _jpeg_sampling(image: Any) -> int:
    from PIL import JpegImagePlugin

    try:
        return int(JpegImagePlugin.get_sampling(image))
    except (AttributeError, TypeError, ValueError):
        return -1


def _to_srgb(image: Any, icc_profile: bytes | None) -> Any:
    """Converts pixels tagged with a non-sRGB profile to sRGB, so dropping the profile keeps the colours."""
    if not icc_profile or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if ImageCms.getProfileDescription(source).strip().lower().startswith("srgb"):
            return image
        target = ImageCms.createProfile("sRGB")
        if image.mode == "RGBA":
            alpha = image.getchannel("A")
            converted = ImageCms.profileToProfile(image.convert("RGB"), source, target, outputMode="RGB")
            converted.putalpha(alpha)
            return converted
        return ImageCms.profileToProfile(image, source, target, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # an unreadable or mismatched profile: keep the pixels as they are


def _normalise_mode(image: Any, detected: str) -> Any:
    """The pixel mode to write: alpha kept (palette transparency becomes real alpha), CMYK becomes RGB."""
    has_transparency = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if image.mode == "1":
        image = image.convert("L")
    if detected == "png":
        if image.mode in ("RGB", "RGBA", "L", "LA", "I;16", "I"):
            return image.convert("RGBA") if "transparency" in image.info else image
        return image.convert("RGBA" if has_transparency else "RGB")
    if detected == "jpeg":
        return image if image.mode in ("RGB", "L") else image.convert("RGB")
    return image.convert("RGBA" if has_transparency else "RGB")


def _alpha_is_used(image: Any) -> bool:
    if image.mode not in ("RGBA", "LA"):
        return False
    histogram = image.getchannel("A").histogram()
    transparent = sum(histogram[:TRANSPARENT_ALPHA_MAX + 1])
    return transparent >= LOGO_TRANSPARENT_SHARE * image.width * image.height
