"""A loopback HTTP server for the outbound client: a logo, a redirect, a Host echo, and the slow and endless
answers its deadline and size cap must cut (tests/integration/test_outbound_http.py, bench/timing_budgets.py).

    with loopback_server() as base_url:          # "http://127.0.0.1:PORT"; loopback_server(context) serves TLS
        fetch(f"{base_url}/drip", OutboundPolicy(allow_loopback=True, timeout_seconds=0.5))
"""

from __future__ import annotations

import contextlib
import http.server
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

LOGO = Path(__file__).resolve().parents[2] / "examples" / "brands" / "helio-energy" / "logo.png"


class LoopbackHandler(http.server.BaseHTTPRequestHandler):
    """/logo.png, /moved (a redirect to it), /host (echoes the Host header), /drip (1000 bytes, one every 50 ms),
    /stall (one byte of two after 0.3 s, then silence), /huge (64 MiB with no Content-Length); else 404."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/logo.png":
            self.answer(200, LOGO.read_bytes(), "image/png")
        elif self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/logo.png")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/host":
            self.answer(200, f"{self.headers['Host']}".encode(), "text/plain")
        elif self.path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.05)
        elif self.path == "/stall":
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            time.sleep(0.3)
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(1)  # then nothing: only the overall deadline can end the wait early
        elif self.path == "/huge":
            self.send_response(200)
            self.end_headers()  # no Content-Length: the body runs until the connection closes
            try:
                for _ in range(1024):
                    self.wfile.write(b"y" * 65536)
            except OSError:
                pass
            self.close_connection = True
        else:
            self.answer(404, b"no such thing", "text/plain")

    def answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # keep the test and bench output clean
        pass


@contextlib.contextmanager
def loopback_server(ssl_context: ssl.SSLContext | None = None) -> Iterator[str]:
    """LoopbackHandler on 127.0.0.1 (a free port), one daemon thread per connection; yields the base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), LoopbackHandler)
    httpd.daemon_threads = True
    if ssl_context is not None:
        httpd.socket = ssl_context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if ssl_context else 'http'}://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
