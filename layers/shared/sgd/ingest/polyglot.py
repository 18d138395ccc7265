"""Polyglot detection: refuses a file that another program would read as a different format (a ZIP archive over
it, or another format's signature in its first bytes, its metadata or the data appended after its end)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

from sgd.ingest.admitted import AdmissionRejected

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


def refuse_polyglot(data: bytes, detected: str, segments: Iterable[bytes] = (), trailing: bytes = b"") -> None:
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
