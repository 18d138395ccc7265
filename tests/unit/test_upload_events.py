import copy
from datetime import UTC, datetime
from typing import Any

from sgd.adapters.clock import FixedClock
from sgd.adapters.memory import MemoryStorage, MemoryTable
from sgd.ingest.s3_events import parse_upload_event
from sgd.ingest.service import IngestService
from sgd.repositories.uploads import UploadLedger
from sgd.tenancy import Tenant

from tests.conftest import load_event


def with_key(key: str, event_name: str = "ObjectCreated:Put") -> dict[str, Any]:
    event = copy.deepcopy(load_event("ingest/s3_put_upload.json"))
    event["Records"][0]["s3"]["object"]["key"] = key
    event["Records"][0]["eventName"] = event_name
    return event


def test_sample_event_key_is_decoded() -> None:
    received, skipped = parse_upload_event(load_event("ingest/s3_put_upload.json"))
    assert skipped == []
    upload = received[0]
    assert upload.key == "uploads/acme/brand-kit/up-demo-1/Brand Guidelines (2026) été.pdf"
    assert upload.upload.filename == "Brand Guidelines (2026) été.pdf"
    assert (upload.tenant.org, upload.tenant.project, upload.upload.upload_id) == ("acme", "brand-kit", "up-demo-1")
    assert upload.size == 48213
    assert upload.sequencer == "0055AED6DCD90281E5"


def test_plus_is_a_space_and_percent_2b_a_plus() -> None:
    received, _ = parse_upload_event(with_key("uploads/o/p/u/a+b%2Bc%2Fd.png"))
    assert received[0].upload.filename == "a b+c/d.png"


def test_foreign_keys_and_events_are_skipped_with_a_reason() -> None:
    _, skipped = parse_upload_event(with_key("assets/o/p/u/x.png"))
    assert skipped[0].reason == "key is not under uploads/"
    _, skipped = parse_upload_event(with_key("uploads/o/p/u/x.png", "ObjectRemoved:Delete"))
    assert "not an upload" in skipped[0].reason


def test_redelivered_notification_is_recorded_once() -> None:
    clock = FixedClock(datetime(2026, 11, 27, 12, tzinfo=UTC))
    ledger = UploadLedger(MemoryTable("AssetsTable"), clock)

    def no_pipeline() -> Any:
        raise AssertionError("recording uploads runs no pipeline")

    service = IngestService(ledger=ledger, storage=MemoryStorage(), clock=clock, deliveries=no_pipeline,
                            fetch_url=no_pipeline, max_upload_bytes=1024, presign_ttl_seconds=60)
    event = load_event("ingest/s3_put_upload.json")
    tenant = Tenant("acme", "brand-kit")
    ledger.issue_ticket(tenant, upload_id="up-demo-1", filename="Brand Guidelines (2026) été.pdf",
                        key=tenant.upload_key("up-demo-1", "Brand Guidelines (2026) été.pdf"),
                        content_type="application/pdf", max_bytes=48213)
    first = service.record_uploads(event)
    second = service.record_uploads(event)
    assert len(first["recorded"]) == 1
    assert first["repeated"] == []
    assert second["recorded"] == []
    assert second["repeated"] == first["recorded"]
    entry = ledger.get(Tenant("acme", "brand-kit"), "up-demo-1")
    assert entry is not None
    assert entry.status == "received"
    assert entry.expires_at > clock.now().timestamp()


def test_a_file_nobody_was_given_a_ticket_for_is_never_recorded() -> None:
    clock = FixedClock(datetime(2026, 11, 27, 12, tzinfo=UTC))
    ledger = UploadLedger(MemoryTable("AssetsTable"), clock)
    service = IngestService(ledger=ledger, storage=MemoryStorage(), clock=clock,
                            deliveries=lambda: None,  # type: ignore[arg-type, return-value]
                            fetch_url=lambda url: ("", b""), max_upload_bytes=1024, presign_ttl_seconds=60)
    tenant = Tenant("acme", "brand-kit")
    ledger.issue_ticket(tenant, upload_id="up-demo-1", filename="logo.png",
                        key=tenant.upload_key("up-demo-1", "logo.png"), content_type="image/png", max_bytes=1024)
    # A ticket's upload id with another file name (a key the ticket did not name), and an id nobody issued.
    for key in ("uploads/acme/brand-kit/up-demo-1/other.pdf", "uploads/acme/brand-kit/up-forged/x.pdf"):
        summary = service.on_upload_event(with_key(key))
        assert summary["recorded"] == []
        assert summary["unticketed"] == [key]
    entry = ledger.get(tenant, "up-demo-1")
    assert entry is not None
    assert entry.status == "pending"
    assert ledger.get(tenant, "up-forged") is None
