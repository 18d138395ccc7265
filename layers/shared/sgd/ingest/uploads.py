"""The upload ledger, and S3 ObjectCreated notifications under uploads/: decode, scope to the tenant, record,
then run each new upload through the ingest pipeline.

Ledger statuses (`upload#{upload_id}` in the assets table): `pending` (POST /uploads issued a ticket), `received`
(S3 reported the object), then `indexed`, `duplicate` or `rejected` (+ reason, asset_id, evidence_id, kind).
The ledger is what `sgd ingest`, GET /uploads/{id} and POST /ingest read to follow each file. A redelivered
notification finds the upload already recorded; only uploads still `received` (a delivery that failed midway)
go through the pipeline again, which itself writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event

from sgd.adapters.clock import Clock, SystemClock
from sgd.adapters.tables import ItemTable
from sgd.observability import logger
from sgd.tenancy import Tenant, UploadKey, parse_upload_key

if TYPE_CHECKING:
    from sgd.ingest.pipeline import IngestDeps, IngestOutcome

LEDGER_TTL_SECONDS = 30 * 24 * 3600
TERMINAL_STATUSES = ("indexed", "duplicate", "rejected")


@dataclass(frozen=True, slots=True)
class ReceivedUpload:
    upload: UploadKey
    bucket: str
    key: str
    size: int
    etag: str
    event_name: str
    event_time: str
    sequencer: str

    @property
    def tenant(self) -> Tenant:
        return self.upload.tenant


@dataclass(frozen=True, slots=True)
class SkippedRecord:
    key: str
    reason: str


def parse_upload_event(event: dict[str, Any]) -> tuple[list[ReceivedUpload], list[SkippedRecord]]:
    """The uploads in an S3 notification, keys decoded (URL encoding, '+' for space, unicode)."""
    received: list[ReceivedUpload] = []
    skipped: list[SkippedRecord] = []
    for record in S3Event(event).records:
        key = unquote_plus(record.s3.get_object.key)  # S3 sends keys URL-encoded, spaces as "+"
        if not record.event_name.startswith("ObjectCreated:"):
            skipped.append(SkippedRecord(key, f"event {record.event_name} is not an upload"))
            continue
        try:
            upload = parse_upload_key(key)
        except ValueError as error:
            skipped.append(SkippedRecord(key, str(error)))
            continue
        s3_object = record.s3.get_object
        received.append(ReceivedUpload(
            upload=upload, bucket=record.s3.bucket.name, key=key, size=s3_object.size or 0,
            etag=s3_object.etag or "", event_name=record.event_name, event_time=record.event_time,
            sequencer=s3_object.sequencer or "",
        ))
    return received, skipped


def ledger_item(upload: ReceivedUpload, clock: Clock) -> dict[str, Any]:
    now = clock.now()
    return {
        "pk": upload.tenant.partition_key,
        "sk": f"upload#{upload.upload.upload_id}",
        "kind": "upload",
        "status": "received",
        "org": upload.tenant.org,
        "project": upload.tenant.project,
        "upload_id": upload.upload.upload_id,
        "filename": upload.upload.filename,
        "key": upload.key,
        "size": upload.size,
        "etag": upload.etag,
        "sequencer": upload.sequencer,
        "event_time": upload.event_time,
        "received_at": now.isoformat(),
        "expires_at": int(now.timestamp()) + LEDGER_TTL_SECONDS,
    }


def ledger_key(upload_id: str) -> str:
    return f"upload#{upload_id}"


def ticket_item(tenant: Tenant, *, upload_id: str, filename: str, key: str, content_type: str, max_bytes: int,
                clock: Clock) -> dict[str, Any]:
    """The ledger entry POST /uploads writes with the ticket: status `pending` until S3 reports the file."""
    now = clock.now()
    return {"pk": tenant.partition_key, "sk": ledger_key(upload_id), "kind": "upload", "status": "pending",
            "org": tenant.org, "project": tenant.project, "upload_id": upload_id, "filename": filename, "key": key,
            "content_type": content_type, "max_bytes": max_bytes, "ticketed_at": now.isoformat(),
            "expires_at": int(now.timestamp()) + LEDGER_TTL_SECONDS}


def record_uploads(event: dict[str, Any], ledger: ItemTable, clock: Clock | None = None) -> dict[str, Any]:
    """Records every upload of the notification; returns what was recorded, repeated and skipped."""
    clock = clock or SystemClock()
    received, skipped = parse_upload_event(event)
    recorded, repeated = [], []
    for upload in received:
        item = ledger_item(upload, clock)
        first = ledger.put(item, only_if_absent=True)
        if not first:
            existing = ledger.get(item["pk"], item["sk"]) or {}
            if existing.get("status") == "pending":  # a ticketed upload: its file has now arrived
                first = ledger.put(existing | item)
        if first:
            recorded.append(upload.key)
            logger.info("upload received", extra={"org": upload.tenant.org, "project": upload.tenant.project,
                                                  "upload_id": upload.upload.upload_id, "size": upload.size})
        else:
            repeated.append(upload.key)
    for skipped_record in skipped:
        logger.warning("upload skipped", extra=asdict(skipped_record))
    return {"recorded": recorded, "repeated": repeated, "skipped": [asdict(item) for item in skipped]}


def record_outcome(ledger: ItemTable, tenant: Tenant, upload_id: str, outcome: IngestOutcome,
                   clock: Clock) -> dict[str, Any]:
    """Moves the upload's ledger entry to its final status."""
    item = ledger.get(tenant.partition_key, ledger_key(upload_id)) or {
        "pk": tenant.partition_key, "sk": ledger_key(upload_id), "kind": "upload", "org": tenant.org,
        "project": tenant.project, "upload_id": upload_id,
        "expires_at": int(clock.now().timestamp()) + LEDGER_TTL_SECONDS}
    item = item | {"status": outcome.status, "reason": outcome.reason, "asset_id": outcome.asset_id,
                   "evidence_id": outcome.evidence_id, "asset_kind": outcome.kind,
                   "points": len(outcome.point_ids), "processed_at": clock.now().isoformat()}
    ledger.put(item)
    return item


def ingest_received_upload(item: dict[str, Any], deps: IngestDeps, *, asset: str | None = None) -> IngestOutcome:
    """Runs one `received` ledger entry's file through the pipeline and records the outcome in the ledger."""
    from sgd.ingest.pipeline import ingest_file, reject_unread

    tenant = Tenant(item["org"], item["project"])
    upload_id, filename, key = item["upload_id"], item["filename"], item["key"]
    label = asset or upload_id
    source = filename
    size = int(item.get("size") or 0)
    if size > deps.max_upload_bytes:  # S3 reported it: no need to read a file that is refused anyway
        outcome = reject_unread(tenant, asset=label, source=source, filename=filename, upload_key=key, size=size,
                                etag=str(item.get("etag", "")), code="too_large",
                                reason=f"the file is {size:,} bytes; the limit is {deps.max_upload_bytes:,} bytes: "
                                       "compress or split it", deps=deps)
    else:
        try:
            data = deps.storage.get(key)
        except Exception as error:
            if not _is_missing_object(error):
                raise
            # Gone: another delivery (or POST /ingest) moved it to quarantine meanwhile, and its outcome is ours;
            # or it was deleted before it could be read, which no retry can fix.
            current = deps.assets.get(tenant.partition_key, ledger_key(upload_id)) or {}
            if current.get("status") in TERMINAL_STATUSES:
                return outcome_from_ledger(current, asset=label)
            from sgd.ingest.pipeline import IngestOutcome

            outcome = IngestOutcome(label, "rejected", "", reason="the uploaded file is no longer in uploads/ "
                                    "(deleted before it could be ingested): upload it again")
            record_outcome(deps.assets, tenant, upload_id, outcome, deps.clock)
            return outcome
        outcome = ingest_file(tenant, data, asset=label, source=source, filename=filename, deps=deps,
                              upload_key=key)
    record_outcome(deps.assets, tenant, upload_id, outcome, deps.clock)
    return outcome


def _is_missing_object(error: Exception) -> bool:
    """S3's answer for a key that does not exist: 404, or 403 without s3:ListBucket (which ingest does not need)."""
    code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
    return code in ("NoSuchKey", "404", "NotFound", "AccessDenied", "403")


def outcome_from_ledger(item: dict[str, Any], *, asset: str) -> IngestOutcome:
    from sgd.ingest.pipeline import IngestOutcome

    return IngestOutcome(asset, item["status"], item.get("asset_id") or "", item.get("evidence_id"),
                         item.get("asset_kind"), item.get("reason"))


def process_upload_event(event: dict[str, Any], ledger: ItemTable,
                         deps_factory: Callable[[], IngestDeps]) -> dict[str, Any]:
    """The ingest function's S3 handler: record each upload, then ingest the ones not yet processed."""
    summary = record_uploads(event, ledger)
    received, _ = parse_upload_event(event)
    outcomes = []
    for upload in received:
        item = ledger.get(upload.tenant.partition_key, ledger_key(upload.upload.upload_id))
        if item is None or item.get("status") != "received":
            continue  # already processed: a redelivered notification changes nothing
        from sgd.ingest.embeddings import report_cache_use

        deps = deps_factory()
        before = (deps.embedder.stats.hits, deps.embedder.stats.misses)
        outcome = ingest_received_upload(item, deps)
        report_cache_use(deps.embedder, before)
        outcomes.append({"key": upload.key, "status": outcome.status, "asset_id": outcome.asset_id,
                         "evidence_id": outcome.evidence_id, "reason": outcome.reason})
    return summary | {"ingested": outcomes}
