"""The ingest pipeline for one file: quarantine, admission, extraction, indexing, records, promotion.

Every id is a content hash, so repeating any step (a redelivered S3 event, a retried request, the same file
uploaded twice) finds what the first run wrote and adds nothing:

1. the bytes go to quarantine/ first (moved from uploads/, or written; a retry finishing an interrupted upload
   finds them there already, see sgd.ingest.deliveries);
2. `admit` sniffs and checks them; a rejection stays in quarantine with its asset record `rejected` and the reason;
3. `extract` reads the evidence; the JSON goes to the tenant's evidence key;
4. the text is chunked, embedded and upserted (deterministic point ids);
5. the cleaned bytes are promoted to assets/ (fonts also as font.ttf), the evidence, font and asset records are
   written (the asset `admitted` last: it marks completion), and the quarantine copy is deleted.

The same content again is a `duplicate`: no new points, records or objects.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from typing import Any

from sgd.adapters.clock import Clock
from sgd.adapters.storage import ObjectStorage
from sgd.brand.fonts import ProjectFonts
from sgd.contracts.shapes import default_purpose
from sgd.ingest.embeddings import Embedder
from sgd.ingest.indexing import StoreFor, index_text
from sgd.ingest.outcomes import IngestOutcome, asset_id_of, evidence_id_of, unread_asset_id
from sgd.observability import logger
from sgd.repositories.assets import AssetRecord, AssetRecords, EvidenceRecord, FontRecord
from sgd.tenancy import Tenant

SUMMARY_LIMIT = 64  # colours, fonts and palette entries kept on an evidence record


def _evidence_summary(document: dict[str, Any]) -> dict[str, Any]:
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


class IngestPipeline:
    def __init__(self, *, storage: ObjectStorage, assets: AssetRecords, fonts: ProjectFonts, embedder: Embedder,
                 store_for: StoreFor, clock: Clock, max_upload_bytes: int) -> None:
        self.storage = storage
        self.assets = assets
        self.fonts = fonts
        self.embedder = embedder
        self.store_for = store_for
        self.clock = clock
        self.max_upload_bytes = max_upload_bytes

    def ingest_file(self, tenant: Tenant, data: bytes, *, asset: str, source: str, filename: str,
                    upload_key: str | None = None, in_quarantine: bool = False,
                    purpose: str | None = None) -> IngestOutcome:
        """One file through the pipeline. With upload_key, the file is the object at that key under uploads/ and is
        moved (not copied) to quarantine, unless in_quarantine says an interrupted run already moved it there;
        without upload_key the bytes are written there."""
        started = time.perf_counter()
        asset_id = asset_id_of(data)
        quarantine_key = tenant.quarantine_key(asset_id, filename)
        existing = self.assets.get(tenant, asset_id)
        if existing is not None and existing.status in ("admitted", "rejected"):
            leftover = quarantine_key if in_quarantine else upload_key
            if leftover and leftover != existing.key:
                self.storage.delete(leftover)  # the same bytes are already kept under the first asset's keys
            if existing.status == "rejected":
                return IngestOutcome(asset, "rejected", asset_id, reason=existing.reason, code=existing.code)
            if upload_key and existing.upload_key == upload_key:  # this upload's interrupted run promoted it
                return IngestOutcome(asset, "indexed", asset_id, existing.evidence_id, existing.kind)
            return IngestOutcome(asset, "duplicate", asset_id, existing.evidence_id, existing.kind)

        if upload_key and not in_quarantine:
            self.storage.move(upload_key, quarantine_key)
        elif not upload_key:
            self.storage.put(quarantine_key, data, content_type="application/octet-stream")
        record = AssetRecord(org=tenant.org, project=tenant.project, asset_id=asset_id, key=quarantine_key,
                             status="quarantined", created_at=self.clock.now().isoformat(), source=source,
                             filename=filename, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                             upload_key=upload_key)
        self.assets.add(record)

        from sgd.ingest.admission import AdmissionRejected, admit

        try:
            admitted = admit(data, max_bytes=self.max_upload_bytes)
        except AdmissionRejected as rejection:
            return self.reject(record, asset, rejection.code, rejection.reason)

        from sgd.ingest.extract import extract

        try:
            extraction = extract(admitted, source=source)
        except Exception as error:  # a reader failing on a file admission accepted: the file, not the service
            logger.warning("extraction failed", extra={"asset_id": asset_id, "error": type(error).__name__})
            return self.reject(record, asset, "unreadable",
                               f"the {admitted.kind} could not be read ({type(error).__name__}): re-export it and "
                               "upload again")

        evidence_id = evidence_id_of(asset_id)
        # The purpose travels with the evidence: canon derivation reads a file uploaded as a logo as one.
        document = extraction.document | {"evidence_id": evidence_id, "asset_id": asset_id,
                                          "purpose": purpose or default_purpose(admitted.kind)}
        self.storage.put(tenant.evidence_key(evidence_id), json.dumps(document, ensure_ascii=False).encode(),
                         content_type="application/json")
        indexed = index_text(tenant, evidence_id=evidence_id, kind=admitted.kind, source=source,
                             text=document.get("text") or "", embedder=self.embedder, store_for=self.store_for)

        promoted_key = tenant.asset_key(asset_id, filename)
        self.storage.put(promoted_key, admitted.data, content_type=admitted.mime)
        if admitted.kind == "font":
            self._record_font(tenant, asset_id, document, extraction.font_file or admitted.data)
        self.assets.add_evidence(EvidenceRecord(
            org=tenant.org, project=tenant.project, evidence_id=evidence_id, asset_id=asset_id, kind=admitted.kind,
            source=source, evidence_key=tenant.evidence_key(evidence_id), created_at=record.created_at,
            points=len(indexed.point_ids), embedding_model=indexed.model, **_evidence_summary(document)))
        admitted_record = dataclasses.replace(
            record, key=promoted_key, status="admitted", kind=admitted.kind, content_type=admitted.mime,
            format=admitted.extension, size=len(admitted.data), width=admitted.width, height=admitted.height,
            pages=admitted.pages, evidence_id=evidence_id, admitted_at=self.clock.now().isoformat(),
            purpose=purpose or default_purpose(admitted.kind))
        self.assets.save(admitted_record)
        if admitted_record.purpose == "imagery" and admitted.kind == "image":
            self.assets.add_imagery(admitted_record)
        self.storage.delete(quarantine_key)
        logger.info("asset indexed", extra={"asset_id": asset_id, "evidence_id": evidence_id, "kind": admitted.kind,
                                            "points": len(indexed.point_ids),
                                            "pipeline_ms": round((time.perf_counter() - started) * 1000, 1)})
        return IngestOutcome(asset, "indexed", asset_id, evidence_id, admitted.kind, point_ids=indexed.point_ids)

    def reject(self, record: AssetRecord, asset: str, code: str, reason: str) -> IngestOutcome:
        """Leaves the file in quarantine and records why (the bucket's lifecycle rule expires it)."""
        self.assets.save(dataclasses.replace(record, status="rejected", code=code, reason=reason,
                                             rejected_at=self.clock.now().isoformat()))
        logger.info("asset rejected", extra={"asset_id": record.asset_id, "code": code})
        return IngestOutcome(asset, "rejected", record.asset_id, reason=reason, code=code)

    def reject_unread(self, tenant: Tenant, *, asset: str, source: str, filename: str, upload_key: str, size: int,
                      etag: str, code: str, reason: str, in_quarantine: bool = False) -> IngestOutcome:
        """Rejects an upload without reading it (over the size limit: S3 may not enforce the POST's condition).
        Its id hashes what S3 reports about it (key, size, ETag), so a redelivered event finds the same record.
        in_quarantine: an interrupted run already moved it there."""
        asset_id = unread_asset_id(upload_key, size, etag)
        quarantine_key = tenant.quarantine_key(asset_id, filename)
        if not in_quarantine:
            self.storage.move(upload_key, quarantine_key)
        record = AssetRecord(org=tenant.org, project=tenant.project, asset_id=asset_id, key=quarantine_key,
                             status="quarantined", created_at=self.clock.now().isoformat(), source=source,
                             filename=filename, size=size, etag=etag, upload_key=upload_key)
        return self.reject(record, asset, code, reason)

    def _record_font(self, tenant: Tenant, asset_id: str, document: dict[str, Any], font_file: bytes) -> None:
        font = document.get("font") or {}
        family = font.get("family")
        if not family:
            return
        key = tenant.asset_key(asset_id, "font.ttf")
        self.storage.put(key, font_file, content_type="font/ttf")
        self.assets.save_font(FontRecord(org=tenant.org, project=tenant.project, family=family, asset_id=asset_id,
                                         key=key, created_at=self.clock.now().isoformat(), style=font.get("style")))
        self.fonts.refresh(tenant)  # renders read the project's fonts from this summary
