"""moto's WSGI app served on keep-alive connections.

werkzeug's development server (moto's own) answers every request with `Connection: close`, so each AWS call a
function makes opens a new TCP connection and the server starts a new thread for it; with werkzeug's body
drain after each response it cannot keep connections open. AWS keeps them open, and so does this handler: it
reads exactly the request's body (Content-Length, or a chunked body to its end), runs the app, and writes the
status line, headers and body in one write with a Content-Length. Environ building is moto's own handler's.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import ThreadedWSGIServer

NO_BODY_STATUSES = frozenset({204, 304})
HOP_BY_HOP = frozenset({"connection", "transfer-encoding", "keep-alive"})


class KeepAliveMotoHandler(MotoRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle connection's thread ends after this (clients reconnect, as with AWS's idle closes)

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def run_wsgi(self) -> None:
        environ = self.make_environ()
        body = environ["wsgi.input"].read() if environ.get("wsgi.input_terminated") else self.rfile.read(
            int(environ.get("CONTENT_LENGTH") or 0))
        environ.pop("HTTP_TRANSFER_ENCODING", None)  # the body is whole now
        environ.update({"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
                        "wsgi.input_terminated": True})
        self.environ = environ
        try:
            status, headers, payload = _call(self.server.app, environ)
        except Exception as error:  # the app failed: a 500 that says so, and this connection is not reused
            self.close_connection = True
            status, headers, payload = "500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")], \
                f"moto failed: {type(error).__name__}: {error}".encode()
            self.log_error("error on request: %r", error)
        code = int(status.split(" ", 1)[0])
        kept = [(name, value) for name, value in headers if name.lower() not in HOP_BY_HOP]
        if not any(name.lower() == "content-length" for name, _ in kept):
            kept.append(("Content-Length", str(len(payload))))
        if self.close_connection:
            kept.append(("Connection", "close"))
        head = [f"{self.protocol_version} {status}", f"Server: {self.version_string()}",
                f"Date: {self.date_time_string()}", *(f"{name}: {value}" for name, value in kept), "", ""]
        sends_body = self.command != "HEAD" and code not in NO_BODY_STATUSES and code >= 200
        self.wfile.write("\r\n".join(head).encode("latin-1") + (payload if sends_body else b""))
        self.log_request(code, len(payload))


def _call(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    started: dict[str, Any] = {}
    written: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        started.update(status=status, headers=headers)
        return written.append

    result = app(environ, start_response)
    try:
        written.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return started["status"], list(started["headers"]), b"".join(written)


def serve(host: str, port: int, app: Any) -> None:
    """Serves `app` until the process is stopped: a thread per connection, connections kept alive."""
    server = ThreadedWSGIServer(host, port, app, handler=KeepAliveMotoHandler)
    server.daemon_threads = True
    server.serve_forever()
