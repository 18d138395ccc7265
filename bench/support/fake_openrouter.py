"""A loopback fake of the OpenRouter chat-completions API, for tests and benchmarks only.

    with FakeOpenRouter() as fake:
        fake.script("openai/gpt-4o", Reply.status(429, retry_after="1"), Reply.json({"ok": True}))
        client = httpx.Client(base_url=fake.base_url)
        ...

Replies are scripted per model and consumed in order; once a model's queue is empty the default reply
(echo unless changed) answers. A dynamic handler set with `respond_with` overrides both.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

API_PREFIX = "/api/v1"
COMPLETIONS_PATH = f"{API_PREFIX}/chat/completions"

_generation_ids = itertools.count(1)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _reason(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def _error_body(code: int, message: str, metadata: dict[str, Any] | None = None) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message or _reason(code)}
    if metadata is not None:
        error["metadata"] = metadata
    return _dumps({"error": error})


def _usage(prompt_tokens: int, completion_tokens: int, cost: float | None) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    # Some providers report no cost at all: the key is then absent, not null.
    if cost is not None:
        usage["cost"] = cost
    return usage


def _completion_tail(message: dict[str, Any], finish_reason: str, usage: dict[str, Any]) -> bytes:
    """Everything after the "model" member, precomputed so a call only formats the id, time and model."""
    document = {"choices": [{"index": 0, "finish_reason": finish_reason, "message": message}], "usage": usage}
    return b"," + _dumps(document)[1:]


def _completion_body(tail: bytes, model: str | None) -> bytes:
    head = b'{"id":"gen-fake-%d","object":"chat.completion","created":%d,"model":%s' % (
        next(_generation_ids), int(time.time()), _dumps(model))
    return head + tail


_ECHO_USAGE = _usage(120, 40, 0.0001)


@dataclass(frozen=True, slots=True)
class Reply:
    """An immutable description of one answer; build it with the static constructors."""

    kind: str  # "completion", "echo", "raw", "truncated" or "disconnect"
    code: int = 200  # HTTP status
    payload: bytes = b""  # a completion tail (see _completion_tail) or a whole raw body
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0

    @staticmethod
    def json(document: Any, *, cost: float | None = 0.0001, prompt_tokens: int = 120,
             completion_tokens: int = 40) -> Reply:
        return Reply.text(json.dumps(document), cost=cost, prompt_tokens=prompt_tokens,
                          completion_tokens=completion_tokens)

    @staticmethod
    def text(content: str, *, cost: float | None = 0.0001, prompt_tokens: int = 120, completion_tokens: int = 40,
             finish_reason: str = "stop") -> Reply:
        message = {"role": "assistant", "content": content}
        return Reply("completion", payload=_completion_tail(
            message, finish_reason, _usage(prompt_tokens, completion_tokens, cost)))

    @staticmethod
    def status(code: int, message: str = "", *, retry_after: str | None = None,
               metadata: dict[str, Any] | None = None) -> Reply:
        headers = (("Retry-After", retry_after),) if retry_after is not None else ()
        return Reply("raw", code=code, payload=_error_body(code, message, metadata), headers=headers)

    @staticmethod
    def body_error(code: int, message: str = "") -> Reply:
        # Mid-generation failures: the status line already said 200 when the provider gave up.
        return Reply("raw", code=200, payload=_error_body(code, message))

    @staticmethod
    def choice_error(code: int | None, message: str = "", *, cost: float | None = 0.0001) -> Reply:
        # A 200 whose choices[0] carries the error (finish_reason "error"): a provider failing mid-generation.
        error: dict[str, Any] = {"message": message or "Upstream error"}
        if code is not None:
            error["code"] = code
        document = {"choices": [{"index": 0, "finish_reason": "error", "error": error,
                                 "message": {"role": "assistant", "content": ""}}],
                    "usage": _usage(120, 0, cost)}
        return Reply("completion", payload=b"," + _dumps(document)[1:])

    @staticmethod
    def truncated() -> Reply:
        message = {"role": "assistant", "content": json.dumps({"summary": "a reply the connection cut short"})}
        return Reply("truncated", payload=_completion_tail(message, "stop", _usage(120, 40, 0.0001)))

    @staticmethod
    def refusal(message: str = "I can't help with that.", *, content_filter: bool = False) -> Reply:
        if content_filter:
            return Reply("completion", payload=_completion_tail(
                {"role": "assistant", "content": None}, "content_filter", _usage(120, 0, 0.0001)))
        return Reply("completion", payload=_completion_tail(
            {"role": "assistant", "content": None, "refusal": message}, "stop", _usage(120, 10, 0.0001)))

    @staticmethod
    def image(data: bytes, *, mime: str = "image/png", cost: float | None = 0.04) -> Reply:
        url = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        message = {"role": "assistant", "content": "Here is the image.",
                   "images": [{"type": "image_url", "image_url": {"url": url}}]}
        return Reply("completion", payload=_completion_tail(message, "stop", _usage(120, 1290, cost)))

    @staticmethod
    def parts(*parts: dict[str, Any], cost: float | None = 0.0001) -> Reply:
        """content as an array of parts (OpenAI's form), as some providers answer instead of a string."""
        message = {"role": "assistant", "content": list(parts)}
        return Reply("completion", payload=_completion_tail(message, "stop", _usage(120, 40, cost)))

    @staticmethod
    def disconnect() -> Reply:
        return Reply("disconnect")

    @staticmethod
    def echo() -> Reply:
        return Reply("echo")

    def after(self, seconds: float) -> Reply:
        return replace(self, delay=seconds)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    path: str  # without the query string
    model: str | None
    body: dict[str, Any]  # {} when the request body was not a JSON object
    headers: dict[str, str]  # lower-cased names
    received_at: float  # time.monotonic()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default backlog of 5 makes bursts of connections wait for SYN retries

    def __init__(self, fake: FakeOpenRouter) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up (and our own shutdown of idle sockets) are routine here; anything else is a bug.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so a client's connection pool is reused
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.fake._connection_opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._connection_closed(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests and benchmarks own stderr

    def do_POST(self) -> None:
        self._handle()

    do_GET = do_PUT = do_PATCH = do_DELETE = do_POST

    def _handle(self) -> None:
        received_at = time.monotonic()
        try:
            raw = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True  # the stream position is unknown: this connection cannot be reused
            self._send(400, _error_body(400, "Unreadable request body"))
            return
        path = self.path.partition("?")[0]
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        body = parsed if isinstance(parsed, dict) else {}
        model = body.get("model") if isinstance(body.get("model"), str) else None
        request = RecordedRequest(path, model, body, {k.lower(): v for k, v in self.headers.items()}, received_at)
        fake = self.server.fake
        fake._record(request)
        if path != COMPLETIONS_PATH or self.command != "POST":
            self._send(404, _error_body(404, f"No route for {self.command} {path}"))
            return
        if not isinstance(parsed, dict):
            self._send(400, _error_body(400, "Request body must be a JSON object"))
            return
        try:
            reply = fake._choose(request)
        except Exception as error:  # a broken respond_with handler should fail the call, not hang it
            self._send(500, _error_body(500, f"respond_with handler failed: {error!r}"))
            return
        if reply.delay > 0:
            time.sleep(reply.delay)  # only this connection's thread waits
        self._answer(reply, model)

    def _answer(self, reply: Reply, model: str | None) -> None:
        kind = reply.kind
        if kind == "completion":
            self._send(200, _completion_body(reply.payload, model))
        elif kind == "echo":
            message = {"role": "assistant", "content": json.dumps({"echo": model})}
            self._send(200, _completion_body(_completion_tail(message, "stop", _ECHO_USAGE), model))
        elif kind == "raw":
            self._send(reply.code, reply.payload, reply.headers)
        elif kind == "truncated":
            whole = _completion_body(reply.payload, model)
            self._send(200, whole[: len(whole) // 2])
        elif kind == "disconnect":
            # Write nothing: finish() and the server then close the socket, so the client sees EOF mid-exchange.
            self.close_connection = True
        else:
            raise ValueError(f"unknown reply kind {kind!r}")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline(65537).split(b";")[0].strip(), 16)
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(65537)

    def _send(self, status: int, body: bytes, headers: tuple[tuple[str, str], ...] = ()) -> None:
        lines = [f"HTTP/1.1 {status} {_reason(status)}", "Content-Type: application/json",
                 f"Content-Length: {len(body)}"]
        lines.extend(f"{name}: {value}" for name, value in headers)
        if self.close_connection:
            lines.append("Connection: close")
        # One write for head and body: no Nagle/delayed-ACK stall, and no per-header syscalls.
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


class FakeOpenRouter:
    """The fake server; use it as a context manager. Thread-safe."""

    def __init__(self, *, default: Reply | None = None) -> None:
        self._lock = threading.Lock()
        self._default = default or Reply.echo()
        self._scripts: dict[str, deque[Reply]] = {}
        self._handler: Callable[[RecordedRequest], Reply] | None = None
        self._requests: list[RecordedRequest] = []
        self._connections = 0
        self._open_sockets: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> FakeOpenRouter:
        self._server = _Server(self)
        # A short poll interval only bounds how long shutdown() waits; requests wake the loop at once.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-openrouter", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        # Idle keep-alive connections would otherwise park their threads in readline() until the client goes.
        with self._lock:
            open_sockets = list(self._open_sockets)
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        server.server_close()
        thread.join()
        self._server = self._thread = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeOpenRouter is not running; use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{API_PREFIX}"

    def script(self, model: str, *replies: Reply) -> None:
        with self._lock:
            self._scripts.setdefault(model, deque()).extend(replies)

    def set_default(self, reply: Reply) -> None:
        with self._lock:
            self._default = reply

    def respond_with(self, handler: Callable[[RecordedRequest], Reply] | None) -> None:
        with self._lock:
            self._handler = handler

    @property
    def handler(self) -> Callable[[RecordedRequest], Reply] | None:
        """The dynamic handler in force (to wrap it for a while and put it back)."""
        with self._lock:
            return self._handler

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, model: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self._requests if request.model == model]

    @property
    def connections(self) -> int:
        """TCP connections accepted since start (or the last reset): fewer than requests means keep-alive works."""
        with self._lock:
            return self._connections

    def pending(self, model: str) -> int:
        """Scripted replies not yet consumed for a model."""
        with self._lock:
            return len(self._scripts.get(model, ()))

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()
            self._requests.clear()
            self._handler = None
            self._default = Reply.echo()
            self._connections = 0

    # Called from handler threads.

    def _connection_opened(self, sock: socket.socket) -> None:
        with self._lock:
            self._connections += 1
            self._open_sockets.add(sock)

    def _connection_closed(self, sock: socket.socket) -> None:
        with self._lock:
            self._open_sockets.discard(sock)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _choose(self, request: RecordedRequest) -> Reply:
        with self._lock:
            handler = self._handler
            if handler is None:
                queue = self._scripts.get(request.model) if request.model is not None else None
                return queue.popleft() if queue else self._default
        return handler(request)  # outside the lock: a handler may inspect the fake
