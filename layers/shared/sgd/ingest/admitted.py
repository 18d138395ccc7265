"""What admission answers: the admitted file, the rejection, and what each allowed type is promoted as."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["pdf", "image", "logo", "font", "text"]

# sniffed type -> (kind, mime, extension); "image" may become "logo" after the alpha check
OUTPUT: dict[str, tuple[Kind, str, str]] = {
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
