"""Admission: decide from the bytes alone whether an uploaded file may leave quarantine, and what gets promoted.

The type is sniffed from the bytes (sgd.ingest.sniff), never from a file name, and checked against an allowlist
(PDF, PNG, JPEG, WebP, plain text, Markdown, HTML, TTF, OTF, WOFF2). Executables, archives, SVG and polyglots (a
valid file that also carries another format) are refused, as are files over the size, page or pixel limits. Each
allowed type has its own checks beside this module (admit_pdf, admit_image, admit_font; text here): images are
promoted re-encoded from their pixels, other types unchanged; HTML is only ever read for its text, never served.

Pillow, pypdf and fontTools are imported inside the functions that need them: this module stays cheap to import.
"""

from __future__ import annotations

from sgd.ingest.admit_font import admit_font
from sgd.ingest.admit_image import admit_image
from sgd.ingest.admit_pdf import admit_pdf
from sgd.ingest.admitted import OUTPUT, AdmissionRejected, AdmittedFile
from sgd.ingest.sniff import sniff

ALLOWED_TYPES = ("pdf", "png", "jpeg", "webp", "text", "markdown", "html", "ttf", "otf", "woff2")
EXECUTABLE_TYPES = frozenset({"elf", "pe", "mach-o", "java-class", "wasm", "script", "php"})
ARCHIVE_TYPES = frozenset({"zip", "gzip", "bzip2", "xz", "7z", "rar", "tar", "zstd", "cab", "lzip"})
# Extraction reads text at a few seconds per MB in the worst case (a colour spec on every line): this keeps one
# document well inside the function's 28 s, so a file is always admitted or rejected with a reason, never lost.
MAX_TEXT_BYTES = 2 * 1024 * 1024

_CONVERSION_HINTS = {
    "gif": "export it as PNG", "bmp": "export it as PNG", "tiff": "export it as PNG or JPEG",
    "heif": "export it as JPEG or PNG", "avif": "export it as PNG or WebP", "ico": "export it as PNG",
    "psd": "export it as PNG", "woff": "convert it to WOFF2 or upload the TTF/OTF", "ttc": "upload a single TTF/OTF",
    "text-utf16": "re-save it as UTF-8",
    "text-8bit": "text in a legacy 8-bit encoding: re-save it as UTF-8",
    "xml": "upload the content as text or HTML", "ole2": "export it as PDF",
    "rtf": "export it as PDF or plain text", "postscript": "export it as PDF",
}


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
            return admit_pdf(data, max_pdf_pages)
        if detected in ("png", "jpeg", "webp"):
            return admit_image(data, detected, max_image_pixels)
        if detected in ("ttf", "otf", "woff2"):
            return admit_font(data, detected)
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
    kind, mime, extension = OUTPUT[detected]
    return AdmittedFile(kind=kind, mime=mime, extension=extension, data=data)
