"""Deliveries of one upload to the pipeline: the claim and lease protocol over the upload ledger.

An upload can be delivered more than once: S3's notification, Lambda's retries of it, and POST /ingest naming
the upload id. Exactly one delivery at a time holds the ledger entry's claim and runs the pipeline; the others
wait briefly and report the holder's outcome. The claim notes where the file goes before it is moved, so a retry
after a crash finishes the job from quarantine/ instead of finding uploads/ empty (sgd.repositories.uploads).
"""

from __future__ import annotations

import time
import uuid

from sgd.adapters.storage import is_missing_object
from sgd.ingest.outcomes import IngestOutcome, asset_id_of, outcome_from_ledger, unread_asset_id
from sgd.ingest.pipeline import IngestPipeline
from sgd.observability import logger
from sgd.repositories.uploads import UploadEntry, UploadLedger, UploadOutcome

CLAIM_LEASE_SECONDS = 30  # longer than the function's timeout (28 s): an older claim's holder is gone
CLAIM_WAIT_SECONDS = 10.0  # how long a delivery that finds the upload claimed waits for the holder's outcome
CLAIM_POLL_SECONDS = 0.2


def still_processing(label: str, asset_id: str) -> IngestOutcome:
    return IngestOutcome(label, "processing", asset_id, reason="another delivery is still ingesting this upload")


class UploadDeliveries:
    def __init__(self, ledger: UploadLedger, pipeline: IngestPipeline) -> None:
        self.ledger = ledger
        self.pipeline = pipeline

    def receive_arrived(self, entry: UploadEntry) -> UploadEntry | None:
        """A `pending` entry whose file is in uploads/ although S3's notification has not been recorded yet: records
        it `received` (as the notification would) and returns the entry now stored; None while the file is not
        there."""
        stored = self.pipeline.storage.head(entry.key)
        if stored is None:
            return None
        if self.ledger.receive(entry.tenant, upload_id=entry.upload_id, filename=entry.filename or "",
                               key=entry.key, size=stored.size, etag=stored.etag):
            logger.info("upload received before its notification", extra={
                "org": entry.org, "project": entry.project, "upload_id": entry.upload_id, "size": stored.size})
        return self.ledger.get(entry.tenant, entry.upload_id)

    def ingest(self, entry: UploadEntry, *, asset: str | None = None) -> IngestOutcome:
        """Runs one `received` entry's file through the pipeline and records the outcome in the ledger."""
        label = asset or entry.upload_id
        for _ in range(2):  # a second round only if this delivery outlived its lease and another took the claim
            claimed, settled = self._claim_or_settle(entry, label=label)
            if claimed is None:
                assert settled is not None
                return settled
            outcome = self._run_claimed(claimed, label=label)
            if outcome is not None:
                stored, written = self.ledger.settle(entry.tenant, entry.upload_id, self._final(claimed, outcome))
                return outcome if written else outcome_from_ledger(stored, asset=label)
        return still_processing(label, "")

    def _final(self, claimed: UploadEntry, outcome: IngestOutcome) -> UploadOutcome:
        if outcome.status == "processing":
            raise ValueError("'processing' is not a final upload status")
        points = len(outcome.point_ids)
        if outcome.status == "indexed" and not points and outcome.evidence_id:
            # finished from an interrupted run's records, whose point ids are not at hand: the evidence counts them
            evidence = self.pipeline.assets.evidence(claimed.tenant, outcome.evidence_id)
            points = evidence.points if evidence is not None else 0
        return UploadOutcome(outcome.status, outcome.asset_id, outcome.evidence_id, outcome.kind, points,
                             outcome.code, outcome.reason)

    def _claim_or_settle(self, entry: UploadEntry, *,
                         label: str) -> tuple[UploadEntry | None, IngestOutcome | None]:
        """Claims the upload for this delivery, or, while another delivery holds it, waits up to CLAIM_WAIT_SECONDS
        for its final status. Returns (the claimed entry, None) or (None, the outcome to report)."""
        claim_id = uuid.uuid4().hex
        deadline = time.monotonic() + CLAIM_WAIT_SECONDS
        current: UploadEntry | None = entry
        while True:
            if current is not None and current.claimable(int(self.pipeline.clock.now().timestamp())):
                claimed = self.ledger.claim(current, claim_id, lease_seconds=CLAIM_LEASE_SECONDS)
                if claimed is not None:
                    return claimed, None
            current = self.ledger.get(entry.tenant, entry.upload_id)
            if current is not None and current.final:
                return None, outcome_from_ledger(current, asset=label)
            if current is None or current.status != "received":  # the entry expired, or was never reported by S3
                status = current.status if current is not None else "not in the ledger"
                return None, IngestOutcome(label, "rejected", "", reason=f"upload {entry.upload_id!r} is "
                                           f"{status}: upload the file again", code="upload_expired")
            if time.monotonic() >= deadline:
                return None, still_processing(label, current.asset_id or "")
            time.sleep(CLAIM_POLL_SECONDS)

    def _run_claimed(self, claimed: UploadEntry, *, label: str) -> IngestOutcome | None:
        """The pipeline for a claimed upload; None if the claim was lost before the file was moved."""
        pipeline, tenant = self.pipeline, claimed.tenant
        filename, key = claimed.filename or "", claimed.key
        size, etag = int(claimed.size or 0), str(claimed.etag or "")
        if size > pipeline.max_upload_bytes:  # S3 reported it: no need to read a file that is refused anyway
            asset_id = unread_asset_id(key, size, etag)
            if not self.ledger.note_quarantine(claimed, asset_id=asset_id,
                                               quarantine_key=tenant.quarantine_key(asset_id, filename)):
                return None
            return pipeline.reject_unread(
                tenant, asset=label, source=filename, filename=filename, upload_key=key, size=size, etag=etag,
                code="too_large", in_quarantine=pipeline.storage.head(key) is None,
                reason=f"the file is {size:,} bytes; the limit is {pipeline.max_upload_bytes:,} bytes: compress or "
                       "split it")
        try:
            data = pipeline.storage.get(key)
        except Exception as error:
            if not is_missing_object(error):
                raise
            return self._resume_from_quarantine(claimed, label=label) or IngestOutcome(
                label, "rejected", "", reason="the uploaded file is no longer in uploads/ (deleted before it could "
                                              "be ingested): upload it again", code="file_missing")
        asset_id = asset_id_of(data)
        if not self.ledger.note_quarantine(claimed, asset_id=asset_id,
                                           quarantine_key=tenant.quarantine_key(asset_id, filename)):
            return None
        return pipeline.ingest_file(tenant, data, asset=label, source=filename, filename=filename, upload_key=key,
                                    purpose=claimed.purpose)

    def _resume_from_quarantine(self, claimed: UploadEntry, *, label: str) -> IngestOutcome | None:
        """Finishes an upload an earlier delivery moved to quarantine/ and then crashed on; None if no earlier
        delivery got that far (the file was deleted from uploads/ before anyone moved it)."""
        if not claimed.quarantine_key:
            return None
        try:
            data = self.pipeline.storage.get(claimed.quarantine_key)
        except Exception as error:
            if not is_missing_object(error):
                raise
            return self._outcome_from_asset(claimed, label=label)
        logger.info("resuming an interrupted upload from quarantine",
                    extra={"org": claimed.org, "project": claimed.project, "upload_id": claimed.upload_id,
                           "attempts": claimed.attempts})
        filename = claimed.filename or ""
        return self.pipeline.ingest_file(claimed.tenant, data, asset=label, source=filename, filename=filename,
                                         upload_key=claimed.key, in_quarantine=True, purpose=claimed.purpose)

    def _outcome_from_asset(self, claimed: UploadEntry, *, label: str) -> IngestOutcome | None:
        """Neither uploads/ nor quarantine/ holds the file: the earlier delivery finished the asset (promoted, and
        the quarantine copy deleted) and crashed before recording the upload's outcome."""
        asset_id = claimed.asset_id or ""
        record = self.pipeline.assets.get(claimed.tenant, asset_id) if asset_id else None
        if record is None:
            return None
        if record.status == "rejected":
            return IngestOutcome(label, "rejected", asset_id, reason=record.reason, code=record.code)
        if record.status != "admitted":
            return None
        status = "indexed" if record.upload_key == claimed.key else "duplicate"
        return IngestOutcome(label, status, asset_id, record.evidence_id, record.kind)
