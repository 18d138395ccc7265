"""Admitting a PDF: not encrypted, within the page limit, and carrying no active or embedded content (JavaScript,
launch actions, embedded files, XFA forms, rich media). pypdf is imported only when a PDF is checked."""

from __future__ import annotations

import io
from typing import Any, cast

from sgd.ingest.admitted import AdmissionRejected, AdmittedFile
from sgd.ingest.polyglot import refuse_polyglot

MAX_PDF_OBJECTS = 500_000  # a walk bound, far above any real guideline document

_PDF_ACTIVE_KEYS = {"/JS": "JavaScript", "/JavaScript": "JavaScript", "/EmbeddedFiles": "embedded files",
                    "/EF": "embedded files", "/XFA": "an XFA (scriptable) form", "/RichMediaContent": "rich media"}
_PDF_ACTIVE_VALUES = {("/S", "/JavaScript"): "JavaScript", ("/S", "/Launch"): "a launch action",
                      ("/Type", "/EmbeddedFile"): "embedded files", ("/Subtype", "/RichMedia"): "rich media",
                      ("/Subtype", "/FileAttachment"): "a file attachment"}


def admit_pdf(data: bytes, max_pages: int) -> AdmittedFile:
    end = data.rfind(b"%%EOF")
    refuse_polyglot(data, "pdf", trailing=data[end + 5:] if end >= 0 else b"")

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        raise AdmissionRejected("encrypted", "the PDF is encrypted or password-protected: save an unprotected copy "
                                             "and upload that")
    page_tree = cast(Any, reader.trailer["/Root"])["/Pages"]  # pypdf types the trailer's values loosely
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
