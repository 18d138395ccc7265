"""Serves the runtime's gateway on 127.0.0.1 with the standard library's threading HTTP server."""

from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sgd_local.apigw import HttpRequest, gateway_error
from sgd_local.runtime import LocalRuntime

logger = logging.getLogger("sgd_local.server")


def make_server(runtime: LocalRuntime, host: str = "127.0.0.1", port: int = 3000) -> ThreadingHTTPServer:
    class GatewayHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "sgd-local"

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
                                                           self.client_address[0]))
            except Exception:
                logger.exception("gateway failure")  # BaseHTTPRequestHandler.log_error takes no exc_info
                response = gateway_error(500, "Internal Server Error")
            self._send(response.status, response.headers, response.body, response.cookies)

        def _send(self, status: int, headers: dict[str, str], body: bytes, cookies: list[str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name not in ("content-length", "connection"):
                    self.send_header(name, value)
            for cookie in cookies:
                self.send_header("set-cookie", cookie)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

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

    server = ThreadingHTTPServer((host, port), GatewayHandler)
    server.daemon_threads = True
    return server
