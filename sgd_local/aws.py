"""Embedded AWS: a moto server on loopback (the real S3/DynamoDB/SQS wire protocol), provisioned from
template.yaml, with state saved to disk so it survives restarts.

The server runs in its own process: moto's state is global to a process, so two runtimes in one process
(tests, the demo beside a test) would otherwise share buckets and queues, and moto's work would compete
with the gateway for this process's GIL.

moto keeps state in memory. While serving, the moto process appends each successful write to
.sgd/aws/journal.log (sgd_local.journal): nothing on the request path scans or rewrites state, and reads
cost nothing. At start the runtime loads the last full snapshot (made through the AWS API itself: scan,
list, get), replays the journal over it, and folds both into a new snapshot; a clean stop does the same. A
snapshot is written to .sgd/aws/state.next and swapped in whole, so a crash mid-fold never leaves a snapshot
that holds part of the journal.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote_plus, unquote_plus

import boto3
from botocore.config import Config

from sgd_local.journal import CONTROL_PREFIX, journal_path
from sgd_local.template import LOCAL_REGION, Stack, local_queue_url, queue_arn

LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def aws_environment(endpoint: str) -> dict[str, str]:
    """What a process needs to talk to the embedded AWS with boto3."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
        "AWS_REGION": LOCAL_REGION,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
    }


class LocalAws:
    def __init__(self, stack: Stack, data_dir: Path, *, endpoint: str | None = None, port: int = 0,
                 journal: bool = True):
        self.stack = stack
        self.snapshot_dir = data_dir / "aws"
        self.state_dir = self.snapshot_dir / "state"  # the last complete snapshot (see snapshot())
        self._staging_dir = self.snapshot_dir / "state.next"
        self._previous_state_dir = self.snapshot_dir / "state.previous"
        self.journal = journal_path(data_dir) if journal and not endpoint else None
        self._log_path = data_dir / "logs" / "moto.log"
        self._server: subprocess.Popen[bytes] | None = None
        self._port = port
        self.endpoint = endpoint or ""
        self._index_cache: dict[str, Any] | None = None  # the last saved S3 index: key -> blob, etag, head
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()

    # lifecycle -------------------------------------------------------------------------------------
    def start(self, timeout_s: float = 30.0) -> LocalAws:
        if self.endpoint:
            return self
        port = self._port or _free_port()
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        journal = ["--journal", str(self.journal)] if self.journal else []
        with self._log_path.open("ab") as log_file:
            self._server = subprocess.Popen(
                [sys.executable, "-m", "sgd_local.moto_main", *journal, "-H", "127.0.0.1", "-p", str(port)],
                stdout=log_file, stderr=subprocess.STDOUT, env=os.environ | {"PYTHONUNBUFFERED": "1"},
            )
        self.endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json", timeout=1):  # noqa: S310
                    return self
            except OSError:
                if self._server.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the embedded moto server did not start; see {self._log_path}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self._server is not None:
            self._server.terminate()
            try:
                self._server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._server.kill()
            self._server = None

    def client(self, service: str) -> Any:
        """One client per service, shared by threads (boto3 clients are thread-safe; creating them is not)."""
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = boto3.client(
                    service, endpoint_url=self.endpoint, region_name=LOCAL_REGION,
                    config=Config(retries={"max_attempts": 2}), **LOCAL_CREDENTIALS)
            return self._clients[service]

    # provisioning ----------------------------------------------------------------------------------
    def provision(self) -> None:
        """Creates the template's tables and bucket (idempotent), then replays the saved state."""
        dynamodb, s3 = self.client("dynamodb"), self.client("s3")
        existing = set(dynamodb.list_tables()["TableNames"])
        for table in self.stack.tables.values():
            if table.logical_id not in existing:
                dynamodb.create_table(**table.create_request)
                if table.ttl_attribute:
                    dynamodb.update_time_to_live(TableName=table.logical_id, TimeToLiveSpecification={
                        "Enabled": True, "AttributeName": table.ttl_attribute})
        if self.stack.bucket_name not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=self.stack.bucket_name)
            s3.put_public_access_block(Bucket=self.stack.bucket_name, PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True})
        self.provision_queues()
        self.finish_interrupted_fold()
        self.restore()
        if self.journal is not None:
            if self._journal_control("replay")["replayed"]:
                self.snapshot()  # fold the replayed writes into the snapshot...
            self._journal_control("resume?truncate=1")  # ...so the journal starts empty
            self._drop_previous_state()

    def save(self) -> None:
        """At a clean stop: fold the journal into a full snapshot (nothing to do when nothing was written)."""
        if self.journal is None:
            self.snapshot()
        elif self._journal_control("status")["appended"]:
            self._journal_control("pause")
            self.snapshot()
            self._journal_control("resume?truncate=1")
        self._drop_previous_state()

    def finish_interrupted_fold(self) -> None:
        """Before restoring: a fold stopped half-way (a crash, a kill) is finished or forgotten, so the journal
        is never replayed over a snapshot that already holds it (an ADD would count twice). A previous state
        still present means the swap began: the new snapshot is complete and holds the journal, which is
        emptied. A staging folder alone is an unfinished snapshot: dropped, and the journal replays as usual."""
        previous, staging = self._previous_state_dir, self._staging_dir
        if previous.exists():
            if not self.state_dir.exists():
                staging.rename(self.state_dir)
            if self.journal is not None and self.journal.exists():
                self.journal.write_bytes(b"")
            self._drop_previous_state()
        shutil.rmtree(staging, ignore_errors=True)

    def _drop_previous_state(self) -> None:
        shutil.rmtree(self._previous_state_dir, ignore_errors=True)
        if self.state_dir.exists():  # then the layout before snapshots were swapped in whole is superseded
            for legacy in ("dynamodb", "s3"):
                shutil.rmtree(self.snapshot_dir / legacy, ignore_errors=True)

    def _journal_control(self, action: str) -> dict[str, Any]:
        request = urllib.request.Request(f"{self.endpoint}{CONTROL_PREFIX}{action}", method="POST", data=b"")  # noqa: S310
        with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 (loopback)
            answer: dict[str, Any] = json.loads(response.read())
            return answer

    def provision_queues(self) -> dict[str, str]:
        """Creates the template's SQS queues, dead-letter targets first; returns {logical id: queue URL}."""
        sqs = self.client("sqs")
        urls: dict[str, str] = {}
        ordered = sorted(self.stack.queues.values(), key=lambda queue: queue.dead_letter_queue is not None)
        for queue in ordered:
            urls[queue.logical_id] = sqs.create_queue(QueueName=queue.name, Attributes=queue.attributes)["QueueUrl"]
        return urls

    def event_sources(self) -> list[EventSource]:
        """The template's SQS event sources, polled like Lambda's event source mappings."""
        sources = []
        for trigger in self.stack.sqs_triggers:
            queue = self.stack.queues[trigger.queue]
            sources.append(EventSource("sqs", local_queue_url(self.endpoint, queue.name), trigger.function,
                                       trigger.batch_size, trigger.report_batch_item_failures, queue_arn(queue.name)))
        return sources

    def notification_queues(self) -> list[EventSource]:
        """Routes the template's S3 triggers to one SQS queue each; returns them as event sources.

        Configured after restore(), so that replaying saved objects does not notify again.
        """
        sqs, s3 = self.client("sqs"), self.client("s3")
        queues: list[EventSource] = []
        configurations = []
        for trigger in self.stack.s3_triggers:
            url = sqs.create_queue(QueueName=f"s3-{trigger.function}-{trigger.event_name}",
                                   Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            configuration: dict[str, Any] = {"Id": f"{trigger.function}-{trigger.event_name}", "QueueArn": arn,
                                             "Events": trigger.events}
            if trigger.filter_rules:
                configuration["Filter"] = {"Key": {"FilterRules": trigger.filter_rules}}
            configurations.append(configuration)
            queues.append(EventSource("s3", url, trigger.function))
        if configurations:
            s3.put_bucket_notification_configuration(Bucket=self.stack.bucket_name, NotificationConfiguration={
                "QueueConfigurations": configurations})
        return queues

    # persistence -----------------------------------------------------------------------------------
    def snapshot(self) -> None:
        """Writes every table item and every object to a new snapshot folder, then swaps it in whole for the
        state folder (the old one is kept as state.previous until the journal is emptied: see
        finish_interrupted_fold). An object unchanged since the last snapshot (same etag) is hard-linked, not
        fetched and written again."""
        dynamodb, s3 = self.client("dynamodb"), self.client("s3")
        staging = self._staging_dir
        shutil.rmtree(staging, ignore_errors=True)
        tables_dir = staging / "dynamodb"
        objects_dir = staging / "s3"
        tables_dir.mkdir(parents=True, exist_ok=True)
        objects_dir.mkdir(parents=True, exist_ok=True)
        saved_dir = self._saved_dir()
        for name in self.stack.tables:
            items = [item for page in dynamodb.get_paginator("scan").paginate(TableName=name)
                     for item in page["Items"]]
            _atomic_write(tables_dir / f"{name}.json", json.dumps(items, default=_json_default))
        previous = self._previous_index()
        index: dict[str, dict[str, Any]] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.stack.bucket_name):
            for summary in page.get("Contents", []):
                key, etag = summary["Key"], summary["ETag"].strip('"')
                blob = _blob_name(key)
                saved = previous.get(key)
                if saved and saved["etag"] == etag and (saved_dir / "s3" / blob).exists():
                    _link_or_copy(saved_dir / "s3" / blob, objects_dir / blob)
                    index[key] = saved
                    continue
                try:
                    response = s3.get_object(Bucket=self.stack.bucket_name, Key=key)
                except s3.exceptions.NoSuchKey:
                    continue  # moved or deleted since the listing (ingest promotes uploads): not state any more
                _atomic_write_bytes(objects_dir / blob, response["Body"].read())
                index[key] = {"blob": blob, "etag": etag, "head": {
                    "ContentType": response.get("ContentType", "binary/octet-stream"),
                    "Metadata": response.get("Metadata", {})}}
        _atomic_write(objects_dir / "index.json", json.dumps(index))
        previous_state = self._previous_state_dir
        shutil.rmtree(previous_state, ignore_errors=True)
        if self.state_dir.exists():
            self.state_dir.rename(previous_state)
        staging.rename(self.state_dir)
        self._index_cache = index

    def _saved_dir(self) -> Path:
        """Where the last snapshot is: the state folder, or the layout before it (aws/dynamodb, aws/s3)."""
        return self.state_dir if self.state_dir.exists() else self.snapshot_dir

    def _previous_index(self) -> dict[str, Any]:
        if self._index_cache is None:
            path = self._saved_dir() / "s3" / "index.json"
            index: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
            self._index_cache = index
            return index
        return self._index_cache

    def restore(self) -> None:
        dynamodb, s3 = self.client("dynamodb"), self.client("s3")
        saved_dir = self._saved_dir()
        tables_dir = saved_dir / "dynamodb"
        for name in self.stack.tables:
            path = tables_dir / f"{name}.json"
            if not path.exists():
                continue
            items = json.loads(path.read_text(), object_hook=_json_object_hook)
            for start in range(0, len(items), 25):
                batch = [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]
                dynamodb.batch_write_item(RequestItems={name: batch})
        for key, entry in self._previous_index().items():
            blob = saved_dir / "s3" / entry["blob"]
            if blob.exists():
                head = entry.get("head", {})
                s3.put_object(Bucket=self.stack.bucket_name, Key=key, Body=blob.read_bytes(),
                              ContentType=head.get("ContentType", "binary/octet-stream"),
                              Metadata=head.get("Metadata", {}))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _blob_name(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"__b64__": base64.b64encode(value).decode()}
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"cannot save {type(value).__name__}")


def _json_object_hook(value: dict[str, Any]) -> Any:
    return base64.b64decode(value["__b64__"]) if set(value) == {"__b64__"} else value


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links
        shutil.copyfile(source, target)


def _atomic_write(path: Path, text: str) -> None:
    _atomic_write_bytes(path, text.encode())


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


@dataclass(frozen=True)
class EventSource:
    """A queue the runtime polls for one function: S3 notifications (kind s3) or an SQS event source (kind sqs)."""

    kind: Literal["s3", "sqs"]
    queue_url: str
    function: str
    batch_size: int = 10
    report_batch_item_failures: bool = False
    queue_arn: str = ""


Invoke = Callable[[str, dict[str, Any]], tuple[bool, Any]]


class EventSourcePump:
    """Delivers queued events to their functions as Lambda's pollers do, one thread per source.

    s3: S3's asynchronous invocation: 3 attempts, then a line in dead-letters.jsonl.
    sqs: Lambda's SQS event source mapping: batches of BatchSize in a real SQS event; succeeded messages are
    deleted, failed ones (the whole batch on a function error, else the batchItemFailures it reported) become
    visible again after a short backoff, and SQS itself (the queue's RedrivePolicy) moves a message to the
    dead-letter queue once it was received maxReceiveCount times. Locally the backoff is `attempts` seconds (at
    most SQS_MAX_BACKOFF_S), not the queue's visibility timeout, so retries are observable in seconds.
    """

    MAX_ATTEMPTS = 3  # Lambda's asynchronous invocation: the first try and two retries
    SQS_MAX_BACKOFF_S = 2  # SQS visibility is whole seconds; locally a failed message is back within 1-2 s
    POLL_WAIT_S = 1  # a stop waits for at most one poll

    def __init__(self, aws: LocalAws, sources: list[EventSource], invoke: Invoke, dead_letters: Path):
        self.aws, self.sources, self.invoke = aws, sources, invoke
        self.dead_letters = dead_letters
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(source,), name=f"events-{source.function}",
                                          daemon=True) for source in sources]
        self.recent_events: deque[dict[str, Any]] = deque(maxlen=50)  # S3 events delivered, for inspection
        self.delivered = 0  # S3 events delivered
        self.sqs_batches = 0  # SQS batches handed to a function

    def start(self) -> EventSourcePump:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _run(self, source: EventSource) -> None:
        sqs = self.aws.client("sqs")
        while not self._stop.is_set():
            try:
                # Long polling, as Lambda's pollers do: the call returns as soon as a message is visible (moto
                # wakes the waiting request), else after POLL_WAIT_S. Polling every 0.1 s instead cost the
                # gateway and moto ~10 % of a core per source while idle, on the cores the functions use.
                messages = sqs.receive_message(
                    QueueUrl=source.queue_url, MaxNumberOfMessages=min(10, source.batch_size),
                    WaitTimeSeconds=self.POLL_WAIT_S, AttributeNames=["All"],
                    MessageAttributeNames=["All"]).get("Messages", [])
            except Exception:
                return
            if not messages:
                continue
            if source.kind == "s3":
                for message in messages:
                    self._deliver_s3(sqs, source, message)
            else:
                self._deliver_sqs(sqs, source, messages)

    def _deliver_sqs(self, sqs: Any, source: EventSource, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [_sqs_record(message, source.queue_arn) for message in messages]}
        self.sqs_batches += 1
        ok, payload = self.invoke(source.function, event)
        if not ok:
            failed = {message["MessageId"] for message in messages}
        elif source.report_batch_item_failures and isinstance(payload, dict):
            items = payload.get("batchItemFailures") or []
            reported = {str((item or {}).get("itemIdentifier") or "") for item in items}
            ids = {message["MessageId"] for message in messages}
            failed = ids if reported - ids else reported  # an unknown identifier fails the whole batch, as in AWS
        else:
            failed = set()
        for message in messages:
            if message["MessageId"] in failed:
                attempts = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
                sqs.change_message_visibility(QueueUrl=source.queue_url, ReceiptHandle=message["ReceiptHandle"],
                                              VisibilityTimeout=min(attempts, self.SQS_MAX_BACKOFF_S))
            else:
                sqs.delete_message(QueueUrl=source.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _deliver_s3(self, sqs: Any, source: EventSource, message: dict[str, Any]) -> None:
        url, function = source.queue_url, source.function
        body = json.loads(message["Body"])
        if "Records" not in body:  # s3:TestEvent goes to queues, never to Lambda
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            return
        event = {"Records": [self._as_delivered(record) for record in body["Records"]]}
        self.recent_events.append(event)
        attempts = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        if self.invoke(function, event)[0]:
            self.delivered += 1
        elif attempts < self.MAX_ATTEMPTS:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"],
                                          VisibilityTimeout=attempts)  # back off before the retry
            return
        else:
            with self.dead_letters.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps({"function": function, "event": event}) + "\n")
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def _as_delivered(self, record: dict[str, Any]) -> dict[str, Any]:
        """Completes moto's record to the shape S3 sends Lambda: '/' unescaped, spaces as '+', a sequencer."""
        s3 = record["s3"]
        key = quote_plus(unquote_plus(s3["object"]["key"]), safe="/")
        event_time = record["eventTime"]
        if not event_time.endswith("Z"):
            event_time = event_time[:23] + "Z"
        return record | {
            "eventTime": event_time,
            "userIdentity": {"principalId": "AWS:LOCAL"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {"x-amz-request-id": "LOCAL", "x-amz-id-2": "LOCAL"},
            "s3": s3 | {
                "bucket": s3["bucket"] | {"ownerIdentity": {"principalId": "LOCAL"}},
                "object": s3["object"] | {"key": key, "sequencer": f"{time.time_ns():018X}"},
            },
        }


def _sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """One record of the event Lambda's SQS poller sends a function."""
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {name: attributes[name] for name in (
            "ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp")
            if name in attributes},
        "messageAttributes": {
            name: {"stringValue": value.get("StringValue"), "binaryValue": value.get("BinaryValue"),
                   "stringListValues": [], "binaryListValues": [], "dataType": value.get("DataType", "String")}
            for name, value in (message.get("MessageAttributes") or {}).items()},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": LOCAL_REGION,
    }
