import copy
from datetime import UTC, datetime
from typing import Any

from sgd.adapters.clock import FixedClock
from sgd.ingest.uploads import parse_upload_event, record_uploads

from tests.conftest import load_event


class MemoryTable:
    """An in-memory ItemTable with DynamoDB's conditional-put semantics."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def put(self, item: dict[str, Any], *, only_if_absent: bool = False) -> bool:
        key = (item["pk"], item["sk"])
        if only_if_absent and key in self.items:
            return False
        self.items[key] = item
        return True

    def get(self, pk: str, sk: str | None = None) -> dict[str, Any] | None:
        return self.items.get((pk, sk))

    def query(self, pk: str, *, sk_prefix: str = "", newest_first: bool = False,
              limit: int | None = None) -> list[dict[str, Any]]:
        found = sorted((k, v) for k, v in self.items.items() if k[0] == pk and k[1].startswith(sk_prefix))
        values = [v for _, v in (reversed(found) if newest_first else found)]
        return values[:limit] if limit else values


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
    ledger = MemoryTable()
    clock = FixedClock(datetime(2026, 11, 27, 12, tzinfo=UTC))
    event = load_event("ingest/s3_put_upload.json")
    first = record_uploads(event, ledger, clock)
    second = record_uploads(event, ledger, clock)
    assert len(first["recorded"]) == 1
    assert first["repeated"] == []
    assert second["recorded"] == []
    assert second["repeated"] == first["recorded"]
    item = ledger.get("org#acme#project#brand-kit", "upload#up-demo-1")
    assert item is not None
    assert item["status"] == "received"
    assert item["expires_at"] > clock.now().timestamp()
