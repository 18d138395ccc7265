"""The SSRF guard: URL and address vetting, pinning, redirects re-checked hop by hop, size and time limits."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import httpcore
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sgd.net.outbound import (
    Fetched,
    OutboundFailed,
    OutboundPolicy,
    OutboundRefused,
    check_url,
    fetch,
    non_public_reason,
    post_json,
)
from sgd.net.pinned import PinnedTransport

PUBLIC_IP = "93.184.216.34"
OTHER_PUBLIC_IP = "151.101.1.69"
POLICY = OutboundPolicy()


def resolver(table: dict[str, list[str]]) -> Callable[[str, int], list[str]]:
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return table[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


def never_resolve(host: str, port: int) -> list[str]:
    raise AssertionError(f"{host} must be refused before any DNS lookup")


class Recorder:
    """An httpx.MockTransport that records every request and answers from a route table."""

    def __init__(self, routes: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]]):
        self.routes = routes
        self.requests: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.routes[(request.headers["host"], request.url.path)](request)


class CountingStream(httpx.SyncByteStream):
    """A response body delivered chunk by chunk, counting how many chunks the client pulled."""

    def __init__(self, chunks: list[bytes], delay: float = 0.0):
        self.chunks = chunks
        self.delay = delay
        self.pulled = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            if self.delay:
                time.sleep(self.delay)
            self.pulled += 1
            yield chunk


# --- addresses -------------------------------------------------------------------------------------------------

NON_PUBLIC = [
    "127.0.0.1", "127.255.255.254", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
    "169.254.0.1", "100.64.0.1", "100.127.255.254", "0.0.0.0", "0.1.2.3", "224.0.0.1", "239.255.255.250",
    "240.0.0.1", "255.255.255.255", "192.0.2.1", "198.51.100.7", "203.0.113.9", "198.18.0.1", "192.0.0.8",
    "::1", "::", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456:789a::1", "ff02::1", "fec0::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1", "::ffff:0:7f00:1",
    "2002:7f00:1::1", "2002:a9fe:a9fe::1", "2002:c0a8:101::1", "64:ff9b::a00:1", "64:ff9b::7f00:1",
    "64:ff9b:1::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:db8::1", "3fff::1", "100::1",
]
PUBLIC = ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:82a::200e",
          "2002:808:808::1", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", NON_PUBLIC)
def test_a_host_resolving_to_a_non_public_address_is_refused(address: str) -> None:
    with pytest.raises(OutboundRefused) as refused:
        check_url("https://assets.example.com/logo.png", POLICY, resolver({"assets.example.com": [address]}))
    assert refused.value.code == "address_not_public"
    assert address.split("%")[0].split(":")[0] in refused.value.reason or "::" in address


@pytest.mark.parametrize("address", [a for a in NON_PUBLIC if "%" not in a])
def test_a_non_public_ip_literal_is_refused_without_resolving(address: str) -> None:
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(OutboundRefused) as refused:
        check_url(f"https://{host}/x", POLICY, never_resolve)
    assert refused.value.code == "address_not_public"


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert check_url("https://assets.example.com/a", POLICY, resolver({"assets.example.com": [address]})) \
        == [address]


def test_one_non_public_answer_among_public_ones_refuses_the_host() -> None:
    with pytest.raises(OutboundRefused):
        check_url("https://mixed.example.com/", POLICY, resolver({"mixed.example.com": [PUBLIC_IP, "10.0.0.7"]}))


def test_embedded_ipv4_reasons_name_the_inner_address() -> None:
    import ipaddress

    reason = non_public_reason(ipaddress.ip_address("2002:a9fe:a9fe::1"))
    assert reason is not None
    assert "169.254.169.254" in reason
    assert non_public_reason(ipaddress.ip_address("64:ff9b::808:808")) is None


@given(st.ip_addresses(v=4))
def test_ipv4_classification_agrees_with_the_standard_library(address) -> None:  # type: ignore[no-untyped-def]
    # Anything the standard library calls non-global is refused; our list may be stricter, never looser.
    if not address.is_global or address.is_multicast:
        assert non_public_reason(address) is not None


# --- URL forms -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["https://2130706433/", "https://0x7f000001/", "https://017700000001/",
                                 "https://0x7f.1/", "https://127.1/", "https://0177.0.0.1/", "https://127.0.1/",
                                 "https://0x7f.0x0.0x0.0x1/", "https://10.0.0.010/", "https://example.0x10/"])
def test_integer_octal_and_hex_hosts_are_refused(url: str) -> None:
    with pytest.raises(OutboundRefused) as refused:
        check_url(url, POLICY, never_resolve)
    # httpx itself rejects dotted quads with leading zeros ("0177.0.0.1") as invalid URLs.
    assert refused.value.code in ("numeric_host", "invalid_url")


@pytest.mark.parametrize("url", ["https://user@good.example.com/", "https://user:hunter2@good.example.com/x",
                                 "https://good.example.com\\@evil.example.com/", "https://:@good.example.com/"])
def test_user_info_is_refused_and_never_echoed(url: str) -> None:
    with pytest.raises(OutboundRefused) as refused:
        check_url(url, POLICY, never_resolve)
    assert refused.value.code == "userinfo_not_allowed"
    assert "hunter2" not in refused.value.reason


@pytest.mark.parametrize("url", ["http://assets.example.com/", "ftp://assets.example.com/f", "file:///etc/passwd",
                                 "gopher://assets.example.com/", "data:text/plain,hi", "javascript:alert(1)"])
def test_only_https_is_allowed(url: str) -> None:
    with pytest.raises(OutboundRefused) as refused:
        check_url(url, POLICY, never_resolve)
    assert refused.value.code in ("scheme_not_allowed", "invalid_url")


@pytest.mark.parametrize("url", ["https://localhost/", "http://localhost:8080/", "https://api.localhost/",
                                 "http://127.0.0.1:9000/"])
def test_loopback_is_refused_unless_the_policy_allows_it(url: str) -> None:
    loopback = resolver({"localhost": ["127.0.0.1"], "api.localhost": ["::1"]})
    with pytest.raises(OutboundRefused):
        check_url(url, POLICY, loopback)
    assert check_url(url, OutboundPolicy(allow_loopback=True), loopback)[0] in ("127.0.0.1", "::1")


def test_allow_loopback_does_not_open_private_ranges_or_http_to_public_hosts() -> None:
    policy = OutboundPolicy(allow_loopback=True)
    with pytest.raises(OutboundRefused):  # a public-looking name that resolves to loopback: rebinding bait
        check_url("https://rebind.example.com/", policy, resolver({"rebind.example.com": ["127.0.0.1"]}))
    with pytest.raises(OutboundRefused):
        check_url("https://10.0.0.1/", policy, never_resolve)
    with pytest.raises(OutboundRefused) as refused:
        check_url("http://assets.example.com/", policy, never_resolve)
    assert refused.value.code == "scheme_not_allowed"
    with pytest.raises(OutboundRefused):  # localhost must really be loopback
        check_url("http://localhost/", policy, resolver({"localhost": ["10.0.0.1"]}))


def test_the_domain_allowlist_takes_the_domain_and_its_subdomains_only() -> None:
    policy = OutboundPolicy(allowed_domains=("brand.com", "CDN.Example.org."))
    table = resolver({"brand.com": [PUBLIC_IP], "img.brand.com": [PUBLIC_IP], "cdn.example.org": [PUBLIC_IP]})
    assert check_url("https://brand.com/a", policy, table) == [PUBLIC_IP]
    assert check_url("https://img.brand.com/a", policy, table) == [PUBLIC_IP]
    assert check_url("https://cdn.example.org/a", policy, table) == [PUBLIC_IP]
    for url in ("https://evilbrand.com/", "https://brand.com.evil.net/", "https://example.org/"):
        with pytest.raises(OutboundRefused) as refused:
            check_url(url, policy, never_resolve)
        assert refused.value.code == "host_not_allowed"


def test_unresolvable_hosts_fail_without_being_refused() -> None:
    with pytest.raises(OutboundFailed) as failed:
        check_url("https://nowhere.example.com/", POLICY, resolver({"nowhere.example.com": []}))
    assert failed.value.code == "dns_failed"


def test_policy_from_settings_never_allows_loopback_on_prod() -> None:
    settings = SimpleNamespace(fetch_max_bytes=2048, fetch_timeout_seconds=3.0, allowed_fetch_domains=("a.com",),
                               outbound_allow_loopback=True, stage="dev")
    assert OutboundPolicy.from_settings(settings) == OutboundPolicy(2048, 3.0, ("a.com",), True)
    settings.stage = "prod"
    assert OutboundPolicy.from_settings(settings).allow_loopback is False


# --- fetching --------------------------------------------------------------------------------------------------


def ok(body: bytes = b"logo bytes", content_type: str = "image/png") -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, content=body, headers={"content-type": content_type})


def redirect(location: str, status: int = 302) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, headers={"location": location})


def test_fetch_pins_the_connection_to_the_vetted_address_and_keeps_the_host_name() -> None:
    recorder = Recorder({("assets.example.com:8443", "/logo.png"): ok()})
    result = fetch("https://assets.example.com:8443/logo.png?sig=abc", POLICY,
                   resolve=resolver({"assets.example.com": [PUBLIC_IP]}), transport=recorder.transport)
    assert result == Fetched(url="https://assets.example.com:8443/logo.png?sig=abc",
                             final_url="https://assets.example.com:8443/logo.png?sig=abc", status=200,
                             content_type="image/png", data=b"logo bytes")
    (request,) = recorder.requests
    assert request.url.host == PUBLIC_IP
    assert request.url.port == 8443
    assert request.headers["host"] == "assets.example.com:8443"
    assert request.extensions["sni_hostname"] == "assets.example.com"


def test_a_dns_answer_changing_after_the_check_cannot_redirect_the_connection() -> None:
    answers = iter([[PUBLIC_IP], ["127.0.0.1"]])
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    recorder = Recorder({("rebind.example.com", "/a"): ok()})
    fetch("https://rebind.example.com/a", POLICY, resolve=rebinding, transport=recorder.transport)
    assert calls == ["rebind.example.com"]  # resolved once; the connection used that answer
    assert [request.url.host for request in recorder.requests] == [PUBLIC_IP]


def test_a_redirect_to_a_private_address_is_refused_before_it_is_requested() -> None:
    recorder = Recorder({("assets.example.com", "/logo.png"): redirect("https://internal.example.com/admin")})
    table = resolver({"assets.example.com": [PUBLIC_IP], "internal.example.com": ["10.0.0.5"]})
    with pytest.raises(OutboundRefused) as refused:
        fetch("https://assets.example.com/logo.png", POLICY, resolve=table, transport=recorder.transport)
    assert "10.0.0.5" in refused.value.reason
    assert len(recorder.requests) == 1


@pytest.mark.parametrize("location", ["http://169.254.169.254/latest/meta-data/", "https://[::1]/",
                                      "https://2130706433/", "https://user@assets.example.com/", "file:///etc/passwd",
                                      "http://assets.example.com/plain-http"])
def test_every_redirect_target_form_is_checked(location: str) -> None:
    recorder = Recorder({("assets.example.com", "/a"): redirect(location, 301)})
    with pytest.raises(OutboundRefused):
        fetch("https://assets.example.com/a", POLICY, resolve=resolver({"assets.example.com": [PUBLIC_IP]}),
              transport=recorder.transport)
    assert len(recorder.requests) == 1


def test_a_redirect_chain_is_followed_with_each_hop_rechecked_against_the_allowlist() -> None:
    routes = {("brand.com", "/start"): redirect("/moved", 301),
              ("brand.com", "/moved"): redirect("https://cdn.brand.com/final", 307),
              ("cdn.brand.com", "/final"): ok(b"final"),
              ("cdn.brand.com", "/elsewhere"): redirect("https://tracker.example.net/x", 302)}
    table = resolver({"brand.com": [PUBLIC_IP], "cdn.brand.com": [OTHER_PUBLIC_IP],
                      "tracker.example.net": [PUBLIC_IP]})
    policy = OutboundPolicy(allowed_domains=("brand.com",))
    recorder = Recorder(routes)
    result = fetch("https://brand.com/start", policy, resolve=table, transport=recorder.transport)
    assert (result.final_url, result.data) == ("https://cdn.brand.com/final", b"final")
    assert [(r.url.host, r.headers["host"]) for r in recorder.requests] == [
        (PUBLIC_IP, "brand.com"), (PUBLIC_IP, "brand.com"), (OTHER_PUBLIC_IP, "cdn.brand.com")]
    with pytest.raises(OutboundRefused) as refused:
        fetch("https://cdn.brand.com/elsewhere", policy, resolve=table, transport=Recorder(routes).transport)
    assert refused.value.code == "host_not_allowed"


def test_redirect_loops_stop_at_the_limit() -> None:
    recorder = Recorder({("loop.example.com", "/a"): redirect("/b"), ("loop.example.com", "/b"): redirect("/a")})
    with pytest.raises(OutboundFailed) as failed:
        fetch("https://loop.example.com/a", OutboundPolicy(max_redirects=3),
              resolve=resolver({"loop.example.com": [PUBLIC_IP]}), transport=recorder.transport)
    assert failed.value.code == "too_many_redirects"
    assert len(recorder.requests) == 4


def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    stream = CountingStream([b"x" * 1024] * 10)
    recorder = Recorder({("big.example.com", "/f"): lambda request: httpx.Response(
        200, headers={"content-length": str(50 * 1024 * 1024)}, stream=stream)})
    with pytest.raises(OutboundFailed) as failed:
        fetch("https://big.example.com/f", OutboundPolicy(max_bytes=4096),
              resolve=resolver({"big.example.com": [PUBLIC_IP]}), transport=recorder.transport)
    assert failed.value.code == "too_large"
    assert stream.pulled == 0


def test_a_streamed_body_stops_just_past_the_cap() -> None:
    stream = CountingStream([b"x" * 1024] * 1000)
    recorder = Recorder({("big.example.com", "/f"): lambda request: httpx.Response(200, stream=stream)})
    with pytest.raises(OutboundFailed) as failed:
        fetch("https://big.example.com/f", OutboundPolicy(max_bytes=4096),
              resolve=resolver({"big.example.com": [PUBLIC_IP]}), transport=recorder.transport)
    assert failed.value.code == "too_large"
    assert stream.pulled == 5


def test_compressed_bodies_are_decoded_and_a_gzip_bomb_is_capped() -> None:
    table = resolver({"z.example.com": [PUBLIC_IP]})
    small = gzip.compress(b"brand guide " * 100)
    recorder = Recorder({("z.example.com", "/ok"): lambda request: httpx.Response(
        200, headers={"content-encoding": "gzip"}, stream=CountingStream([small[:10], small[10:]]))})
    assert fetch("https://z.example.com/ok", POLICY, resolve=table, transport=recorder.transport).data \
        == b"brand guide " * 100
    bomb = gzip.compress(b"\0" * (16 * 1024 * 1024), compresslevel=1)
    recorder = Recorder({("z.example.com", "/bomb"): lambda request: httpx.Response(
        200, headers={"content-encoding": "gzip"}, stream=CountingStream([bomb]))})
    with pytest.raises(OutboundFailed) as failed:
        fetch("https://z.example.com/bomb", OutboundPolicy(max_bytes=1024 * 1024), resolve=table,
              transport=recorder.transport)
    assert failed.value.code == "too_large"
    recorder = Recorder({("z.example.com", "/br"): lambda request: httpx.Response(
        200, headers={"content-encoding": "br"}, stream=CountingStream([b"??"]))})
    with pytest.raises(OutboundFailed) as failed:
        fetch("https://z.example.com/br", POLICY, resolve=table, transport=recorder.transport)
    assert failed.value.code == "unsupported_encoding"


def test_error_statuses_fail_with_the_status_and_at_most_200_characters_of_the_body() -> None:
    secret_tail = "TAIL-SHOULD-NOT-APPEAR"
    recorder = Recorder({("e.example.com", "/missing"): lambda request: httpx.Response(
        404, content=("n" * 5000 + secret_tail).encode())})
    with pytest.raises(OutboundFailed) as failed:
        fetch("https://e.example.com/missing?token=s3cr3t", POLICY, resolve=resolver({"e.example.com": [PUBLIC_IP]}),
              transport=recorder.transport)
    assert (failed.value.code, failed.value.status) == ("http_status", 404)
    assert secret_tail not in failed.value.reason
    assert "s3cr3t" not in failed.value.reason
    assert failed.value.reason.count("n") <= 200 + 10


def test_transport_timeouts_and_a_slow_body_fail_as_timeouts() -> None:
    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    table = resolver({"slow.example.com": [PUBLIC_IP]})
    with pytest.raises(OutboundFailed) as failed:
        fetch("https://slow.example.com/a", POLICY, resolve=table, transport=httpx.MockTransport(time_out))
    assert failed.value.code == "timeout"
    drip = CountingStream([b"x"] * 100, delay=0.02)  # 2 s in all
    with pytest.raises(OutboundFailed) as failed:
        fetch("https://slow.example.com/a", OutboundPolicy(timeout_seconds=0.2), resolve=table,
              transport=httpx.MockTransport(lambda request: httpx.Response(200, stream=drip)))
    assert failed.value.code == "timeout"
    assert drip.pulled < len(drip.chunks)  # the slow body was cut off, not read to the end (the time it took:
    # bench/timing_budgets.py)


def test_a_refused_connection_falls_through_to_the_next_vetted_address() -> None:
    seen: list[str] = []

    def first_down(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        if request.url.host == PUBLIC_IP:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, content=b"ok")

    table = resolver({"two.example.com": [PUBLIC_IP, OTHER_PUBLIC_IP]})
    result = fetch("https://two.example.com/", POLICY, resolve=table, transport=httpx.MockTransport(first_down))
    assert (result.data, seen) == (b"ok", [PUBLIC_IP, OTHER_PUBLIC_IP])
    down = httpx.MockTransport(lambda request: (_ for _ in ()).throw(httpx.ConnectError("down", request=request)))
    with pytest.raises(OutboundFailed) as failed:
        fetch("https://two.example.com/", POLICY, resolve=table, transport=down)
    assert failed.value.code == "connect_failed"


# --- webhooks --------------------------------------------------------------------------------------------------


def test_post_json_sends_the_body_and_returns_the_status() -> None:
    received: list[httpx.Request] = []

    def hook(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(204)

    body = json.dumps({"job": "j1", "status": "done"}).encode()
    status = post_json("https://hooks.example.com/sgd", body, {"X-SGD-Signature": "sha256=ab", "Host": "evil"},
                       POLICY, resolve=resolver({"hooks.example.com": [PUBLIC_IP]}),
                       transport=httpx.MockTransport(hook))
    assert status == 204
    (request,) = received
    assert (request.method, request.content, request.headers["content-type"]) == ("POST", body, "application/json")
    assert request.headers["host"] == "hooks.example.com"
    assert request.headers["x-sgd-signature"] == "sha256=ab"


def test_post_json_rechecks_a_307_and_drops_credentials_across_origins() -> None:
    routes = {("hooks.example.com", "/in"): redirect("https://other.example.net/in", 307),
              ("other.example.net", "/in"): lambda request: httpx.Response(200),
              ("hooks.example.com", "/private"): redirect("https://10.1.1.1/in", 308),
              ("hooks.example.com", "/moved"): redirect("https://other.example.net/in", 302)}
    table = resolver({"hooks.example.com": [PUBLIC_IP], "other.example.net": [OTHER_PUBLIC_IP]})
    recorder = Recorder(routes)
    status = post_json("https://hooks.example.com/in", b"{}", {"Authorization": "Bearer t"}, POLICY, resolve=table,
                       transport=recorder.transport)
    assert status == 200
    assert [r.method for r in recorder.requests] == ["POST", "POST"]
    assert recorder.requests[0].headers["authorization"] == "Bearer t"
    assert "authorization" not in recorder.requests[1].headers
    assert recorder.requests[1].content == b"{}"
    with pytest.raises(OutboundRefused):
        post_json("https://hooks.example.com/private", b"{}", {}, POLICY, resolve=table, transport=recorder.transport)
    assert post_json("https://hooks.example.com/moved", b"{}", {}, POLICY, resolve=table,
                     transport=recorder.transport) == 302  # a webhook is not re-sent as a GET


def test_post_json_failures_carry_the_status() -> None:
    with pytest.raises(OutboundFailed) as failed:
        post_json("https://hooks.example.com/x", b"{}", {}, POLICY,
                  resolve=resolver({"hooks.example.com": [PUBLIC_IP]}),
                  transport=httpx.MockTransport(lambda request: httpx.Response(503, text="busy")))
    assert (failed.value.code, failed.value.status) == ("http_status", 503)
    assert "busy" in failed.value.reason
    with pytest.raises(OutboundRefused):
        post_json("https://192.168.0.10/x", b"{}", {}, POLICY, resolve=never_resolve)


# --- the pinned transport --------------------------------------------------------------------------------------


def test_the_pinned_transport_connects_to_no_address_but_the_vetted_ones() -> None:
    transport = PinnedTransport(allowed_ips=["203.0.113.77"], deadline=time.monotonic() + 5)
    with pytest.raises(httpx.ConnectError, match="not an address that was checked"):
        transport.handle_request(httpx.Request("GET", "http://127.0.0.1:9/"))
    transport.close()


def test_a_read_in_flight_gets_the_time_left_never_a_fresh_read_timeout() -> None:
    from sgd.net.pinned import _DeadlineStream

    class Recorder(httpcore.NetworkStream):
        def __init__(self) -> None:
            self.timeouts: list[float | None] = []

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            self.timeouts.append(timeout)
            return b"x"

    inner = Recorder()
    stream = _DeadlineStream(inner, deadline=time.monotonic() + 0.2)
    assert stream.read(1, timeout=5.0) == b"x"
    assert stream.read(1, timeout=None) == b"x"
    assert all(0 < timeout <= 0.2 for timeout in inner.timeouts)  # bounded by the deadline, not by 5 s or none
    with pytest.raises(httpcore.ReadTimeout):
        _DeadlineStream(inner, deadline=time.monotonic() - 0.01).read(1, timeout=5.0)


def test_the_pinned_transport_refuses_to_start_after_the_deadline() -> None:
    transport = PinnedTransport(allowed_ips=["127.0.0.1"], deadline=time.monotonic() - 1)
    with pytest.raises(httpx.ConnectTimeout):
        transport.handle_request(httpx.Request("GET", "http://127.0.0.1:9/"))
    transport.close()
