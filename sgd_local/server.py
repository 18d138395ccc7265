"""Serves the runtime's gateway on 127.0.0.1 with the standard library's threading HTTP server.

Socket hygiene for keep-alive clients and spikes: TCP_NODELAY (no Nagle delay between a response and the next
request), each response in one write (status line, headers and body together), and a listen backlog sized for a
burst of connections.
"""

from __future__ import annotations

import json
import logging
import select
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sgd_local.apigw import HttpRequest, gateway_error
from sgd_local.runtime import LocalRuntime

logger = logging.getLogger("sgd_local.server")
LISTEN_BACKLOG = 1024


class GatewayServer(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True


def client_gone(connection: socket.socket) -> bool:
    """Whether the client closed its side: the socket reads as end-of-file (pipelined bytes are not a close)."""
    try:
        readable, _, _ = select.select([connection], [], [], 0)
        return bool(readable) and connection.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def make_server(runtime: LocalRuntime, host: str = "127.0.0.1", port: int = 3000) -> GatewayServer:
    class GatewayHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "sgd-local"

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _handle(self) -> None:
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            if path == "/.well-known/jwks.json" and self.command == "GET":
                self._send(200, {"content-type": "application/json"},
                           json.dumps(runtime.signing_key.jwks()).encode(), [])
                return
            headers: dict[str, str] = {}
            for name, value in self.headers.items():
                name = name.lower()
                headers[name] = f"{headers[name]},{value}" if name in headers else value
            try:
                response = runtime.handle_http(HttpRequest(self.command, path, query, headers, body,
                                                           self.client_address[0],
                                                           client_gone=lambda: client_gone(self.connection)))
            except Exception:
                logger.exception("gateway failure")  # BaseHTTPRequestHandler.log_error takes no exc_info
                response = gateway_error(500, "Internal Server Error")
            self._send(response.status, response.headers, response.body, response.cookies)

        def _send(self, status: int, headers: dict[str, str], body: bytes, cookies: list[str]) -> None:
            """The whole response in one write: with TCP_NODELAY, headers and body leave in the same segments."""
            self.log_request(status)
            lines = [f"{self.protocol_version} {status} {self.responses.get(status, ('',))[0]}",
                     f"Server: {self.version_string()}", f"Date: {self.date_time_string()}"]
            lines += [f"{name}: {value}" for name, value in headers.items()
                      if name not in ("content-length", "connection")]
            lines += [f"set-cookie: {cookie}" for cookie in cookies]
            lines.append(f"content-length: {len(body)}")
            if self.close_connection:
                lines.append("connection: close")
            head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
            self.wfile.write(head if self.command == "HEAD" else head + body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

        def __getattr__(self, name: str) -> Any:
            # TRACE, CONNECT and any unknown method reach the gateway too (API Gateway: 404 {"message": "Not
            # Found"} for a method no route has), never the standard library's HTML 501.
            if name.startswith("do_"):
                return self._handle
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            runtime_log = runtime.options.data_dir / "logs" / "access.log"
            with runtime_log.open("a", encoding="utf-8") as handle:
                handle.write(f"{self.address_string()} {format % args}\n")

    return GatewayServer((host, port), GatewayHandler)
