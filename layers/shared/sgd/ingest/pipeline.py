"""The ingest pipeline shared by S3 uploads and POST /ingest: quarantine, admission, extraction, indexing,
records, promotion.

Every id is a content hash, so repeating any step (a redelivered S3 event, a retried request, the same file
uploaded twice) finds what the first run wrote and adds nothing:

1. the bytes go to `quarantine/{org}/{project}/{asset_id}/{filename}` first (moved from uploads/, or written; a
   retry finishing an interrupted upload finds them there already, see sgd.ingest.uploads);
2. `admit` sniffs and checks them; a rejection stays in quarantine with `asset#` status `rejected` and its reason;
3. `extract` reads the evidence; the JSON goes to `assets/{org}/{project}/evidence/{evidence_id}.json`;
4. the text is chunked, embedded and upserted (deterministic point ids);
5. the cleaned bytes are promoted to `assets/{org}/{project}/{asset_id}/{filename}` (fonts also `font.ttf`), the
   `evidence#`, `font#` and `asset#` records are written (`asset#` status `admitted` last: it marks completion),
   and the quarantine copy is deleted.

The same content again is a `duplicate`: no new points, records or objects.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from sgd.adapters.clock import Clock
from sgd.adapters.storage import ObjectStorage
from sgd.adapters.tables import ItemTable
from sgd.brand.fonts import FONT_PREFIX, ProjectFonts, family_key
from sgd.contracts.common import is_url
from sgd.ingest.embeddings import Embedder
from sgd.ingest.indexing import StoreFor, index_text
from sgd.observability import logger
from sgd.tenancy import Tenant

# `processing`: another delivery of the same upload holds its ledger claim and has not finished (sgd.ingest.uploads).
Status = Literal["indexed", "duplicate", "rejected", "processing"]
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class IngestDeps:
    """What the pipeline talks to; built once per process by sgd.ingest.service, or by tests."""

    storage: ObjectStorage
    assets: ItemTable
    fonts: ProjectFonts
    embedder: Embedder
    store_for: StoreFor
    clock: Clock
    max_upload_bytes: int


@dataclass(frozen=True)
class IngestOutcome:
    asset: str  # what the caller named: an upload id, a URL or a file name
    status: Status
    asset_id: str
    evidence_id: str | None = None
    kind: str | None = None
    reason: str | None = None
    point_ids: list[str] = field(default_factory=list)


def asset_id_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def evidence_id_of(asset_id: str) -> str:
    """The evidence of one asset: derived from its content hash, distinct from it (they name different things)."""
    return hashlib.sha256(f"evidence:{asset_id}".encode()).hexdigest()[:32]


SUMMARY_LIMIT = 64  # colours, fonts and palette entries kept on an evidence record


def safe_filename(name: str, default: str = "file") -> str:
    """A file name for object keys: the last path segment, unsafe characters replaced, at most 120 characters."""
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_FILENAME.sub("_", last).strip("._")[:120]
    return cleaned or default


def filename_from_url(url: str) -> str:
    return safe_filename(unquote(urlsplit(url).path), default="download")


def quarantine_key_of(tenant: Tenant, asset_id: str, filename: str) -> str:
    return tenant.area_key("quarantine", asset_id, filename)


def unread_asset_id(upload_key: str, size: int, etag: str) -> str:
    """The id of an upload rejected unread: a hash of what S3 reports about it, stable across redeliveries."""
    return hashlib.sha256(f"{upload_key}:{size}:{etag}".encode()).hexdigest()[:32]


def evidence_key(tenant: Tenant, evidence_id: str) -> str:
    return tenant.area_key("assets", "evidence", f"{evidence_id}.json")


def _records_summary(document: dict[str, Any]) -> dict[str, Any]:
    """The evidence record's summary: what canon derivation and listings read without fetching the JSON."""
    font = document.get("font") or {}
    # Bounded: a text file can declare tens of thousands of colours, and a DynamoDB item holds 400 KB at most.
    # The whole extraction stays in the evidence JSON in S3.
    colors = [color.get("hex") for color in document.get("colors", []) if color.get("role") != "incidental"]
    return {
        "colors": list(dict.fromkeys(colors))[:SUMMARY_LIMIT],
        "fonts": list(dict.fromkeys(document.get("fonts", [])))[:SUMMARY_LIMIT],
        "palette": [entry.get("hex") if isinstance(entry, dict) else entry
                    for entry in document.get("palette", [])][:SUMMARY_LIMIT],
        "logo": document.get("logo"),
        "font_family": font.get("family"),
    }


def ingest_file(tenant: Tenant, data: bytes, *, asset: str, source: str, filename: str, deps: IngestDeps,
                upload_key: str | None = None, in_quarantine: bool = False) -> IngestOutcome:
    """One file through the pipeline. With upload_key, the file is the object at that key under uploads/ and is
    moved (not copied) to quarantine, unless in_quarantine says an interrupted run already moved it there;
    without upload_key the bytes are written there."""
    started = time.perf_counter()
    pk = tenant.partition_key
    asset_id = asset_id_of(data)
    quarantine_key = quarantine_key_of(tenant, asset_id, filename)
    existing = deps.assets.get(pk, f"asset#{asset_id}")
    if existing is not None and existing.get("status") in ("admitted", "rejected"):
        leftover = quarantine_key if in_quarantine else upload_key
        if leftover and leftover != existing.get("key"):
            deps.storage.delete(leftover)  # the same bytes are already kept under the first asset's keys
        if existing["status"] == "rejected":
            return IngestOutcome(asset, "rejected", asset_id, reason=existing.get("reason"))
        if upload_key and existing.get("upload_key") == upload_key:  # this upload's interrupted run promoted it
            return IngestOutcome(asset, "indexed", asset_id, existing.get("evidence_id"), existing.get("kind"))
        return IngestOutcome(asset, "duplicate", asset_id, existing.get("evidence_id"), existing.get("kind"))

    if upload_key and not in_quarantine:
        deps.storage.move(upload_key, quarantine_key)
    elif not upload_key:
        deps.storage.put(quarantine_key, data, content_type="application/octet-stream")
    now = deps.clock.now().isoformat()
    record = {"pk": pk, "sk": f"asset#{asset_id}", "org": tenant.org, "project": tenant.project,
              "asset_id": asset_id, "key": quarantine_key, "source": source, "filename": filename,
              "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "status": "quarantined",
              "created_at": now} | ({"upload_key": upload_key} if upload_key else {})
    deps.assets.put(record, only_if_absent=True)

    from sgd.ingest.admission import AdmissionRejected, admit

    try:
        admitted = admit(data, max_bytes=deps.max_upload_bytes)
    except AdmissionRejected as rejection:
        return reject(tenant, record, asset, rejection.code, rejection.reason, deps)

    from sgd.ingest.extract import extract

    try:
        extraction = extract(admitted, source=source)
    except Exception as error:  # a reader failing on a file admission accepted: the file, not the service
        logger.warning("extraction failed", extra={"asset_id": asset_id, "error": type(error).__name__})
        return reject(tenant, record, asset, "unreadable",
                      f"the {admitted.kind} could not be read ({type(error).__name__}): re-export it and upload "
                      "again", deps)

    evidence_id = evidence_id_of(asset_id)
    document = extraction.document | {"evidence_id": evidence_id, "asset_id": asset_id}
    deps.storage.put(evidence_key(tenant, evidence_id), json.dumps(document, ensure_ascii=False).encode(),
                     content_type="application/json")
    indexed = index_text(tenant, evidence_id=evidence_id, kind=admitted.kind, source=source,
                         text=document.get("text") or "", embedder=deps.embedder, store_for=deps.store_for)

    promoted_key = tenant.area_key("assets", asset_id, filename)
    deps.storage.put(promoted_key, admitted.data, content_type=admitted.mime)
    if admitted.kind == "font":
        _record_font(tenant, asset_id, document, extraction.font_file or admitted.data, deps)
    summary = _records_summary(document)
    deps.assets.put({"pk": pk, "sk": f"evidence#{evidence_id}", "org": tenant.org, "project": tenant.project,
                     "evidence_id": evidence_id, "asset_id": asset_id, "kind": admitted.kind, "source": source,
                     "evidence_key": evidence_key(tenant, evidence_id), "points": len(indexed.point_ids),
                     "embedding_model": indexed.model, "created_at": now} | summary, only_if_absent=True)
    deps.assets.put(record | {"key": promoted_key, "status": "admitted", "kind": admitted.kind,
                              "content_type": admitted.mime, "format": admitted.extension,
                              "size": len(admitted.data), "width": admitted.width, "height": admitted.height,
                              "pages": admitted.pages, "evidence_id": evidence_id,
                              "admitted_at": deps.clock.now().isoformat()})
    deps.storage.delete(quarantine_key)
    logger.info("asset indexed", extra={"asset_id": asset_id, "evidence_id": evidence_id, "kind": admitted.kind,
                                        "points": len(indexed.point_ids),
                                        "pipeline_ms": round((time.perf_counter() - started) * 1000, 1)})
    return IngestOutcome(asset, "indexed", asset_id, evidence_id, admitted.kind, point_ids=indexed.point_ids)


def reject(tenant: Tenant, record: dict[str, Any], asset: str, code: str, reason: str,
           deps: IngestDeps) -> IngestOutcome:
    """Leaves the file in quarantine and records why (the bucket's lifecycle rule expires it)."""
    deps.assets.put(record | {"status": "rejected", "code": code, "reason": reason,
                              "rejected_at": deps.clock.now().isoformat()})
    logger.info("asset rejected", extra={"asset_id": record["asset_id"], "code": code})
    return IngestOutcome(asset, "rejected", record["asset_id"], reason=reason)


def reject_unread(tenant: Tenant, *, asset: str, source: str, filename: str, upload_key: str, size: int, etag: str,
                  code: str, reason: str, deps: IngestDeps, in_quarantine: bool = False) -> IngestOutcome:
    """Rejects an upload without reading it (over the size limit: S3 may not enforce the POST's condition).
    Its id hashes what S3 reports about it (key, size, ETag), so a redelivered event finds the same record.
    in_quarantine: an interrupted run already moved it there."""
    asset_id = unread_asset_id(upload_key, size, etag)
    quarantine_key = quarantine_key_of(tenant, asset_id, filename)
    if not in_quarantine:
        deps.storage.move(upload_key, quarantine_key)
    record = {"pk": tenant.partition_key, "sk": f"asset#{asset_id}", "org": tenant.org, "project": tenant.project,
              "asset_id": asset_id, "key": quarantine_key, "source": source, "filename": filename, "size": size,
              "etag": etag, "upload_key": upload_key, "created_at": deps.clock.now().isoformat()}
    return reject(tenant, record, asset, code, reason, deps)


def _record_font(tenant: Tenant, asset_id: str, document: dict[str, Any], font_file: bytes,
                 deps: IngestDeps) -> None:
    font = document.get("font") or {}
    family = font.get("family")
    if not family:
        return
    key = tenant.area_key("assets", asset_id, "font.ttf")
    deps.storage.put(key, font_file, content_type="font/ttf")
    deps.assets.put({"pk": tenant.partition_key, "sk": f"{FONT_PREFIX}{family_key(family)}", "org": tenant.org,
                     "project": tenant.project, "family": family, "style": font.get("style"), "asset_id": asset_id,
                     "key": key, "created_at": deps.clock.now().isoformat()})
    deps.fonts.refresh(tenant)  # renders read the project's fonts from this summary


def ingest_assets(tenant: Tenant, references: list[str], *, deps: IngestDeps,
                  fetch_url: Callable[[str], tuple[str, bytes]]) -> list[IngestOutcome]:
    """POST /ingest: each reference is an upload id of this tenant (looked up in its ledger, so another org's or
    project's upload is simply unknown) or a URL fetched through the SSRF guard. Problems with one reference are
    that reference's rejection, never the request's failure. fetch_url returns (final URL, bytes) or raises
    FetchRefused with the reason."""
    from sgd.ingest.embeddings import report_cache_use
    from sgd.ingest.uploads import (
        TERMINAL_STATUSES,
        ingest_received_upload,
        ledger_key,
        outcome_from_ledger,
        receive_arrived_upload,
    )

    outcomes: list[IngestOutcome] = []
    before = (deps.embedder.stats.hits, deps.embedder.stats.misses)
    for reference in dict.fromkeys(references):  # the same reference twice is one asset
        if is_url(reference):
            try:
                final_url, data = fetch_url(reference)
            except FetchRefused as refused:
                outcomes.append(IngestOutcome(reference, "rejected", "", reason=refused.reason))
                continue
            outcomes.append(ingest_file(tenant, data, asset=reference, source=reference,
                                        filename=filename_from_url(final_url), deps=deps))
            continue
        item = deps.assets.get(tenant.partition_key, ledger_key(reference))
        if item is not None and item.get("status") == "pending":
            # the file may have landed before S3's notification was recorded (a client calling right after its POST)
            item = receive_arrived_upload(deps.assets, item, deps.storage, deps.clock) or item
        if item is None:
            outcomes.append(IngestOutcome(reference, "rejected", "", reason=f"unknown upload {reference!r} in project "
                                          f"{tenant.project!r}: use an upload_id POST /uploads returned"))
        elif item.get("status") == "pending":
            outcomes.append(IngestOutcome(reference, "rejected", "", reason=f"upload {reference!r} has no file yet: "
                                          "POST the file with the ticket's url and fields first"))
        elif item.get("status") in TERMINAL_STATUSES:
            outcomes.append(outcome_from_ledger(item, asset=reference))
        else:
            outcome = ingest_received_upload(item, deps, asset=reference)
            if outcome.status == "processing":  # listed under processing[], never as a failure of the file
                outcome = IngestOutcome(reference, "processing", outcome.asset_id, reason=(
                    f"another delivery is still ingesting upload {reference!r}; follow "
                    f"GET /uploads/{reference}?project_id={tenant.project}"))
            outcomes.append(outcome)
    report_cache_use(deps.embedder, before)
    return outcomes


class FetchRefused(Exception):
    """A URL that could not be ingested: refused by the SSRF guard or failed upstream; reason says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@functools.cache
def process_deps() -> IngestDeps:
    """This process's pipeline dependencies, built on first use (boto3, qdrant-client and the embedder load
    here, not at cold start) and reused by warm invocations."""
    from sgd.adapters.clock import SystemClock
    from sgd.adapters.storage import S3ObjectStorage
    from sgd.adapters.tables import DynamoItemTable
    from sgd.adapters.vectors import vector_store
    from sgd.ingest.embeddings import build_embedder
    from sgd.settings import get_settings

    settings = get_settings()
    assets, cache = DynamoItemTable(settings.assets_table), DynamoItemTable(settings.cache_table)
    return IngestDeps(storage=S3ObjectStorage(settings.assets_bucket), assets=assets,
                      fonts=ProjectFonts(assets, cache), embedder=build_embedder(settings, cache),
                      store_for=vector_store, clock=SystemClock(), max_upload_bytes=settings.max_upload_bytes)


def fetch_through_guard(url: str) -> tuple[str, bytes]:
    """A URL's bytes through sgd.net.outbound's SSRF guard; refusals and upstream failures become FetchRefused."""
    from sgd.net.outbound import OutboundFailed, OutboundPolicy, OutboundRefused, fetch
    from sgd.settings import get_settings

    try:
        fetched = fetch(url, OutboundPolicy.from_settings(get_settings()))
    except OutboundRefused as refused:
        raise FetchRefused(f"refused ({refused.code}): {refused.reason}") from None
    except OutboundFailed as failed:
        raise FetchRefused(f"fetch failed ({failed.code}): {failed.reason}") from None
    return fetched.final_url, fetched.data
