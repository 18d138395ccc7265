"""`sgd ingest PATH... --project P`: upload brand files the way a client does, and wait for each result.

Each file: POST /uploads (a presigned POST whose key the server chooses), the multipart POST to S3 with a progress
bar on stderr, then GET /uploads/{id} until the upload is indexed, a duplicate or rejected. One result line per
file goes to stdout; the exit status is 1 when any file was rejected (2 on errors).

It talks to `--url` (any deployment or a running `sgd serve`), else to the `sgd serve` running on the data dir,
else to an in-process local runtime on the data dir (state persisted like `sgd serve`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import mimetypes
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, TextIO

import httpx

FINAL = ("indexed", "duplicate", "rejected")
CHUNK = 64 * 1024
BAR_WIDTH = 28


class Api(Protocol):
    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]: ...


THROTTLE_RETRIES = 6
THROTTLE_FIRST_WAIT_S = 0.1


def request_within_throttle(client: httpx.Client, method: str, path: str, **options: Any) -> httpx.Response:
    """One request, sent again after a growing pause while API Gateway's stage throttle answers 429, as a client of a
    throttled API does; the waits add up to about 6 s, past which the 429 is the answer. The throttle's 429 has no
    Retry-After; SGD's own 429 (an org's rate limit or budget) has one and is returned as it is."""
    wait_s = THROTTLE_FIRST_WAIT_S
    for _ in range(THROTTLE_RETRIES):
        response = client.request(method, path, **options)
        if response.status_code != 429 or "retry-after" in response.headers:
            return response
        time.sleep(wait_s)
        wait_s *= 2
    return client.request(method, path, **options)


class HttpApi:
    def __init__(self, base: str, token: str) -> None:
        self._client = httpx.Client(base_url=base.rstrip("/"), timeout=60,
                                    headers={"authorization": f"Bearer {token}"})

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = request_within_throttle(self._client, method, path, json=body)
        return response.status_code, response.json()


class RuntimeApi:
    """An in-process LocalRuntime's gateway: the same authorizer and handlers as `sgd serve`, without a port."""

    def __init__(self, runtime: Any, token: str) -> None:
        self._runtime, self._token = runtime, token

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        from sgd_local.apigw import HttpRequest

        path, _, query = path.partition("?")
        headers = {"authorization": f"Bearer {self._token}", "content-type": "application/json"}
        response = self._runtime.handle_http(HttpRequest(method, path, query, headers,
                                                         json.dumps(body).encode() if body is not None else b""))
        return response.status, response.json()


class ProgressBar:
    """A plain text bar on stderr, redrawn in place: `name [#####.....]  45%  1.2/2.6 MB  uploading`."""

    def __init__(self, name: str, total: int, stream: TextIO) -> None:
        self.name, self.total, self.stream = name[:28], max(total, 1), stream

    def draw(self, done: int, stage: str) -> None:
        share = min(done / self.total, 1.0)
        filled = round(share * BAR_WIDTH)
        self.stream.write(f"\r  {self.name:<28} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {share:4.0%} "
                          f"{done / 1e6:5.1f}/{self.total / 1e6:.1f} MB  {stage:<24}")
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\r" + " " * (BAR_WIDTH + 90) + "\r")
        self.stream.flush()


def multipart(fields: dict[str, str], filename: str, content_type: str, data: bytes,
              bar: ProgressBar) -> tuple[str, int, Iterator[bytes]]:
    """A multipart/form-data body (fields first, the file last, as S3's POST requires), streamed with progress."""
    boundary = uuid.uuid4().hex
    head = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                    for name, value in fields.items())
    quoted = filename.replace('"', "%22")
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
             f"Content-Type: {content_type}\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body() -> Iterator[bytes]:
        yield head
        for start in range(0, len(data), CHUNK):
            yield data[start:start + CHUNK]
            bar.draw(min(start + CHUNK, len(data)), "uploading")
        yield tail

    return f"multipart/form-data; boundary={boundary}", len(head) + len(data) + len(tail), body()


def ingest_one(api: Api, path: Path, project: str, timeout_s: float, stream: TextIO) -> dict[str, Any]:
    data = path.read_bytes()
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    status, ticket = api.call("POST", "/uploads", {"project_id": project, "filename": path.name,
                                                   "content_type": content_type, "size_bytes": max(len(data), 1)})
    if status != 200:
        return {"status": "error", "reason": ticket.get("error", {}).get("message", f"HTTP {status}")}
    bar = ProgressBar(path.name, len(data), stream)
    bar.draw(0, "uploading")
    content_type_header, length, body = multipart(ticket["fields"], path.name, content_type, data, bar)
    response = httpx.post(ticket["url"], content=body, timeout=120,
                          headers={"content-type": content_type_header, "content-length": str(length)})
    if response.status_code >= 300:
        bar.finish()
        return {"status": "error", "reason": f"S3 refused the upload ({response.status_code}): {response.text[:200]}"}
    def show(waiting: dict[str, Any], seconds: float) -> None:
        bar.draw(len(data), f"{waiting['status']} {seconds:4.1f} s")

    result = wait_for_upload(api, project, ticket["upload_id"], timeout_s=timeout_s, on_wait=show)
    bar.finish()
    return result | {"upload_id": ticket["upload_id"]}


def wait_for_upload(api: Api, project: str, upload_id: str, *, timeout_s: float, interval_s: float = 0.2,
                    on_wait: Callable[[dict[str, Any], float], None] | None = None) -> dict[str, Any]:
    """Follows GET /uploads/{id} to a final status; a failed read is status `error`, running out of time `timeout`.
    on_wait(status, seconds waited) is called between polls."""
    started = time.monotonic()
    result: dict[str, Any] = {"status": "pending"}
    while time.monotonic() - started < timeout_s:
        status, result = api.call("GET", f"/uploads/{upload_id}?project_id={project}")
        if status != 200:
            return {"status": "error", "reason": result.get("error", {}).get("message", f"HTTP {status}")}
        if result["status"] in FINAL:
            return result
        if on_wait is not None:
            on_wait(result, time.monotonic() - started)
        time.sleep(interval_s)
    return result | {"status": "timeout", "reason": f"still {result['status']} after {timeout_s:.0f} s"}


def describe(path: Path, result: dict[str, Any]) -> str:
    status = result["status"]
    if status in ("indexed", "duplicate"):
        return (f"{status:<9} {path.name}  kind={result.get('kind')} evidence_id={result.get('evidence_id')} "
                f"chunks={result.get('points')}")
    return f"{status:<9} {path.name}  {result.get('reason') or ''}".rstrip()


@contextlib.contextmanager
def open_api(args: argparse.Namespace, data_dir: Path) -> Iterator[Api]:
    from sgd_local.runtime import running_aws_endpoint

    if args.url or running_aws_endpoint(data_dir):
        base = args.url or json.loads((data_dir / "runtime.json").read_text())["api"]
        yield HttpApi(base, args.token or _local_token(data_dir, args.org))
        return
    from sgd_local.runtime import LocalRuntime, RuntimeOptions

    print(f"no `sgd serve` running on {data_dir}: starting the local runtime in-process", file=sys.stderr)
    with LocalRuntime(RuntimeOptions(data_dir=data_dir)) as runtime:
        yield RuntimeApi(runtime, args.token or runtime.token(args.org))


def _local_token(data_dir: Path, org: str) -> str:
    from sgd_local.auth import LocalSigningKey
    from sgd_local.runtime import project_root
    from sgd_local.template import read_stack

    authorizer = read_stack(project_root()).authorizer
    if authorizer is None:
        raise SystemExit("template.yaml defines no JWT authorizer")
    return LocalSigningKey(data_dir / "keys").issue(authorizer, org=org)


def ingest_files(args: argparse.Namespace, *, data_dir: Path, stream: TextIO = sys.stderr) -> int:
    paths = [Path(path) for path in args.paths]
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        print(f"no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    outcomes = []
    with open_api(args, data_dir) as api:
        for path in paths:
            result = ingest_one(api, path, args.project, args.timeout, stream)
            outcomes.append(result["status"])
            print(describe(path, result), flush=True)
    if any(status in ("error", "timeout") for status in outcomes):
        return 2
    return 1 if "rejected" in outcomes else 0
