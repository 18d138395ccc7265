"""The outbound client against real sockets: a loopback HTTP server (allowed only with allow_loopback), the
overall deadline against a server that drips bytes, and TLS pinned to an address while SNI and certificate
verification use the host name."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sgd.net.outbound import OutboundFailed, OutboundPolicy, OutboundRefused, check_url, fetch
from sgd.net.pinned import PinnedTransport

pytestmark = pytest.mark.integration
LOGO = Path(__file__).resolve().parents[2] / "examples" / "brands" / "helio-energy" / "logo.png"


class Handler(http.server.BaseHTTPRequestHandler):
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

    def log_message(self, format: str, *args: object) -> None:  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


LOOPBACK = OutboundPolicy(allow_loopback=True, timeout_seconds=5)


def test_loopback_fetch_works_only_when_the_policy_allows_loopback(server: str) -> None:
    result = fetch(f"{server}/logo.png", LOOPBACK)
    assert (result.status, result.content_type, result.data) == (200, "image/png", LOGO.read_bytes())
    with pytest.raises(OutboundRefused) as refused:
        fetch(f"{server}/logo.png", OutboundPolicy())
    assert refused.value.code == "scheme_not_allowed"
    with pytest.raises(OutboundRefused) as refused:
        fetch(server.replace("http://", "https://") + "/logo.png", OutboundPolicy())
    assert refused.value.code == "address_not_public"


def test_redirects_host_headers_and_errors_over_real_sockets(server: str) -> None:
    port = server.rsplit(":", 1)[1]
    assert fetch(f"{server}/moved", LOOPBACK).final_url == f"{server}/logo.png"
    assert fetch(f"http://localhost:{port}/host", LOOPBACK, resolve=lambda host, _: ["::1", "127.0.0.1"]).data \
        == f"localhost:{port}".encode()  # ::1 refuses (the server is IPv4 only): the next vetted address is used
    with pytest.raises(OutboundFailed) as failed:
        fetch(f"{server}/nothing", LOOPBACK)
    assert (failed.value.status, failed.value.code) == (404, "http_status")
    assert "no such thing" in failed.value.reason


def test_the_timeout_covers_the_whole_fetch_against_a_dripping_server(server: str) -> None:
    started = time.monotonic()
    with pytest.raises(OutboundFailed) as failed:
        fetch(f"{server}/drip", OutboundPolicy(allow_loopback=True, timeout_seconds=0.5))
    elapsed = time.monotonic() - started
    assert failed.value.code == "timeout"
    assert 0.4 < elapsed < 1.0  # every byte arrives well within a per-read timeout; the deadline still holds


def test_a_read_in_flight_is_cut_at_the_deadline_not_after_a_fresh_read_timeout(server: str) -> None:
    started = time.monotonic()
    with pytest.raises(OutboundFailed) as failed:
        fetch(f"{server}/stall", OutboundPolicy(allow_loopback=True, timeout_seconds=0.5))
    assert failed.value.code == "timeout"
    assert time.monotonic() - started < 0.7  # a per-read timeout alone would wait until ~0.8 s


def test_an_unbounded_body_is_cut_at_the_cap(server: str) -> None:
    with pytest.raises(OutboundFailed) as failed:
        fetch(f"{server}/huge", OutboundPolicy(allow_loopback=True, max_bytes=256 * 1024))
    assert failed.value.code == "too_large"


# --- TLS: connect to the pinned address, verify the certificate against the host name ------------------------


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, ssl.SSLContext, list[str]]]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "assets.sgd.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName("assets.sgd.test")]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    server_names: list[str] = []
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    server_context.sni_callback = lambda sock, server_name, context: server_names.append(server_name)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.socket = server_context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    client_context = ssl.create_default_context(cafile=str(folder / "cert.pem"))
    yield httpd.server_address[1], client_context, server_names
    httpd.shutdown()
    httpd.server_close()


def pinned_get(port: int, context: ssl.SSLContext, host_name: str) -> httpx.Response:
    transport = PinnedTransport(allowed_ips=["127.0.0.1"], deadline=time.monotonic() + 5, ssl_context=context)
    request = httpx.Request("GET", f"https://127.0.0.1:{port}/host", headers={"host": f"{host_name}:{port}"},
                            extensions={"sni_hostname": host_name, "timeout": httpx.Timeout(5).as_dict()})
    try:
        response = transport.handle_request(request)
        response.read()
        return response
    finally:
        transport.close()


def test_tls_goes_to_the_pinned_address_with_sni_and_verification_for_the_host_name(
        tls_server: tuple[int, ssl.SSLContext, list[str]]) -> None:
    port, context, server_names = tls_server
    response = pinned_get(port, context, "assets.sgd.test")
    assert response.status_code == 200
    assert response.content == f"assets.sgd.test:{port}".encode()
    assert server_names[-1] == "assets.sgd.test"
    with pytest.raises(httpx.ConnectError, match=r"(?i)certificate"):  # the certificate does not cover this name
        pinned_get(port, context, "other.sgd.test")


def test_check_url_accepts_loopback_literals_only_with_the_flag() -> None:
    assert check_url("http://[::1]:8080/x", LOOPBACK) == ["::1"]
    assert ipaddress.ip_address(check_url("http://localhost:1/", LOOPBACK)[0]).is_loopback
