"""The upload ledger, and S3 ObjectCreated notifications under uploads/: decode, scope to the tenant, record,
then run each new upload through the ingest pipeline.

Ledger statuses (`upload#{upload_id}` in the assets table): `pending` (POST /uploads issued a ticket), `received`
(S3 reported the object), then `indexed`, `duplicate` or `rejected` (+ reason, asset_id, evidence_id, kind).
The ledger is what `sgd ingest`, GET /uploads/{id} and POST /ingest read to follow each file. A redelivered
notification finds the upload already recorded; only uploads still `received` (a delivery that failed midway)
go through the pipeline again, which itself writes nothing twice.

While `received`, one delivery at a time (the S3 event, its retries, POST /ingest) holds the entry's claim
(`claim_id`, `claim_expires_at`: a conditional update; a claim older than CLAIM_LEASE_SECONDS is abandoned and
may be taken again) and runs the pipeline; the others wait briefly and report the holder's outcome. Before the
file leaves uploads/, the holder notes `asset_id` and `quarantine_key` in the entry, so a retry after a crash
finishes from quarantine/. A final status is written conditionally and never overwritten.
"""

from __future__ import annotations

import time
import uuid
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
    from sgd.adapters.storage import ObjectStorage
    from sgd.ingest.pipeline import IngestDeps, IngestOutcome

LEDGER_TTL_SECONDS = 30 * 24 * 3600
TERMINAL_STATUSES = ("indexed", "duplicate", "rejected")
CLAIM_LEASE_SECONDS = 30  # longer than the function's timeout (28 s): an older claim's holder is gone
CLAIM_WAIT_SECONDS = 10.0  # how long a delivery that finds the upload claimed waits for the holder's outcome
CLAIM_POLL_SECONDS = 0.2
_IN_PROGRESS_ATTRIBUTES = ("claim_id", "claimed_at", "claim_expires_at", "quarantine_key")


class UploadStillProcessing(RuntimeError):
    """An S3 delivery found its upload still claimed by another delivery after waiting: failing the invocation
    lets Lambda's asynchronous retry look again later, when the holder has finished or its claim has lapsed."""


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
                first = _put_if_pending(ledger, existing | item)
        if first:
            recorded.append(upload.key)
            logger.info("upload received", extra={"org": upload.tenant.org, "project": upload.tenant.project,
                                                  "upload_id": upload.upload.upload_id, "size": upload.size})
        else:
            repeated.append(upload.key)
    for skipped_record in skipped:
        logger.warning("upload skipped", extra=asdict(skipped_record))
    return {"recorded": recorded, "repeated": repeated, "skipped": [asdict(item) for item in skipped]}


def claim_upload(ledger: ItemTable, tenant: Tenant, upload_id: str, claim_id: str,
                 clock: Clock) -> dict[str, Any] | None:
    """Takes the upload's ledger entry for one delivery: only a `received` entry nobody holds, or whose holder's
    claim is older than CLAIM_LEASE_SECONDS (it crashed or timed out). Returns the claimed entry, or None."""
    now = int(clock.now().timestamp())
    return ledger.update_if(
        tenant.partition_key, ledger_key(upload_id),
        update="SET claim_id = :claim, claimed_at = :at, claim_expires_at = :until ADD attempts :one",
        condition="#status = :received AND (attribute_not_exists(claim_expires_at) OR claim_expires_at <= :now)",
        names={"#status": "status"},
        values={":claim": claim_id, ":at": clock.now().isoformat(), ":until": now + CLAIM_LEASE_SECONDS,
                ":now": now, ":received": "received", ":one": 1})


def note_quarantine(ledger: ItemTable, tenant: Tenant, upload_id: str, claim_id: str, *, asset_id: str,
                    quarantine_key: str) -> bool:
    """Before the file leaves uploads/: where it is going, so a retry that finds uploads/ empty resumes from there.
    False when this delivery no longer holds the claim."""
    return ledger.update_if(
        tenant.partition_key, ledger_key(upload_id), update="SET asset_id = :asset, quarantine_key = :quarantine",
        condition="claim_id = :claim AND #status = :received", names={"#status": "status"},
        values={":asset": asset_id, ":quarantine": quarantine_key, ":claim": claim_id,
                ":received": "received"}) is not None


def _put_if_pending(ledger: ItemTable, item: dict[str, Any]) -> bool:
    """Writes a `received` entry over a `pending` one, only if nobody did first (S3's notification and POST /ingest
    can both find the file): an unconditional write could erase the other's claim."""
    return ledger.put_if(item, condition="#status = :pending", names={"#status": "status"},
                         values={":pending": "pending"})


def receive_arrived_upload(ledger: ItemTable, item: dict[str, Any], storage: ObjectStorage,
                           clock: Clock) -> dict[str, Any] | None:
    """A `pending` entry whose file is in uploads/ although S3's notification has not been recorded yet: records it
    `received` (as the notification would) and returns the entry now stored; None while the file is not there."""
    stored = storage.head(item["key"])
    if stored is None:
        return None
    now = clock.now()
    received = item | {"status": "received", "size": stored.size, "etag": stored.etag,
                       "received_at": now.isoformat(), "expires_at": int(now.timestamp()) + LEDGER_TTL_SECONDS}
    if _put_if_pending(ledger, received):
        logger.info("upload received before its notification", extra={
            "org": item["org"], "project": item["project"], "upload_id": item["upload_id"], "size": stored.size})
        return received
    return ledger.get(item["pk"], item["sk"])


def record_outcome(ledger: ItemTable, tenant: Tenant, upload_id: str, outcome: IngestOutcome,
                   clock: Clock) -> tuple[dict[str, Any], bool]:
    """Moves the upload's ledger entry to its final status, unless it already has one (a final status is never
    overwritten: the first delivery to finish is the one reported). Returns the entry now stored and whether
    this outcome is the one written."""
    if outcome.status not in TERMINAL_STATUSES:
        raise ValueError(f"{outcome.status!r} is not a final upload status")
    current = ledger.get(tenant.partition_key, ledger_key(upload_id)) or {
        "pk": tenant.partition_key, "sk": ledger_key(upload_id), "kind": "upload", "org": tenant.org,
        "project": tenant.project, "upload_id": upload_id,
        "expires_at": int(clock.now().timestamp()) + LEDGER_TTL_SECONDS}
    if current.get("status") in TERMINAL_STATUSES:
        return current, False
    item = {name: value for name, value in current.items() if name not in _IN_PROGRESS_ATTRIBUTES} | {
        "status": outcome.status, "reason": outcome.reason, "asset_id": outcome.asset_id,
        "evidence_id": outcome.evidence_id, "asset_kind": outcome.kind, "points": len(outcome.point_ids),
        "processed_at": clock.now().isoformat()}
    if outcome.status == "indexed" and not outcome.point_ids and outcome.evidence_id:
        # finished from an interrupted run's records, whose point ids are not at hand: the evidence counts them
        evidence = ledger.get(tenant.partition_key, f"evidence#{outcome.evidence_id}") or {}
        item["points"] = int(evidence.get("points") or 0)
    written = ledger.put_if(
        item, condition="attribute_not_exists(pk) OR NOT (#status IN (:indexed, :duplicate, :rejected))",
        names={"#status": "status"}, values={f":{status}": status for status in TERMINAL_STATUSES})
    if written:
        return item, True
    return ledger.get(tenant.partition_key, ledger_key(upload_id)) or item, False


def _claim_or_settle(tenant: Tenant, upload_id: str, deps: IngestDeps, *,
                     label: str) -> tuple[dict[str, Any] | None, IngestOutcome | None]:
    """Claims the upload for this delivery, or, while another delivery holds it, waits up to CLAIM_WAIT_SECONDS
    for its final status. Returns (the claimed entry, None) or (None, the outcome to report)."""
    from sgd.ingest.pipeline import IngestOutcome

    claim_id = uuid.uuid4().hex
    deadline = time.monotonic() + CLAIM_WAIT_SECONDS
    current: dict[str, Any] | None = None
    while True:
        if current is None or _claimable(current, deps.clock):
            claimed = claim_upload(deps.assets, tenant, upload_id, claim_id, deps.clock)
            if claimed is not None:
                return claimed, None
        current = deps.assets.get(tenant.partition_key, ledger_key(upload_id)) or {}
        status = current.get("status")
        if status in TERMINAL_STATUSES:
            return None, outcome_from_ledger(current, asset=label)
        if status != "received":  # the entry expired, or was never reported by S3
            return None, IngestOutcome(label, "rejected", "", reason=f"upload {upload_id!r} is "
                                       f"{status or 'not in the ledger'}: upload the file again")
        if time.monotonic() >= deadline:
            return None, _still_processing(label, current.get("asset_id") or "")
        time.sleep(CLAIM_POLL_SECONDS)


def _claimable(item: dict[str, Any], clock: Clock) -> bool:
    expires = item.get("claim_expires_at")
    return item.get("status") == "received" and (expires is None or int(expires) <= clock.now().timestamp())


def ingest_received_upload(item: dict[str, Any], deps: IngestDeps, *, asset: str | None = None) -> IngestOutcome:
    """Runs one `received` ledger entry's file through the pipeline and records the outcome in the ledger.

    Exactly one delivery at a time (S3 event, its retries, POST /ingest) holds the entry's claim and runs the
    pipeline; the others report the holder's outcome. The claim notes where the file goes before it is moved, so
    a retry after a crash finishes the job from quarantine/ instead of finding uploads/ empty."""
    tenant = Tenant(item["org"], item["project"])
    upload_id = item["upload_id"]
    label = asset or upload_id
    for _ in range(2):  # a second round only if this delivery outlived its lease and another took the claim
        claimed, settled = _claim_or_settle(tenant, upload_id, deps, label=label)
        if claimed is None:
            assert settled is not None
            return settled
        outcome = _run_claimed(tenant, claimed, deps, label=label)
        if outcome is not None:
            stored, written = record_outcome(deps.assets, tenant, upload_id, outcome, deps.clock)
            return outcome if written else outcome_from_ledger(stored, asset=label)
    return _still_processing(label, "")


def _still_processing(label: str, asset_id: str) -> IngestOutcome:
    from sgd.ingest.pipeline import IngestOutcome

    return IngestOutcome(label, "processing", asset_id, reason="another delivery is still ingesting this upload")


def _run_claimed(tenant: Tenant, claimed: dict[str, Any], deps: IngestDeps, *, label: str) -> IngestOutcome | None:
    """The pipeline for a claimed upload; None if the claim was lost before the file was moved."""
    from sgd.ingest.pipeline import (
        IngestOutcome,
        asset_id_of,
        ingest_file,
        quarantine_key_of,
        reject_unread,
        unread_asset_id,
    )

    upload_id, filename, key = claimed["upload_id"], claimed["filename"], claimed["key"]
    claim_id, size, etag = claimed["claim_id"], int(claimed.get("size") or 0), str(claimed.get("etag", ""))
    if size > deps.max_upload_bytes:  # S3 reported it: no need to read a file that is refused anyway
        asset_id = unread_asset_id(key, size, etag)
        if not note_quarantine(deps.assets, tenant, upload_id, claim_id, asset_id=asset_id,
                               quarantine_key=quarantine_key_of(tenant, asset_id, filename)):
            return None
        return reject_unread(tenant, asset=label, source=filename, filename=filename, upload_key=key, size=size,
                             etag=etag, code="too_large", deps=deps, in_quarantine=deps.storage.head(key) is None,
                             reason=f"the file is {size:,} bytes; the limit is {deps.max_upload_bytes:,} bytes: "
                                    "compress or split it")
    try:
        data = deps.storage.get(key)
    except Exception as error:
        if not _is_missing_object(error):
            raise
        return _resume_from_quarantine(tenant, claimed, deps, label=label) or IngestOutcome(
            label, "rejected", "", reason="the uploaded file is no longer in uploads/ (deleted before it could be "
                                          "ingested): upload it again")
    asset_id = asset_id_of(data)
    if not note_quarantine(deps.assets, tenant, upload_id, claim_id, asset_id=asset_id,
                           quarantine_key=quarantine_key_of(tenant, asset_id, filename)):
        return None
    return ingest_file(tenant, data, asset=label, source=filename, filename=filename, deps=deps, upload_key=key)


def _resume_from_quarantine(tenant: Tenant, claimed: dict[str, Any], deps: IngestDeps, *,
                            label: str) -> IngestOutcome | None:
    """Finishes an upload an earlier delivery moved to quarantine/ and then crashed on; None if no earlier
    delivery got that far (the file was deleted from uploads/ before anyone moved it)."""
    from sgd.ingest.pipeline import ingest_file

    quarantine_key = claimed.get("quarantine_key")
    if not quarantine_key:
        return None
    try:
        data = deps.storage.get(quarantine_key)
    except Exception as error:
        if not _is_missing_object(error):
            raise
        return _outcome_from_asset(tenant, claimed, deps, label=label)
    logger.info("resuming an interrupted upload from quarantine",
                extra={"org": tenant.org, "project": tenant.project, "upload_id": claimed["upload_id"],
                       "attempts": claimed.get("attempts")})
    return ingest_file(tenant, data, asset=label, source=claimed["filename"], filename=claimed["filename"],
                       deps=deps, upload_key=claimed["key"], in_quarantine=True)


def _outcome_from_asset(tenant: Tenant, claimed: dict[str, Any], deps: IngestDeps, *,
                        label: str) -> IngestOutcome | None:
    """Neither uploads/ nor quarantine/ holds the file: the earlier delivery finished the asset (promoted, and
    the quarantine copy deleted) and crashed before recording the upload's outcome."""
    from sgd.ingest.pipeline import IngestOutcome

    asset_id = claimed.get("asset_id") or ""
    record = deps.assets.get(tenant.partition_key, f"asset#{asset_id}") or {}
    if record.get("status") == "rejected":
        return IngestOutcome(label, "rejected", asset_id, reason=record.get("reason"))
    if record.get("status") != "admitted":
        return None
    status = "indexed" if record.get("upload_key") == claimed["key"] else "duplicate"
    return IngestOutcome(label, status, asset_id, record.get("evidence_id"), record.get("kind"))


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
    outcomes: list[dict[str, Any]] = []
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
    busy = [outcome["key"] for outcome in outcomes if outcome["status"] == "processing"]
    if busy:
        logger.warning("uploads still claimed by another delivery", extra={"keys": busy, "ingested": outcomes})
        raise UploadStillProcessing(f"{len(busy)} upload(s) still being ingested by another delivery: retry later")
    return summary | {"ingested": outcomes}
