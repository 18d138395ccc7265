"""The outbound client against real sockets: a loopback HTTP server (allowed only with allow_loopback), the
overall deadline against a server that drips bytes, and TLS pinned to an address while SNI and certificate
verification use the host name."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import time
from collections.abc import Iterator

import httpx
import pytest
from sgd.net.outbound import OutboundFailed, OutboundPolicy, OutboundRefused, check_url, fetch
from sgd.net.pinned import PinnedTransport

from bench.support.loopback_http import LOGO, loopback_server

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with loopback_server() as base_url:
        yield base_url


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


# How long these take (the deadline holds within its budget) is measured by bench/timing_budgets.py.

def test_the_timeout_covers_the_whole_fetch_against_a_dripping_server(server: str) -> None:
    with pytest.raises(OutboundFailed) as failed:  # 1000 bytes, one every 50 ms: 50 s if nothing cut it
        fetch(f"{server}/drip", OutboundPolicy(allow_loopback=True, timeout_seconds=0.5))
    assert failed.value.code == "timeout"  # every byte arrives well within a per-read timeout: the deadline cut it


def test_a_read_in_flight_is_cut_at_the_deadline_not_after_a_fresh_read_timeout(server: str) -> None:
    with pytest.raises(OutboundFailed) as failed:  # one byte of two after 0.3 s, then silence
        fetch(f"{server}/stall", OutboundPolicy(allow_loopback=True, timeout_seconds=0.5))
    assert failed.value.code == "timeout"  # each read gets the time left (tests/unit/test_outbound.py), not 0.5 s


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
    client_context = ssl.create_default_context(cafile=str(folder / "cert.pem"))
    with loopback_server(server_context) as base_url:
        yield int(base_url.rsplit(":", 1)[1]), client_context, server_names


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
