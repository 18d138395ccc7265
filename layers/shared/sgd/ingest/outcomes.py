"""What the ingest pipeline, the upload deliveries and the routes share: ids, file names and outcomes."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from sgd.repositories.uploads import UploadEntry

# `processing`: another delivery of the same upload holds its ledger claim and has not finished.
Status = Literal["indexed", "duplicate", "rejected", "processing"]
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class IngestOutcome:
    asset: str  # what the caller named: an upload id, a URL or a file name
    status: Status
    asset_id: str
    evidence_id: str | None = None
    kind: str | None = None
    reason: str | None = None
    point_ids: list[str] = field(default_factory=list)
    code: str | None = None  # a rejection's stable code (sgd.ingest.admission)


class FetchRefused(Exception):
    """A URL that could not be ingested: refused by the SSRF guard or failed upstream; reason says which."""

    def __init__(self, reason: str, *, code: str = "fetch_failed") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def asset_id_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def evidence_id_of(asset_id: str) -> str:
    """The evidence of one asset: derived from its content hash, distinct from it (they name different things)."""
    return hashlib.sha256(f"evidence:{asset_id}".encode()).hexdigest()[:32]


def unread_asset_id(upload_key: str, size: int, etag: str) -> str:
    """The id of an upload rejected unread: a hash of what S3 reports about it, stable across redeliveries."""
    return hashlib.sha256(f"{upload_key}:{size}:{etag}".encode()).hexdigest()[:32]


def safe_filename(name: str, default: str = "file") -> str:
    """A file name for object keys: the last path segment, unsafe characters replaced, at most 120 characters."""
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_FILENAME.sub("_", last).strip("._")[:120]
    return cleaned or default


def filename_from_url(url: str) -> str:
    return safe_filename(unquote(urlsplit(url).path), default="download")


def outcome_from_ledger(entry: UploadEntry, *, asset: str) -> IngestOutcome:
    return IngestOutcome(asset, entry.status, entry.asset_id or "", entry.evidence_id,  # type: ignore[arg-type]
                         entry.asset_kind, entry.reason, code=entry.code)
