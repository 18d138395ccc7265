"""Sniffing a file's type from its bytes alone: magic numbers first, then the structure of a text window (HTML,
SVG, XML, Markdown, scripts). Cheap: no parsing, no heavy imports."""

from __future__ import annotations

import re
import struct

SNIFF_WINDOW = 64 * 1024

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
