"""The S3 path end to end through the real Lambda path: POST /uploads -> presigned POST to moto -> S3 notification
-> IngestFunction -> pipeline -> ledger, records, S3 objects and Qdrant points; then canon derivation against the
example kits' truth. Also rejections (kept in quarantine with a reason), duplicates and redelivered events."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sgd.adapters.clock import FixedClock
from sgd.ingest.deliveries import CLAIM_LEASE_SECONDS
from sgd.repositories.assets import AssetRecord, AssetRecords
from sgd.repositories.uploads import UploadLedger, UploadOutcome
from sgd.tenancy import Tenant

from bench.support.seeds import runtime_adapters
from tests.conftest import ROOT

pytestmark = pytest.mark.integration
KITS = ROOT / "examples" / "brands"
TERMINAL = ("indexed", "duplicate", "rejected")


# -- helpers, shared with the other ingest and canon test modules -------------------------------------------------
def upload(api: Any, project: str, filename: str, data: bytes, content_type: str = "application/octet-stream",
           ) -> str:
    """POST /uploads, then the presigned POST to (moto's) S3; returns the upload id."""
    ticket = api.request("POST", "/uploads", {"project_id": project, "filename": filename,
                                              "content_type": content_type, "size_bytes": max(len(data), 1)})
    assert ticket.status == 200, ticket.body
    body = ticket.json()
    response = httpx.post(body["url"], data=body["fields"], files={"file": (filename, data, content_type)},
                          timeout=30)
    assert response.status_code == 204, response.text
    return body["upload_id"]


def wait_for_upload(api: Any, project: str, upload_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = api.request("GET", f"/uploads/{upload_id}?project_id={project}")
        assert response.status == 200, response.body
        status = response.json()
        if status["status"] in TERMINAL:
            return status
        assert time.monotonic() < deadline, f"upload {upload_id} still {status['status']}"
        time.sleep(0.05)


def ingest_path(api: Any, project: str, path: Path, content_type: str) -> dict[str, Any]:
    return wait_for_upload(api, project, upload(api, project, path.name, path.read_bytes(), content_type))


def asset_records(runtime: Any) -> AssetRecords:
    return AssetRecords(runtime_adapters(runtime).assets_table)


def asset_record(runtime: Any, org: str, project: str, asset_id: str) -> dict[str, Any] | None:
    record = asset_records(runtime).get(Tenant(org, project), asset_id)
    return dataclasses.asdict(record) if record is not None else None


def evidence_record(runtime: Any, org: str, project: str, evidence_id: str) -> dict[str, Any] | None:
    record = asset_records(runtime).evidence(Tenant(org, project), evidence_id)
    return dataclasses.asdict(record) if record is not None else None


def object_keys(runtime: Any, prefix: str) -> list[str]:
    s3 = runtime.aws.client("s3")
    listed = s3.list_objects_v2(Bucket=runtime.stack.bucket_name, Prefix=prefix)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def points_of(runtime: Any, org: str, project: str) -> int:
    from sgd.adapters.vectors import QdrantVectorStore

    store = QdrantVectorStore(path=str(runtime.options.data_dir / "qdrant"))
    return store.count(Tenant(org, project))


def search(runtime: Any, org: str, project: str, query: str) -> list[Any]:
    from sgd.adapters.vectors import QdrantVectorStore
    from sgd.ingest.embeddings import SparseLexicalEmbedder
    from sgd.ingest.indexing import search_evidence

    store = QdrantVectorStore(path=str(runtime.options.data_dir / "qdrant"))
    return search_evidence(Tenant(org, project), query, embedder=SparseLexicalEmbedder(),
                           store_for=lambda _size: store)


# -- the kit, end to end -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kit", ["helio-energy", "northwind-coffee"])
def test_a_kit_uploaded_through_s3_derives_its_truth(api: Any, runtime: Any, kit: str) -> None:
    project = f"kit-{kit}"
    pdf = ingest_path(api, project, KITS / kit / "guidelines.pdf", "application/pdf")
    logo = ingest_path(api, project, KITS / kit / "logo.png", "image/png")
    assert (pdf["status"], pdf["kind"]) == ("indexed", "pdf"), pdf
    assert (logo["status"], logo["kind"]) == ("indexed", "logo"), logo
    assert pdf["points"] >= 1
    assert logo["points"] == 0

    # Records, evidence JSON and the promoted files exist; quarantine and uploads are empty again.
    evidence = evidence_record(runtime, "acme", project, pdf["evidence_id"])
    assert evidence is not None
    assert evidence["asset_id"] == pdf["asset_id"]
    assert evidence["kind"] == "pdf"
    document = json.loads(runtime.aws.client("s3").get_object(
        Bucket=runtime.stack.bucket_name, Key=evidence["evidence_key"])["Body"].read())
    assert document["evidence_id"] == pdf["evidence_id"]
    assert document["text"]
    asset = asset_record(runtime, "acme", project, logo["asset_id"])
    assert asset is not None
    assert asset["status"] == "admitted"
    assert asset["key"].startswith("assets/acme/")
    assert object_keys(runtime, f"assets/acme/{project}/{logo['asset_id']}/") == [asset["key"]]
    assert object_keys(runtime, f"quarantine/acme/{project}/") == []
    assert object_keys(runtime, f"uploads/acme/{project}/") == []

    response = api.request("POST", "/canon/derive", {"project_id": project, "evidence_ids": []})
    assert response.status == 200, response.body
    derived = response.json()
    truth = json.loads((KITS / kit / "truth.json").read_text())
    canon = derived["canon"]
    assert [c.upper() for c in canon["palette_hex"]] == [c.upper() for c in truth["palette_hex"]]
    assert sorted(c.upper() for c in canon["forbidden_hex"]) == sorted(c.upper() for c in truth["forbidden_hex"])
    assert canon["fonts"] == truth["fonts"]
    assert canon["voice"]["tone"] == truth["voice"]["tone"]
    assert canon["logo_safe_zone_pct"] == truth["logo_safe_zone_pct"]
    assert canon["logo_asset_id"] == logo["asset_id"]
    assert derived["audit"]["model_route"] == ["local/extractor"]
    assert derived["audit"]["cost_usd"] == 0
    assert derived["created_by"]
    assert derived["source"] == "derived"
    supported = {entry["field"] for entry in derived["provenance"] if pdf["evidence_id"] in entry["evidence_ids"]}
    assert {"palette_hex", "fonts"} <= {name.split(".")[0] for name in supported}


def test_search_finds_the_guideline_text_only_within_its_tenant(api: Any, runtime: Any) -> None:
    path = KITS / "helio-energy" / "guidelines.pdf"
    ingest_path(api, "search", path, "application/pdf")
    hits = search(runtime, "acme", "search", "tone of voice")
    assert hits
    assert all(hit.payload["org"] == "acme" and hit.payload["project"] == "search" for hit in hits)
    assert "tone" in hits[0].payload["text"].lower()
    assert search(runtime, "globex", "search", "tone of voice") == []
    assert search(runtime, "acme", "other-project", "tone of voice") == []


# -- duplicates and redelivery -------------------------------------------------------------------------------------
def test_the_same_content_again_is_a_duplicate_with_nothing_new(api: Any, runtime: Any) -> None:
    project = "dupes"
    data = b"Brand voice: calm and exact. Primary colour #123456, secondary #654321. Typeface: Inter.\n"
    first = wait_for_upload(api, project, upload(api, project, "voice.txt", data, "text/plain"))
    points = points_of(runtime, "acme", project)
    records = object_keys(runtime, f"assets/acme/{project}/")
    second = wait_for_upload(api, project, upload(api, project, "voice-copy.txt", data, "text/plain"))
    assert first["status"] == "indexed"
    assert second["status"] == "duplicate"
    assert (second["asset_id"], second["evidence_id"]) == (first["asset_id"], first["evidence_id"])
    assert points_of(runtime, "acme", project) == points == first["points"]
    assert object_keys(runtime, f"assets/acme/{project}/") == records
    assert object_keys(runtime, f"uploads/acme/{project}/") == []


def test_a_redelivered_event_changes_nothing(api: Any, runtime: Any) -> None:
    project = "redelivery"
    upload_id = upload(api, project, "rules.md", b"# Rules\n\nOur tone of voice is bold.\n", "text/markdown")
    status = wait_for_upload(api, project, upload_id)
    event = next(e for e in runtime.recent_notifications if upload_id in json.dumps(e))
    points = points_of(runtime, "acme", project)
    tenant = Tenant("acme", project)
    entry = upload_ledger(runtime).get(tenant, upload_id)
    invocation = runtime.invoke("IngestFunction", event)  # S3 delivers at least once
    assert invocation.ok, invocation.payload
    assert invocation.payload["ingested"] == []
    assert upload_ledger(runtime).get(tenant, upload_id) == entry
    assert points_of(runtime, "acme", project) == points
    assert wait_for_upload(api, project, upload_id) == status


# -- rejections ----------------------------------------------------------------------------------------------------
REJECTED_FILES = {
    "tool.exe": (b"MZ\x90\x00\x03" + b"\x00" * 58 + b"\x40\x00\x00\x00" + b"PE\x00\x00" + b"\x00" * 200, "executable"),
    "kit.zip": (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 100, "archive"),
    "logo.svg": (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', "svg"),
}


def _polyglot() -> bytes:
    """A real PNG (the example logo) with a zip archive appended: valid as both."""
    return (KITS / "helio-energy" / "logo.png").read_bytes() + b"PK\x03\x04" + b"\x00" * 26 + b"evil.sh" + b"#!"


@pytest.mark.parametrize("filename", [*REJECTED_FILES, "logo-polyglot.png"])
def test_rejected_files_stay_in_quarantine_with_their_reason(api: Any, runtime: Any, filename: str) -> None:
    project = "rejects"
    data = _polyglot() if filename == "logo-polyglot.png" else REJECTED_FILES[filename][0]
    status = wait_for_upload(api, project, upload(api, project, filename, data))
    assert status["status"] == "rejected", status
    assert status["reason"]
    assert status["code"] == ("polyglot" if filename == "logo-polyglot.png" else REJECTED_FILES[filename][1])
    assert status["evidence_id"] is None
    record = asset_record(runtime, "acme", project, status["asset_id"])
    assert record is not None
    assert record["status"] == "rejected"
    assert record["reason"] == status["reason"]
    assert object_keys(runtime, f"quarantine/acme/{project}/{status['asset_id']}/") == [record["key"]]
    assert object_keys(runtime, f"assets/acme/{project}/{status['asset_id']}/") == []


def test_a_file_over_the_limit_is_rejected_unread(api: Any, runtime: Any) -> None:
    """S3 refuses a presigned POST over its content-length-range; a file that reaches the ticket's key anyway (a
    signed write) is still refused by the pipeline's own size check, without reading it."""
    from sgd.settings import Settings

    limit = Settings.model_fields["max_upload_bytes"].default
    project = "too-large"
    ticket = api.request("POST", "/uploads", {"project_id": project, "filename": "huge.pdf",
                                              "content_type": "application/pdf", "size_bytes": limit}).json()
    data = b"%PDF-1.7\n" + b"0" * limit  # one byte per digit over the limit
    refused = httpx.post(ticket["url"], data=ticket["fields"], files={"file": ("huge.pdf", data, "application/pdf")},
                         timeout=60)
    assert refused.status_code == 400
    assert "EntityTooLarge" in refused.text
    runtime.aws.client("s3").put_object(Bucket=runtime.stack.bucket_name, Key=ticket["key"], Body=data)
    status = wait_for_upload(api, project, ticket["upload_id"])
    assert status["status"] == "rejected"
    assert "limit" in status["reason"]
    assert len(object_keys(runtime, f"quarantine/acme/{project}/{status['asset_id']}/")) == 1


def test_an_upload_ticket_pins_the_key_and_starts_pending(api: Any) -> None:
    ticket = api.request("POST", "/uploads", {"project_id": "tickets", "filename": "Brand Book.pdf",
                                              "content_type": "application/pdf", "size_bytes": 1000}).json()
    assert ticket["key"] == f"uploads/acme/tickets/{ticket['upload_id']}/Brand Book.pdf"
    assert ticket["fields"]["key"] == ticket["key"]
    assert ticket["max_bytes"] == 1000
    status = api.request("GET", f"/uploads/{ticket['upload_id']}?project_id=tickets").json()
    assert status["status"] == "pending"
    assert status["filename"] == "Brand Book.pdf"
    too_big = api.request("POST", "/uploads", {"project_id": "tickets", "filename": "x.pdf",
                                               "content_type": "application/pdf", "size_bytes": 10**9})
    assert too_big.status == 422
    assert too_big.json()["error"]["code"] == "too_large"


# -- one delivery at a time: claims, crash recovery, final statuses ----------------------------------------------
def upload_ledger(runtime: Any, clock: Any = None) -> UploadLedger:
    from sgd.adapters.clock import SystemClock

    return UploadLedger(runtime_adapters(runtime).assets_table, clock or SystemClock())


def mark_received(runtime: Any, tenant: Tenant, ticket: dict[str, Any], size: int, clock: Any = None) -> None:
    """S3's report that the ticket's file arrived (without the file: what the test does next decides where it is)."""
    assert upload_ledger(runtime, clock).receive(tenant, upload_id=ticket["upload_id"], filename=ticket["key"].rsplit(
        "/", 1)[1], key=ticket["key"], size=size, etag="")


def upload_event(runtime: Any, key: str, size: int) -> dict[str, Any]:
    """The ObjectCreated notification S3 sends for key (as the pump delivers it: URL-encoded, spaces as '+')."""
    from urllib.parse import quote_plus

    from tests.conftest import load_event

    event = load_event("ingest/s3_put_upload.json")
    record = event["Records"][0]
    record["s3"]["bucket"]["name"] = runtime.stack.bucket_name
    record["s3"]["object"] |= {"key": quote_plus(key, safe="/"), "size": size, "eTag": "", "sequencer": "01"}
    return event


def unique_text(label: str) -> bytes:
    return (f"# {label}\n\nOur tone of voice is calm and exact. Primary colour #0B3D91. Typeface: Inter.\n"
            f"Reference {time.time_ns()}.\n").encode()


@pytest.mark.parametrize("asset_recorded", [True, False], ids=["asset-quarantined", "before-asset-record"])
def test_a_retry_after_a_crash_past_the_move_finishes_from_quarantine(api: Any, runtime: Any,
                                                                      asset_recorded: bool) -> None:
    """The first delivery claimed the upload, noted its quarantine key, moved the file and died (a Qdrant
    timeout, say) before recording anything: uploads/ is empty. S3's retry must finish the job, not reject it."""
    project = f"crash-{int(asset_recorded)}"
    tenant = Tenant("acme", project)
    data = unique_text("Crash recovery")
    ticket = api.request("POST", "/uploads", {"project_id": project, "filename": "voice.md",
                                              "content_type": "text/markdown", "size_bytes": len(data)}).json()
    upload_id, key = ticket["upload_id"], ticket["key"]
    asset_id = hashlib.sha256(data).hexdigest()[:32]
    quarantine_key = tenant.quarantine_key(asset_id, "voice.md")
    runtime.aws.client("s3").put_object(Bucket=runtime.stack.bucket_name, Key=quarantine_key, Body=data)
    # A minute ago, a delivery claimed the upload, noted where the file goes, moved it, and died.
    crashed = FixedClock(datetime.now(UTC) - timedelta(seconds=60))
    ledger = upload_ledger(runtime, crashed)
    entry = ledger.get(tenant, upload_id)
    assert entry is not None
    assert entry.status == "pending"
    mark_received(runtime, tenant, ticket, len(data), crashed)
    received = ledger.get(tenant, upload_id)
    assert received is not None
    claimed = ledger.claim(received, "crashed-delivery", lease_seconds=CLAIM_LEASE_SECONDS)
    assert claimed is not None
    assert ledger.note_quarantine(claimed, asset_id=asset_id, quarantine_key=quarantine_key)
    if asset_recorded:
        asset_records(runtime).add(AssetRecord(
            org="acme", project=project, asset_id=asset_id, key=quarantine_key, status="quarantined",
            created_at=crashed.now().isoformat(), source="voice.md", filename="voice.md", size=len(data),
            sha256=hashlib.sha256(data).hexdigest(), upload_key=key))

    invocation = runtime.invoke("IngestFunction", upload_event(runtime, key, len(data)))  # Lambda's retry
    assert invocation.ok, invocation.payload
    assert [(item["status"], item["asset_id"]) for item in invocation.payload["ingested"]] == [("indexed", asset_id)]
    status = api.request("GET", f"/uploads/{upload_id}?project_id={project}").json()
    assert (status["status"], status["asset_id"], status["reason"]) == ("indexed", asset_id, None)
    assert status["points"] >= 1
    assert points_of(runtime, "acme", project) == status["points"]
    record = asset_record(runtime, "acme", project, asset_id)
    assert record is not None
    assert record["status"] == "admitted"
    assert object_keys(runtime, f"assets/acme/{project}/{asset_id}/") == [record["key"]]
    assert object_keys(runtime, f"quarantine/acme/{project}/") == []
    final = ledger.get(tenant, upload_id)
    assert final is not None
    assert (final.claim_id, final.claim_expires_at, final.quarantine_key) == (None, None, None)


def test_an_upload_whose_file_vanished_before_any_move_is_rejected(api: Any, runtime: Any) -> None:
    """Without a noted quarantine key, an empty uploads/ really means the file was deleted: upload it again."""
    project = "vanished"
    ticket = api.request("POST", "/uploads", {"project_id": project, "filename": "gone.txt",
                                              "content_type": "text/plain", "size_bytes": 10}).json()
    mark_received(runtime, Tenant("acme", project), ticket, 10)
    invocation = runtime.invoke("IngestFunction", upload_event(runtime, ticket["key"], 10))
    assert invocation.ok, invocation.payload
    status = wait_for_upload(api, project, ticket["upload_id"])
    assert status["status"] == "rejected"
    assert "upload it again" in status["reason"]


def test_post_ingest_racing_the_s3_event_never_reports_a_false_rejection(api: Any, runtime: Any) -> None:
    """The documented flow: upload, then at once POST /ingest the id while S3's notification is being handled
    (here also a redelivery of it). Exactly one delivery runs the pipeline; every other one reports its outcome."""
    from concurrent.futures import ThreadPoolExecutor

    project = "race"
    data = unique_text("Race")
    upload_id = upload(api, project, "race.md", data, "text/markdown")
    key = f"uploads/acme/{project}/{upload_id}/race.md"
    with ThreadPoolExecutor(max_workers=4) as pool:
        posts = [pool.submit(api.request, "POST", "/ingest", {"project_id": project, "assets": [upload_id]})
                 for _ in range(2)]
        redelivered = pool.submit(runtime.invoke, "IngestFunction", upload_event(runtime, key, len(data)))
        responses = [future.result() for future in posts]
        invocation = redelivered.result()
    for response in responses:
        assert response.status == 200, response.body
        body = response.json()
        assert body["rejected"] == [], body
        assert [(item["asset"], item["status"]) for item in body["items"]] == [(upload_id, "indexed")]
    assert invocation.ok, invocation.payload
    assert all(item["status"] == "indexed" for item in invocation.payload["ingested"])
    status = wait_for_upload(api, project, upload_id)
    assert status["status"] == "indexed", status
    assert status["points"] >= 1
    time.sleep(0.5)  # a late loser would land its write now
    assert api.request("GET", f"/uploads/{upload_id}?project_id={project}").json() == status
    assert object_keys(runtime, f"uploads/acme/{project}/") == []
    assert object_keys(runtime, f"quarantine/acme/{project}/") == []


@pytest.mark.parametrize("final", ["indexed", "duplicate", "rejected"])
def test_a_final_status_is_never_overwritten(api: Any, runtime: Any, final: str) -> None:
    project = f"final-{final}"
    ticket = api.request("POST", "/uploads", {"project_id": project, "filename": "a.txt",
                                              "content_type": "text/plain", "size_bytes": 10}).json()
    tenant, clock = Tenant("acme", project), FixedClock(datetime.now(UTC))
    ledger = upload_ledger(runtime, clock)
    mark_received(runtime, tenant, ticket, 10)
    first = UploadOutcome(final, "a" * 32, "e" * 32 if final != "rejected" else None,  # type: ignore[arg-type]
                          "text" if final != "rejected" else None, reason="refused" if final == "rejected" else None)
    stored, written = ledger.settle(tenant, ticket["upload_id"], first)
    assert written
    assert stored.status == final
    for other in ("indexed", "duplicate", "rejected"):
        late = UploadOutcome(other, "b" * 32, reason="a late delivery's view")  # type: ignore[arg-type]
        kept, written = ledger.settle(tenant, ticket["upload_id"], late)
        assert not written
        assert (kept.status, kept.asset_id, kept.reason) == (final, "a" * 32, first.reason)
    clock.advance(3600)  # however old, a finished upload is never claimed again
    assert ledger.claim(kept, "late", lease_seconds=CLAIM_LEASE_SECONDS) is None
    status = api.request("GET", f"/uploads/{ticket['upload_id']}?project_id={project}").json()
    assert (status["status"], status["asset_id"]) == (final, "a" * 32)


def test_a_claim_is_exclusive_until_it_lapses(api: Any, runtime: Any) -> None:
    project = "claims"
    ticket = api.request("POST", "/uploads", {"project_id": project, "filename": "a.txt",
                                              "content_type": "text/plain", "size_bytes": 10}).json()
    tenant, clock = Tenant("acme", project), FixedClock(datetime.now(UTC))
    ledger = upload_ledger(runtime, clock)
    pending = ledger.get(tenant, ticket["upload_id"])
    assert pending is not None
    assert ledger.claim(pending, "first", lease_seconds=CLAIM_LEASE_SECONDS) is None  # pending: no file yet
    mark_received(runtime, tenant, ticket, 10)
    received = ledger.get(tenant, ticket["upload_id"])
    assert received is not None
    claimed = ledger.claim(received, "first", lease_seconds=CLAIM_LEASE_SECONDS)
    assert claimed is not None
    assert (claimed.claim_id, claimed.attempts) == ("first", 1)
    clock.advance(CLAIM_LEASE_SECONDS - 1)
    assert ledger.claim(received, "second", lease_seconds=CLAIM_LEASE_SECONDS) is None
    clock.advance(1)  # the holder outlived any function timeout: it is gone
    retaken = ledger.claim(received, "second", lease_seconds=CLAIM_LEASE_SECONDS)
    assert retaken is not None
    assert (retaken.claim_id, retaken.attempts, retaken.status) == ("second", 2, "received")
