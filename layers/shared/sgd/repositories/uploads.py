"""The upload ledger: `upload#{upload_id}` entries in the assets table, under the tenant's partition.

Statuses: `pending` (POST /uploads issued a ticket), `received` (S3 reported the object), then one final status,
`indexed`, `duplicate` or `rejected` (+ reason, asset_id, evidence_id, kind), written once and never overwritten.

While `received`, one delivery at a time (the S3 event, its retries, POST /ingest) holds the entry's claim:
`claim_id` and `claim_expires_at` set by a conditional update; a claim whose lease has passed was abandoned (its
holder crashed or timed out) and may be taken again. Before the file leaves uploads/, the holder notes `asset_id`
and `quarantine_key`, so a retry after a crash finishes from quarantine/.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from sgd.adapters.clock import Clock
from sgd.adapters.tables import ItemTable, Update, absent, eq, le, one_of
from sgd.repositories.records import from_item, to_item
from sgd.tenancy import Tenant

UPLOAD_PREFIX = "upload#"
UPLOAD_ID_PREFIX = "up-"  # every upload id POST /uploads issues starts so; asset ids are hex content hashes


def is_upload_id(value: str) -> bool:
    return value.startswith(UPLOAD_ID_PREFIX)


def upload_item_key(tenant: Tenant, upload_id: str) -> tuple[str, str]:
    """The ledger entry's key: where an upload id's asset id is found once the file was read."""
    return tenant.partition_key, f"{UPLOAD_PREFIX}{upload_id}"
LEDGER_TTL_SECONDS = 30 * 24 * 3600
FINAL_STATUSES = ("indexed", "duplicate", "rejected")
_CLAIM_ATTRIBUTES = ("claim_id", "claimed_at", "claim_expires_at", "quarantine_key")

UploadStatus = Literal["pending", "received", "indexed", "duplicate", "rejected"]


@dataclass(frozen=True, slots=True)
class UploadEntry:
    org: str
    project: str
    upload_id: str
    status: UploadStatus
    key: str  # the uploads/ key the ticket allows
    expires_at: int
    filename: str | None = None
    content_type: str | None = None
    max_bytes: int | None = None
    purpose: str | None = None  # what the uploader said the file is for (sgd.contracts.ingest.AssetPurpose)
    ticketed_at: str | None = None
    size: int | None = None
    etag: str | None = None
    sequencer: str | None = None
    event_time: str | None = None
    received_at: str | None = None
    # the delivery that holds the claim, and where it is moving the file
    claim_id: str | None = None
    claimed_at: str | None = None
    claim_expires_at: int | None = None
    quarantine_key: str | None = None
    attempts: int | None = None
    # the outcome
    asset_id: str | None = None
    evidence_id: str | None = None
    asset_kind: str | None = None
    points: int | None = None
    code: str | None = None
    reason: str | None = None
    processed_at: str | None = None
    kind: Literal["upload"] = "upload"

    @property
    def tenant(self) -> Tenant:
        return Tenant(self.org, self.project)

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    def claimable(self, now: int) -> bool:
        """`received` and held by nobody, or by a delivery whose lease has passed."""
        return self.status == "received" and (self.claim_expires_at is None or self.claim_expires_at <= now)


@dataclass(frozen=True, slots=True)
class UploadOutcome:
    """What a final status records."""

    status: Literal["indexed", "duplicate", "rejected"]
    asset_id: str
    evidence_id: str | None = None
    kind: str | None = None
    points: int = 0
    code: str | None = None
    reason: str | None = None


class UploadLedger:
    def __init__(self, table: ItemTable, clock: Clock) -> None:
        self._table = table
        self._clock = clock

    @staticmethod
    def _key(tenant: Tenant, upload_id: str) -> tuple[str, str]:
        return upload_item_key(tenant, upload_id)

    def _item(self, entry: UploadEntry) -> dict[str, object]:
        pk, sk = self._key(entry.tenant, entry.upload_id)
        return to_item(entry, pk=pk, sk=sk)

    def _expiry(self) -> int:
        return int(self._clock.now().timestamp()) + LEDGER_TTL_SECONDS

    def get(self, tenant: Tenant, upload_id: str) -> UploadEntry | None:
        item = self._table.get(*self._key(tenant, upload_id))
        return from_item(UploadEntry, item) if item is not None else None

    def issue_ticket(self, tenant: Tenant, *, upload_id: str, filename: str, key: str, content_type: str,
                     max_bytes: int, purpose: str | None = None) -> UploadEntry:
        """The entry POST /uploads writes with the ticket: `pending` until S3 reports the file."""
        entry = UploadEntry(tenant.org, tenant.project, upload_id, "pending", key, self._expiry(), filename=filename,
                            content_type=content_type, max_bytes=max_bytes, purpose=purpose,
                            ticketed_at=self._clock.now().isoformat())
        self._table.put(self._item(entry))
        return entry

    def receive(self, tenant: Tenant, *, upload_id: str, filename: str, key: str, size: int, etag: str,
                sequencer: str = "", event_time: str = "") -> bool:
        """Records that S3 holds the file of a ticket POST /uploads issued (its notification, or a client that
        checked first). True when this call recorded it; False when it was already received or further (a
        redelivered notification), or when no ticket was issued for it (a file nobody was given a ticket for is
        never ingested)."""
        received = {"status": "received", "filename": filename, "key": key, "size": size, "etag": etag,
                    "sequencer": sequencer, "event_time": event_time, "received_at": self._clock.now().isoformat(),
                    "expires_at": self._expiry()}
        # Conditional, as the notification and POST /ingest may both find the file, and an unconditional write
        # could erase the other's claim; the ticket's key must be the file's.
        pk, sk = self._key(tenant, upload_id)
        return self._table.update(pk, sk, Update(set=received),
                                  when=eq("status", "pending") & eq("key", key)) is not None

    def claim(self, entry: UploadEntry, claim_id: str, *, lease_seconds: int) -> UploadEntry | None:
        """Takes a `received` entry for one delivery: only one nobody holds, or whose holder's lease has passed.
        Returns the claimed entry, or None when another delivery holds it (or it is no longer `received`)."""
        now = self._clock.now()
        epoch = int(now.timestamp())
        claimed = self._table.update(
            *self._key(entry.tenant, entry.upload_id),
            Update(set={"claim_id": claim_id, "claimed_at": now.isoformat(), "claim_expires_at": epoch + lease_seconds},
                   add={"attempts": 1}),
            when=eq("status", "received") & (absent("claim_expires_at") | le("claim_expires_at", epoch)))
        return from_item(UploadEntry, claimed) if claimed is not None else None

    def note_quarantine(self, entry: UploadEntry, *, asset_id: str, quarantine_key: str) -> bool:
        """Before the file leaves uploads/: where it is going. False when `entry` (a claimed entry) no longer holds
        the claim."""
        return self._table.update(
            *self._key(entry.tenant, entry.upload_id),
            Update(set={"asset_id": asset_id, "quarantine_key": quarantine_key}),
            when=eq("claim_id", entry.claim_id) & eq("status", "received")) is not None

    def settle(self, tenant: Tenant, upload_id: str, outcome: UploadOutcome) -> tuple[UploadEntry, bool]:
        """Moves the entry to its final status unless it already has one (the first delivery to finish is the one
        reported). Returns the entry now stored and whether this outcome is the one written."""
        current = self.get(tenant, upload_id) or UploadEntry(tenant.org, tenant.project, upload_id, "received",
                                                             "", self._expiry())
        if current.final:
            return current, False
        settled = dataclasses.replace(
            current, status=outcome.status, reason=outcome.reason, code=outcome.code, asset_id=outcome.asset_id,
            evidence_id=outcome.evidence_id, asset_kind=outcome.kind, points=outcome.points,
            processed_at=self._clock.now().isoformat(), **dict.fromkeys(_CLAIM_ATTRIBUTES))
        if self._table.put(self._item(settled), when=absent("pk") | ~one_of("status", FINAL_STATUSES)):
            return settled, True
        return self.get(tenant, upload_id) or settled, False
