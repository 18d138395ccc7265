"""S3 ObjectCreated notifications under uploads/: decoded and scoped to the tenant the key names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event

from sgd.tenancy import Tenant, UploadKey, parse_upload_key


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
