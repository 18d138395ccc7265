"""The ingest function's service: upload tickets and their status, POST /ingest, and S3 notifications.

Three ways in, one pipeline: a presigned POST whose file S3 reports under uploads/, POST /ingest naming upload
ids, and POST /ingest naming https URLs (fetched through the SSRF guard). The ledger follows every upload; the
pipeline (admission, extraction, Qdrant) is built on first use, so the routes that only read the ledger load
none of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sgd.adapters.clock import Clock
from sgd.adapters.storage import ObjectStorage
from sgd.contracts.common import is_url
from sgd.errors import NotFound, ValidationFailed
from sgd.ingest.outcomes import FetchRefused, IngestOutcome, filename_from_url, outcome_from_ledger
from sgd.ingest.s3_events import parse_upload_event
from sgd.net.outbound import OutboundPolicy
from sgd.observability import logger
from sgd.repositories.uploads import UPLOAD_ID_PREFIX, UploadEntry, UploadLedger
from sgd.tenancy import Tenant

if TYPE_CHECKING:  # the pipeline (admission, extraction, Qdrant) loads with the first ingestion, not at cold start
    from sgd.ingest.deliveries import UploadDeliveries

FetchUrl = Callable[[str], tuple[str, bytes]]  # URL -> (final URL, bytes), or FetchRefused


class UploadStillProcessing(RuntimeError):
    """An S3 delivery found its upload still claimed by another delivery after waiting: failing the invocation
    lets Lambda's asynchronous retry look again later, when the holder has finished or its claim has lapsed."""


@dataclass(frozen=True, slots=True)
class Ticket:
    upload_id: str
    key: str
    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int


def fetch_through_guard(policy: OutboundPolicy) -> FetchUrl:
    """A URL's bytes through sgd.net.outbound's SSRF guard; refusals and upstream failures become FetchRefused."""

    def fetch_url(url: str) -> tuple[str, bytes]:
        from sgd.net.outbound import OutboundFailed, OutboundRefused, fetch

        try:
            fetched = fetch(url, policy)
        except OutboundRefused as refused:
            raise FetchRefused(f"refused ({refused.code}): {refused.reason}", code="fetch_refused") from None
        except OutboundFailed as failed:
            raise FetchRefused(f"fetch failed ({failed.code}): {failed.reason}", code="fetch_failed") from None
        return fetched.final_url, fetched.data

    return fetch_url


class IngestService:
    def __init__(self, *, ledger: UploadLedger, storage: ObjectStorage, clock: Clock,
                 deliveries: Callable[[], UploadDeliveries], fetch_url: FetchUrl, max_upload_bytes: int,
                 presign_ttl_seconds: int) -> None:
        self._ledger = ledger
        self._storage = storage
        self._clock = clock
        self._deliveries = deliveries
        self._fetch_url = fetch_url
        self._max_upload_bytes = max_upload_bytes
        self._presign_ttl_seconds = presign_ttl_seconds

    # -- POST /uploads, GET /uploads/{id} -------------------------------------------------------------------------
    def create_upload(self, tenant: Tenant, *, filename: str, content_type: str, size_bytes: int,
                      purpose: str | None = None) -> Ticket:
        if size_bytes > self._max_upload_bytes:
            raise ValidationFailed(f"the file is {size_bytes:,} bytes; uploads are limited to "
                                   f"{self._max_upload_bytes:,} bytes: compress or split it",
                                   code="too_large", details={"max_bytes": self._max_upload_bytes})
        # server-generated: a client can never choose or reuse a key
        upload_id = f"{UPLOAD_ID_PREFIX}{uuid.uuid4().hex}"
        key = tenant.upload_key(upload_id, filename)
        post = self._storage.presign_post(key, content_type=content_type, max_bytes=size_bytes,
                                          ttl_seconds=self._presign_ttl_seconds)
        self._ledger.issue_ticket(tenant, upload_id=upload_id, filename=filename, key=key,
                                  content_type=content_type, max_bytes=size_bytes, purpose=purpose)
        return Ticket(upload_id, key, post["url"], post["fields"],
                      self._clock.now() + timedelta(seconds=self._presign_ttl_seconds), size_bytes)

    def upload(self, tenant: Tenant, upload_id: str) -> UploadEntry:
        entry = self._ledger.get(tenant, upload_id)
        if entry is None:
            raise NotFound(f"no upload {upload_id!r} in project {tenant.project!r}")
        return entry

    # -- POST /ingest ---------------------------------------------------------------------------------------------
    def ingest(self, tenant: Tenant, references: list[str]) -> list[IngestOutcome]:
        """Each reference is an upload id of this tenant (looked up in its ledger, so another org's or project's
        upload is simply unknown) or a URL fetched through the SSRF guard. Problems with one reference are that
        reference's rejection, never the request's failure."""
        from sgd.ingest.embeddings import report_cache_use

        deliveries = self._deliveries()
        embedder = deliveries.pipeline.embedder
        before = (embedder.stats.hits, embedder.stats.misses)
        outcomes = [self._ingest_one(tenant, reference, deliveries) for reference in dict.fromkeys(references)]
        report_cache_use(embedder, before)
        return outcomes

    def _ingest_one(self, tenant: Tenant, reference: str, deliveries: UploadDeliveries) -> IngestOutcome:
        if is_url(reference):
            try:
                final_url, data = self._fetch_url(reference)
            except FetchRefused as refused:
                return IngestOutcome(reference, "rejected", "", reason=refused.reason, code=refused.code)
            return deliveries.pipeline.ingest_file(tenant, data, asset=reference, source=reference,
                                                   filename=filename_from_url(final_url))
        entry = self._ledger.get(tenant, reference)
        if entry is not None and entry.status == "pending":
            # the file may have landed before S3's notification was recorded (a client calling right after its POST)
            entry = deliveries.receive_arrived(entry) or entry
        if entry is None:
            return IngestOutcome(reference, "rejected", "", reason=f"unknown upload {reference!r} in project "
                                 f"{tenant.project!r}: use an upload_id POST /uploads returned", code="unknown_upload")
        if entry.status == "pending":
            return IngestOutcome(reference, "rejected", "", reason=f"upload {reference!r} has no file yet: POST the "
                                 "file with the ticket's url and fields first", code="not_uploaded")
        if entry.final:
            return outcome_from_ledger(entry, asset=reference)
        outcome = deliveries.ingest(entry, asset=reference)
        if outcome.status == "processing":  # listed under processing[], never as a failure of the file
            return IngestOutcome(reference, "processing", outcome.asset_id, reason=(
                f"another delivery is still ingesting upload {reference!r}; follow "
                f"GET /uploads/{reference}?project_id={tenant.project}"))
        return outcome

    # -- S3 ObjectCreated under uploads/ --------------------------------------------------------------------------
    def on_upload_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """Records each upload of the notification, then ingests the ones not yet processed."""
        summary = self.record_uploads(event)
        received, _ = parse_upload_event(event)
        outcomes: list[dict[str, Any]] = []
        for upload in received:
            entry = self._ledger.get(upload.tenant, upload.upload.upload_id)
            if entry is None or entry.status != "received":
                continue  # already processed: a redelivered notification changes nothing
            from sgd.ingest.embeddings import report_cache_use

            deliveries = self._deliveries()
            embedder = deliveries.pipeline.embedder
            before = (embedder.stats.hits, embedder.stats.misses)
            outcome = deliveries.ingest(entry)
            report_cache_use(embedder, before)
            outcomes.append({"key": upload.key, "status": outcome.status, "asset_id": outcome.asset_id,
                             "evidence_id": outcome.evidence_id, "reason": outcome.reason})
        busy = [outcome["key"] for outcome in outcomes if outcome["status"] == "processing"]
        if busy:
            logger.warning("uploads still claimed by another delivery", extra={"keys": busy, "ingested": outcomes})
            raise UploadStillProcessing(f"{len(busy)} upload(s) still being ingested by another delivery: retry later")
        return summary | {"ingested": outcomes}

    def record_uploads(self, event: dict[str, Any]) -> dict[str, Any]:
        """Records every upload of the notification; returns what was recorded, repeated and skipped."""
        received, skipped = parse_upload_event(event)
        recorded: list[str] = []
        repeated: list[str] = []
        unticketed: list[str] = []
        for upload in received:
            first = self._ledger.receive(upload.tenant, upload_id=upload.upload.upload_id,
                                         filename=upload.upload.filename, key=upload.key, size=upload.size,
                                         etag=upload.etag, sequencer=upload.sequencer, event_time=upload.event_time)
            if first:
                recorded.append(upload.key)
                logger.info("upload received", extra={"org": upload.tenant.org, "project": upload.tenant.project,
                                                      "upload_id": upload.upload.upload_id, "size": upload.size})
                continue
            entry = self._ledger.get(upload.tenant, upload.upload.upload_id)
            if entry is None or entry.key != upload.key:  # no ticket was issued for this key: never ingested
                unticketed.append(upload.key)
                logger.warning("upload without a ticket ignored", extra={
                    "org": upload.tenant.org, "project": upload.tenant.project, "key": upload.key})
            else:
                repeated.append(upload.key)
        for skipped_record in skipped:
            logger.warning("upload skipped", extra=asdict(skipped_record))
        return {"recorded": recorded, "repeated": repeated, "unticketed": unticketed,
                "skipped": [asdict(item) for item in skipped]}
