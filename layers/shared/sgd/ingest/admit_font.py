"""Admitting a font (TTF, OTF, WOFF2): the tables a font needs and a family name; a WOFF2 stream must expand to
what its table directory declares, proven with a bounded decompressor. fontTools is imported only when a font is
checked."""

from __future__ import annotations

import io
from typing import Any

from sgd.ingest.admitted import OUTPUT, AdmissionRejected, AdmittedFile
from sgd.ingest.polyglot import refuse_polyglot

MAX_WOFF2_TABLES_BYTES = 64 * 1024 * 1024  # the largest CJK fonts are ~30 MB uncompressed


def admit_font(data: bytes, detected: str) -> AdmittedFile:
    refuse_polyglot(data, detected)
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
    kind, mime, extension = OUTPUT[detected]
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
