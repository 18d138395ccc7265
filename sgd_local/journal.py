"""A journal of the embedded AWS's writes: what makes saving state cost nothing on the request path.

The moto server appends each successful item or object write (DynamoDB PutItem, UpdateItem, DeleteItem,
BatchWriteItem, TransactWriteItems; S3 object PUT, DELETE, presigned POST and multi-object delete) to one
append-only file as it answers it: one write() per request, no fsync, no scan. Reads never touch it. At the
next start the runtime loads the last full snapshot and replays the journal through moto's own request
handling, in the order the writes were answered, then folds both into a new snapshot and empties the journal.
Saving therefore grows with the writes, not with the data.

Bucket- and table-level calls (create, notification configuration) are not journalled: the runtime makes
them anew from template.yaml at every start. Multipart uploads are not journalled either (their upload id is
random, so a replay could not match the parts); nothing in SGD uses them, and the snapshot taken at a clean
stop still holds their objects.

Record format: one JSON header line {"method", "path", "query", "headers", "length"} then `length` body bytes.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

# Set (in the WSGI environ, which no HTTP client can reach) on replayed writes: the S3 guard (sgd_local.s3_guard)
# lets them through, since their presigned policies were checked when they were first made and have expired since.
REPLAY_KEY = "sgd.journal_replay"

DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
CONTROL_PREFIX = "/_sgd/journal/"  # the runtime's control calls to the moto process (never journalled)
_S3_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/s3/aws4_request")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def is_journalled_write(environ: dict[str, Any]) -> bool:
    """Whether this request, if it succeeds, changes an item or an object (and so belongs in the journal)."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        service, _, operation = target.partition(".")
        return service.startswith("DynamoDB") and operation in DYNAMODB_WRITES
    query = environ.get("QUERY_STRING", "")
    if "uploads" in query or "uploadId" in query:
        return False  # multipart: see the module docstring
    segments = [part for part in environ.get("PATH_INFO", "/").split("/") if part]
    content_type = environ.get("CONTENT_TYPE", "")
    if method == "POST" and len(segments) == 1 and content_type.startswith("multipart/form-data"):
        return True  # a presigned POST (its credential is in the form, not in a header)
    if not _S3_SCOPE.search(environ.get("HTTP_AUTHORIZATION", "")):
        return False
    if len(segments) >= 2:
        return method in ("PUT", "DELETE", "POST")
    return method == "POST" and "delete" in query  # DeleteObjects


class Journal:
    """The append-only file and the switch that pauses it (while the runtime restores a snapshot)."""

    def __init__(self, path: Path):
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._file: io.BufferedWriter | None = None
        self.appended = 0

    @property
    def recording(self) -> bool:
        return self._file is not None

    def resume(self, *, truncate: bool) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
            self._file = self.path.open("wb" if truncate else "ab")

    def pause(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def append(self, environ: dict[str, Any], body: bytes) -> None:
        headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
                   if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        header = json.dumps({"method": environ["REQUEST_METHOD"], "path": environ.get("PATH_INFO", "/"),
                             "query": environ.get("QUERY_STRING", ""), "headers": headers,
                             "length": len(body)})
        with self._lock:
            if self._file is None:
                return
            self._file.write(header.encode() + b"\n" + body)
            self._file.flush()  # into the OS's page cache: survives a crash of the runtime, not of the machine
            self.appended += 1

    def records(self) -> Iterator[tuple[dict[str, Any], bytes]]:
        """The journalled requests in order; a torn last record (a crash mid-write) ends the replay."""
        if not self.path.exists():
            return
        with self.path.open("rb") as handle:
            while header := handle.readline():
                try:
                    record = json.loads(header)
                except ValueError:
                    return
                body = handle.read(record["length"])
                if len(body) != record["length"]:
                    return
                yield record, body


class JournallingApp:
    """WSGI middleware around moto's server: journals successful writes, answers the runtime's control calls."""

    def __init__(self, app: WsgiApp, journal: Journal):
        self.app = app
        self.journal = journal

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self._control(path[len(CONTROL_PREFIX):], environ.get("QUERY_STRING", ""), start_response)
        if not self.journal.recording or not is_journalled_write(environ):
            return self.app(environ, start_response)
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        status: list[int] = []

        def capture(status_line: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(int(status_line.split(" ", 1)[0]))
            return start_response(status_line, headers, exc_info) if exc_info else start_response(status_line, headers)

        result = self.app(environ, capture)
        if status and 200 <= status[0] < 300:
            self.journal.append(environ, body)
        return result

    def _control(self, action: str, query: str, start_response: StartResponse) -> Iterable[bytes]:
        if action == "replay":
            answer: dict[str, Any] = {"replayed": self.replay()}
        elif action == "resume":
            self.journal.resume(truncate="truncate" in query)
            answer = {"recording": True}
        elif action == "pause":
            self.journal.pause()
            answer = {"recording": False}
        else:
            answer = {"appended": self.journal.appended, "recording": self.journal.recording,
                      "bytes": self.journal.path.stat().st_size if self.journal.path.exists() else 0}
        body = json.dumps(answer).encode()
        start_response("200 OK", [("content-type", "application/json"), ("content-length", str(len(body)))])
        return [body]

    def replay(self) -> int:
        """Sends every journalled request through moto's request handling again (not through this journal)."""
        from werkzeug.test import EnvironBuilder

        count = 0
        for record, body in self.journal.records():
            headers = dict(record["headers"])
            content_type = headers.pop("content-type", None)
            builder = EnvironBuilder(method=record["method"], path=record["path"], query_string=record["query"],
                                     headers=headers, data=body, content_type=content_type)
            try:
                environ = builder.get_environ()
            finally:
                builder.close()
            environ[REPLAY_KEY] = True  # already admitted once: the S3 guard lets it through
            for _ in self.app(environ, lambda *_args: None):
                pass
            count += 1
        return count


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated") or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return stream.read()
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return stream.read(length) if length else b""


def journal_path(data_dir: Path) -> Path:
    return data_dir / "aws" / "journal.log"

