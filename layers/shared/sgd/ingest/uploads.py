"""S3 ObjectCreated notifications under uploads/: decode, scope to the tenant, record in the upload ledger.

The ledger is what `sgd ingest` and POST /ingest read to follow each file; a redelivered notification
(same key and sequencer or etag) is recognised and not recorded twice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event

from sgd.adapters.clock import Clock, SystemClock
from sgd.adapters.tables import ItemTable
from sgd.observability import logger
from sgd.tenancy import Tenant, UploadKey, parse_upload_key

LEDGER_TTL_SECONDS = 30 * 24 * 3600


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


def record_uploads(event: dict[str, Any], ledger: ItemTable, clock: Clock | None = None) -> dict[str, Any]:
    """Records every upload of the notification; returns what was recorded, repeated and skipped."""
    clock = clock or SystemClock()
    received, skipped = parse_upload_event(event)
    recorded, repeated = [], []
    for upload in received:
        if ledger.put(ledger_item(upload, clock), only_if_absent=True):
            recorded.append(upload.key)
            logger.info("upload received", extra={"org": upload.tenant.org, "project": upload.tenant.project,
                                                  "upload_id": upload.upload.upload_id, "size": upload.size})
        else:
            repeated.append(upload.key)
    for item in skipped:
        logger.warning("upload skipped", extra=asdict(item))
    return {"recorded": recorded, "repeated": repeated, "skipped": [asdict(item) for item in skipped]}
