"""The embedded AWS matches template.yaml, delivers uploads to the ingest function, and survives restarts."""

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sgd.repositories.uploads import UploadEntry, UploadLedger
from sgd.tenancy import Tenant

from bench.support.seeds import runtime_adapters
from sgd_local.template import read_stack
from tests.conftest import ROOT, load_event

pytestmark = pytest.mark.integration


def wait_for(predicate: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def ledger_entry(runtime: Any, project: str, upload_id: str) -> UploadEntry | None:
    adapters = runtime_adapters(runtime)
    return UploadLedger(adapters.assets_table, adapters.clock).get(Tenant("acme", project), upload_id)


def ticket(runtime: Any, key: str) -> None:
    """What POST /uploads records for a key (only ticketed uploads are ingested)."""
    _, org, project, upload_id, filename = key.split("/", 4)
    adapters = runtime_adapters(runtime)
    UploadLedger(adapters.assets_table, adapters.clock).issue_ticket(
        Tenant(org, project), upload_id=upload_id, filename=filename, key=key, content_type="application/pdf",
        max_bytes=1024)


def test_tables_and_bucket_match_the_template(runtime: Any) -> None:
    dynamodb, s3 = runtime.aws.client("dynamodb"), runtime.aws.client("s3")
    stack = read_stack(ROOT)
    assert set(dynamodb.list_tables()["TableNames"]) == set(stack.tables)
    for name, spec in stack.tables.items():
        described = dynamodb.describe_table(TableName=name)["Table"]
        assert described["KeySchema"] == spec.create_request["KeySchema"]
        assert {a["AttributeName"]: a["AttributeType"] for a in described["AttributeDefinitions"]} == {
            a["AttributeName"]: a["AttributeType"] for a in spec.create_request["AttributeDefinitions"]}
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert ttl["TimeToLiveStatus"] == "ENABLED"
        assert ttl["AttributeName"] == spec.ttl_attribute
    assert stack.bucket_name == "sgd-local-assets-123456789012-us-east-1"
    block = s3.get_public_access_block(Bucket=stack.bucket_name)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    notification = s3.get_bucket_notification_configuration(Bucket=stack.bucket_name)
    (queue,) = notification["QueueConfigurations"]
    assert queue["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "uploads/"}]


def key_paths(value: Any, prefix: str = "") -> set[str]:
    if not isinstance(value, dict):
        return {prefix}
    return {path for key, inner in value.items() for path in key_paths(inner, f"{prefix}/{key}")}


def test_put_under_uploads_reaches_ingest_with_a_decoded_key(runtime: Any) -> None:
    s3 = runtime.aws.client("s3")
    ticket(runtime, "uploads/acme/spring/up-put-1/Brand Book+v2 été.pdf")
    s3.put_object(Bucket=runtime.stack.bucket_name, Key="uploads/acme/spring/up-put-1/Brand Book+v2 été.pdf",
                  Body=b"%PDF-1.7 test")
    item = wait_for(lambda: (entry := ledger_entry(runtime, "spring", "up-put-1")) and entry.size and entry)
    (record,) = next(e for e in runtime.recent_notifications if "up-put-1" in json.dumps(e))["Records"]
    # The delivered record has every field of a real S3 notification, with S3's key encoding.
    (reference,) = load_event("ingest/s3_put_upload.json")["Records"]
    assert key_paths(record) == key_paths(reference)
    assert record["s3"]["object"]["key"] == "uploads/acme/spring/up-put-1/Brand+Book%2Bv2+%C3%A9t%C3%A9.pdf"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["eventTime"].endswith("Z")
    assert item.filename == "Brand Book+v2 été.pdf"
    assert item.key == "uploads/acme/spring/up-put-1/Brand Book+v2 été.pdf"
    assert item.size == 13
    assert len(item.sequencer) >= 16


def test_presigned_post_upload_reaches_ingest(runtime: Any) -> None:
    s3 = runtime.aws.client("s3")
    ticket(runtime, "uploads/acme/spring/up-post-1/logo.png")
    post = s3.generate_presigned_post(runtime.stack.bucket_name, "uploads/acme/spring/up-post-1/logo.png",
                                      Fields={"Content-Type": "image/png"},
                                      Conditions=[{"Content-Type": "image/png"}])
    response = httpx.post(post["url"], data=post["fields"], files={"file": ("logo.png", b"\x89PNG....", "image/png")})
    assert response.status_code == 204
    item = wait_for(lambda: (entry := ledger_entry(runtime, "spring", "up-post-1")) and entry.size and entry)
    assert item.filename == "logo.png"
    assert item.status != "pending"


def test_objects_outside_uploads_do_not_trigger_ingest(runtime: Any) -> None:
    s3 = runtime.aws.client("s3")
    ticket(runtime, "uploads/acme/spring/up-marker/marker.txt")
    s3.put_object(Bucket=runtime.stack.bucket_name, Key="assets/acme/spring/up-x/file.pdf", Body=b"x")
    s3.put_object(Bucket=runtime.stack.bucket_name, Key="uploads/acme/spring/up-marker/marker.txt", Body=b"m")
    wait_for(lambda: (entry := ledger_entry(runtime, "spring", "up-marker")) and entry.status != "pending")
    # The marker was put after the other object, so its notification would have been delivered by now.
    delivered_keys = [record["s3"]["object"]["key"] for event in runtime.recent_notifications
                      for record in event["Records"]]
    assert any("up-marker" in key for key in delivered_keys)
    assert not any(key.startswith("assets/") for key in delivered_keys)
    assert ledger_entry(runtime, "spring", "up-x") is None


def test_state_survives_a_restart(tmp_path: Path) -> None:
    from sgd_local.runtime import LocalRuntime, RuntimeOptions

    options = RuntimeOptions(data_dir=tmp_path, throttle=False)
    with LocalRuntime(options, root=ROOT) as first:
        bucket = first.stack.bucket_name
        first.aws.client("s3").put_object(Bucket=bucket, Key="notes/acme/keep/a.txt", Body=b"kept")
        ticket(first, "uploads/acme/keep/up-1/a.txt")
        first.aws.client("s3").put_object(Bucket=bucket, Key="uploads/acme/keep/up-1/a.txt", Body=b"brand notes")

        def finished() -> UploadEntry | None:
            entry = ledger_entry(first, "keep", "up-1")
            return entry if entry is not None and entry.final else None

        status = wait_for(finished).status
        first.aws.client("dynamodb").put_item(TableName="CacheTable", Item={"pk": {"S": "plan#1"},
                                                                           "blob": {"B": b"\x00\x01"}})
        endpoint = first.aws.endpoint
    with LocalRuntime(RuntimeOptions(data_dir=tmp_path, throttle=False), root=ROOT) as second:
        assert second.aws.endpoint != endpoint  # a new moto server, filled from the saved state...
        with pytest.raises(httpx.TransportError):
            httpx.get(endpoint, timeout=2)  # ...because the first one is gone
        body = second.aws.client("s3").get_object(Bucket=bucket, Key="notes/acme/keep/a.txt")["Body"]
        assert body.read() == b"kept"
        restored = ledger_entry(second, "keep", "up-1")
        assert restored is not None
        assert restored.status == status
        cached = second.aws.client("dynamodb").get_item(TableName="CacheTable", Key={"pk": {"S": "plan#1"}})
        assert cached["Item"]["blob"]["B"] == b"\x00\x01"
        time.sleep(1)
        assert second.notifications_delivered == 0  # restoring objects does not re-notify


def journal_status(runtime: Any) -> dict[str, Any]:
    return runtime.aws._journal_control("status")


def test_reads_never_write_and_writes_append_one_record_each(tmp_path: Path) -> None:
    from sgd_local.runtime import LocalRuntime, RuntimeOptions

    with LocalRuntime(RuntimeOptions(data_dir=tmp_path, throttle=False), root=ROOT) as runtime:
        s3, dynamodb, bucket = runtime.aws.client("s3"), runtime.aws.client("dynamodb"), runtime.stack.bucket_name
        assert journal_status(runtime) == {"appended": 0, "recording": True, "bytes": 0}
        s3.put_object(Bucket=bucket, Key="notes/acme/j/a.txt", Body=b"one")
        dynamodb.put_item(TableName="CacheTable", Item={"pk": {"S": "plan#j"}, "n": {"N": "1"}})
        dynamodb.update_item(TableName="CacheTable", Key={"pk": {"S": "plan#j"}},
                             UpdateExpression="ADD n :one", ExpressionAttributeValues={":one": {"N": "1"}})
        with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
            dynamodb.put_item(TableName="CacheTable", Item={"pk": {"S": "plan#j"}},
                              ConditionExpression="attribute_not_exists(pk)")
        after_writes = journal_status(runtime)
        assert after_writes["appended"] == 3  # the refused conditional write changed nothing: not journalled
        for _ in range(5):
            s3.get_object(Bucket=bucket, Key="notes/acme/j/a.txt")
            s3.list_objects_v2(Bucket=bucket)
            dynamodb.get_item(TableName="CacheTable", Key={"pk": {"S": "plan#j"}})
            dynamodb.scan(TableName="CacheTable")
        assert journal_status(runtime) == after_writes


def test_a_crash_loses_no_write_the_journal_replays_them(tmp_path: Path) -> None:
    from sgd_local.runtime import LocalRuntime, RuntimeOptions

    first = LocalRuntime(RuntimeOptions(data_dir=tmp_path, throttle=False), root=ROOT).start()
    bucket = first.stack.bucket_name
    try:
        s3, dynamodb = first.aws.client("s3"), first.aws.client("dynamodb")
        s3.put_object(Bucket=bucket, Key="notes/acme/crash/a.txt", Body=b"first", ContentType="text/plain",
                      Metadata={"origin": "test"})
        s3.put_object(Bucket=bucket, Key="notes/acme/crash/a.txt", Body=b"second", ContentType="text/plain")
        post = s3.generate_presigned_post(bucket, "notes/acme/crash/posted.png", Fields={"Content-Type": "image/png"},
                                          Conditions=[{"Content-Type": "image/png"}])
        posted = httpx.post(post["url"], data=post["fields"], files={"file": ("p.png", b"\x89PNG..", "image/png")})
        assert posted.status_code == 204
        s3.put_object(Bucket=bucket, Key="notes/acme/crash/gone.txt", Body=b"x")
        s3.delete_object(Bucket=bucket, Key="notes/acme/crash/gone.txt")
        dynamodb.put_item(TableName="CacheTable", Item={"pk": {"S": "count#1"}, "n": {"N": "1"}})
        for _ in range(3):
            dynamodb.update_item(TableName="CacheTable", Key={"pk": {"S": "count#1"}},
                                 UpdateExpression="ADD n :one", ExpressionAttributeValues={":one": {"N": "1"}})
    finally:
        for pool in first.pools.values():
            pool.close()
        first._pump.stop() if first._pump else None
        assert first.aws._server is not None
        first.aws._server.kill()  # no clean stop: nothing but the journal has these writes
        first.aws._server.wait()
    assert not (tmp_path / "aws" / "state" / "dynamodb" / "CacheTable.json").exists()
    with LocalRuntime(RuntimeOptions(data_dir=tmp_path, throttle=False), root=ROOT) as second:
        s3, dynamodb = second.aws.client("s3"), second.aws.client("dynamodb")
        restored = s3.get_object(Bucket=bucket, Key="notes/acme/crash/a.txt")
        assert restored["Body"].read() == b"second"
        assert restored["ContentType"] == "text/plain"
        with pytest.raises(s3.exceptions.NoSuchKey):
            s3.get_object(Bucket=bucket, Key="notes/acme/crash/gone.txt")
        assert s3.get_object(Bucket=bucket, Key="notes/acme/crash/posted.png")["Body"].read() == b"\x89PNG.."
        item = dynamodb.get_item(TableName="CacheTable", Key={"pk": {"S": "count#1"}})["Item"]
        assert item["n"] == {"N": "4"}
        assert journal_status(second)["bytes"] == 0  # folded into the snapshot at start
    # ...and that snapshot alone brings it back (nothing was written by the second runtime)
    with LocalRuntime(RuntimeOptions(data_dir=tmp_path, throttle=False), root=ROOT) as third:
        item = third.aws.client("dynamodb").get_item(TableName="CacheTable", Key={"pk": {"S": "count#1"}})["Item"]
        assert item["n"] == {"N": "4"}


def test_connections_are_kept_alive_across_requests_chunked_bodies_and_heads(runtime: Any) -> None:
    """As AWS does: one connection serves many calls (moto's own server closes each), whatever the body framing."""
    import http.client
    from urllib.parse import urlsplit

    s3 = runtime.aws.client("s3")
    bucket = read_stack(ROOT).bucket_name
    s3.put_object(Bucket=bucket, Key="keepalive/object.txt", Body=b"kept alive")
    put = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "keepalive/chunked.txt"})
    get = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "keepalive/object.txt"})
    endpoint = urlsplit(runtime.aws.endpoint)
    connection = http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=10)
    connection.connect()
    socket_before = connection.sock

    def exchange(method: str, url: str, **options: Any) -> http.client.HTTPResponse:
        target = urlsplit(url)
        connection.request(method, f"{target.path}?{target.query}", **options)
        response = connection.getresponse()
        response.read()
        return response

    chunked = exchange("PUT", put, body=iter([b"one ", b"chunk ", b"at a time"]), encode_chunked=True,
                       headers={"Transfer-Encoding": "chunked"})
    assert chunked.status == 200
    head = exchange("HEAD", get)
    assert (head.status, head.headers["Content-Length"]) == (200, "10")
    for _ in range(3):
        assert exchange("GET", get).status == 200
    assert connection.sock is socket_before  # five requests, one connection: nothing asked to close it
    assert s3.get_object(Bucket=bucket, Key="keepalive/chunked.txt")["Body"].read() == b"one chunk at a time"
    connection.close()


@pytest.mark.parametrize("stopped", ["after_the_swap", "between_the_renames", "while_staging"])
def test_a_fold_interrupted_anywhere_never_replays_the_journal_twice(tmp_path: Path, stopped: str) -> None:
    """A fold writes a new snapshot, swaps it in and empties the journal; a crash at any point of it must leave
    every ADD counted once: the journal is replayed only over a snapshot that does not already hold it."""
    import shutil

    from sgd_local.aws import LocalAws

    stack = read_stack(ROOT)
    key = {"pk": {"S": "fold#1"}}
    seeded = LocalAws(stack, tmp_path).start()  # a saved state to start from
    seeded.provision()
    seeded.client("dynamodb").put_item(TableName="CacheTable", Item=key | {"n": {"N": "1"}})
    seeded.save()
    seeded.stop()
    first = LocalAws(stack, tmp_path).start()
    try:
        first.provision()
        for _ in range(3):
            first.client("dynamodb").update_item(TableName="CacheTable", Key=key, UpdateExpression="ADD n :one",
                                                 ExpressionAttributeValues={":one": {"N": "1"}})
        if stopped == "while_staging":  # a half-written snapshot that already holds the journal's counts
            staging = tmp_path / "aws" / "state.next" / "dynamodb"
            staging.mkdir(parents=True)
            saved = (tmp_path / "aws" / "state" / "dynamodb" / "CacheTable.json").read_text()
            (staging / "CacheTable.json").write_text(saved.replace('"N": "1"', '"N": "4"'))
        else:
            first._journal_control("pause")
            first.snapshot()  # swapped in; the journal is not emptied yet
            if stopped == "between_the_renames":
                shutil.move(tmp_path / "aws" / "state", tmp_path / "aws" / "state.next")
    finally:
        assert first._server is not None
        first._server.kill()  # no clean stop
        first._server.wait()
    assert (tmp_path / "aws" / "journal.log").stat().st_size > 0  # the journal still holds the three ADDs
    second = LocalAws(stack, tmp_path).start()
    try:
        second.provision()
        item = second.client("dynamodb").get_item(TableName="CacheTable", Key=key)["Item"]
        assert item["n"] == {"N": "4"}
    finally:
        second.stop()
    assert sorted(path.name for path in (tmp_path / "aws").iterdir() if path.is_dir()) == ["state"]


def test_conditional_counters_stay_exact_when_one_expression_serves_many_items(runtime: Any) -> None:
    """The embedded AWS parses an UpdateExpression once and reuses the tree: items updated with the same expression
    (and different values) each keep their own count, and a condition still refuses what does not fit."""
    from sgd.repositories.rate_limits import RateLimitCounters

    counters = RateLimitCounters(runtime_adapters(runtime).usage_table)
    for _ in range(3):
        counters.admit("acme", "reads", 600, below=100, expires_at=2000)
        counters.admit("globex", "reads", 600, below=100, expires_at=2000, amount=5)
    assert counters.admit("acme", "reads", 600, below=10, expires_at=2000, amount=6) == 9
    assert counters.admit("globex", "reads", 600, below=16, expires_at=2000, amount=2) is None  # 15 + 2 > 16
    assert (counters.count("acme", "reads", 600), counters.count("globex", "reads", 600)) == (9, 15)
    assert counters.count("acme", "render", 600) == 0


def test_a_query_reads_its_own_partition_exactly_in_order_and_in_pages(runtime: Any) -> None:
    """The embedded AWS queries one partition instead of sorting the whole table (sgd_local.moto_main): the answer
    is still DynamoDB's: only the partition's items that match, in sort-key order either way, page by page."""
    dynamodb = runtime.aws.client("dynamodb")
    table = "UsageTable"
    for partition in ("query#a", "query#b", "query#c"):
        for index in range(12):
            for prefix in ("item#", "other#"):
                dynamodb.put_item(TableName=table, Item={"pk": {"S": partition}, "sk": {"S": f"{prefix}{index:03d}"},
                                                         "n": {"N": str(index)}})

    def pages(partition: str, *, forward: bool, limit: int) -> list[list[str]]:
        request: dict[str, Any] = {
            "TableName": table, "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": "item#"}},
            "ScanIndexForward": forward, "Limit": limit}
        found = []
        while True:
            response = dynamodb.query(**request)
            found.append([item["sk"]["S"] for item in response["Items"]])
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    expected = [f"item#{index:03d}" for index in range(12)]
    assert [key for page in pages("query#b", forward=True, limit=5) for key in page] == expected
    newest_first = pages("query#b", forward=False, limit=5)
    assert [len(page) for page in newest_first[:3]] == [5, 5, 2]
    assert [key for page in newest_first for key in page] == expected[::-1]
    assert pages("query#none", forward=True, limit=5) == [[]]
    everything = dynamodb.query(TableName=table, KeyConditionExpression="pk = :pk",
                                ExpressionAttributeValues={":pk": {"S": "query#c"}})
    assert everything["Count"] == 24
    assert {item["pk"]["S"] for item in everything["Items"]} == {"query#c"}
