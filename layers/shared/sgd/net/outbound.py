"""Outbound HTTP behind an SSRF guard: POST /ingest URL fetches, render references and webhooks.

A URL is refused (OutboundRefused, the caller's mistake: a 4xx) unless it is https (plain http only to a
loopback host when the policy allows loopback: the local runtime and tests), carries no user info, names its
host as a DNS name or a canonical IP literal (never "2130706433", "0x7f.1" or "127.1"), matches the optional
domain allowlist, and every address the host resolves to is public. The connection is then pinned to the
vetted addresses (Host header and TLS SNI/certificate verification stay on the host name), so a DNS answer
that changes between the check and the connect cannot redirect it. Redirects are followed by hand and every
hop is checked again. The body is streamed and capped; one deadline covers the whole exchange.

A fetch that was allowed but did not work (timeout, refused connection, HTTP status >= 400, too large, too many
redirects) raises OutboundFailed. Reasons quote at most 200 characters of an error response's body.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # httpx costs ~120 ms of import: loaded when a request is actually made
    import httpx

Resolver = Callable[[str, int], list[str]]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
METHOD_PRESERVING_REDIRECTS = frozenset({307, 308})
ERROR_SNIPPET_CHARS = 200
USER_AGENT = "sgd-outbound/1"
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_CALLER_MAY_NOT_SET = frozenset({"host", "content-length", "transfer-encoding", "connection"})


class OutboundRefused(Exception):
    """The URL may not be fetched (scheme, user info, host form, allowlist, a non-public address, or a redirect
    to any of those). Always the caller's input: answer it as a 4xx."""

    def __init__(self, code: str, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class OutboundFailed(Exception):
    """The URL was allowed but the exchange did not succeed. `status` is the remote HTTP status when there was
    one (codes: dns_failed, connect_failed, tls_failed, timeout, http_status, too_large, too_many_redirects,
    bad_redirect, unsupported_encoding, bad_encoding, transport_error)."""

    def __init__(self, code: str, reason: str, status: int | None = None):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class OutboundPolicy:
    max_bytes: int = 10 * 1024 * 1024
    timeout_seconds: float = 10.0
    allowed_domains: tuple[str, ...] = ()  # empty: any public host; else the host or a subdomain of one
    allow_loopback: bool = False  # local runtime and tests: http(s) to 127.0.0.1, ::1 and localhost
    max_redirects: int = 5

    @classmethod
    def from_settings(cls, settings: Any) -> OutboundPolicy:
        return cls(max_bytes=settings.fetch_max_bytes, timeout_seconds=settings.fetch_timeout_seconds,
                   allowed_domains=tuple(settings.allowed_fetch_domains),
                   # Settings refuses the flag on prod already; never honour it there even if constructed by hand.
                   allow_loopback=bool(settings.outbound_allow_loopback) and settings.stage != "prod")


@dataclass(frozen=True)
class Fetched:
    url: str
    final_url: str
    status: int
    content_type: str
    data: bytes


# ---------------------------------------------------------------------------------------------------------------
# Address classification
# ---------------------------------------------------------------------------------------------------------------

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network
_NON_PUBLIC_V4: tuple[tuple[ipaddress.IPv4Network, str], ...] = (
    (_V4("0.0.0.0/8"), "an unspecified/'this network' address"),
    (_V4("10.0.0.0/8"), "a private (RFC 1918) address"),
    (_V4("100.64.0.0/10"), "a carrier-grade NAT (100.64.0.0/10) address"),
    (_V4("127.0.0.0/8"), "a loopback address"),
    (_V4("169.254.0.0/16"), "a link-local address (this range holds the cloud metadata service)"),
    (_V4("172.16.0.0/12"), "a private (RFC 1918) address"),
    (_V4("192.0.0.0/24"), "an IETF protocol assignment address"),
    (_V4("192.0.2.0/24"), "a documentation address"),
    (_V4("192.88.99.0/24"), "a 6to4 relay anycast address"),
    (_V4("192.168.0.0/16"), "a private (RFC 1918) address"),
    (_V4("198.18.0.0/15"), "a benchmarking address"),
    (_V4("198.51.100.0/24"), "a documentation address"),
    (_V4("203.0.113.0/24"), "a documentation address"),
    (_V4("224.0.0.0/4"), "a multicast address"),
    (_V4("255.255.255.255/32"), "the broadcast address"),
    (_V4("240.0.0.0/4"), "a reserved address"),
)
_NON_PUBLIC_V6: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    (_V6("::/128"), "the unspecified address"),
    (_V6("::1/128"), "a loopback address"),
    (_V6("::ffff:0:0/96"), "an IPv4-mapped IPv6 address"),
    (_V6("::/96"), "an IPv4-compatible IPv6 address"),
    (_V6("::ffff:0:0:0/96"), "an IPv4-translated IPv6 address"),
    (_V6("64:ff9b:1::/48"), "a local-use NAT64 address"),
    (_V6("100::/64"), "a discard-only address"),
    (_V6("2001::/32"), "a Teredo tunnel address"),
    (_V6("2001:2::/48"), "a benchmarking address"),
    (_V6("2001:10::/28"), "an ORCHID address"),
    (_V6("2001:20::/28"), "an ORCHID address"),
    (_V6("2001:db8::/32"), "a documentation address"),
    (_V6("3fff::/20"), "a documentation address"),
    (_V6("5f00::/16"), "a segment-routing address"),
    (_V6("fc00::/7"), "a unique-local address"),
    (_V6("fe80::/10"), "a link-local address"),
    (_V6("fec0::/10"), "a site-local address"),
    (_V6("ff00::/8"), "a multicast address"),
)
_SIX_TO_FOUR = _V6("2002::/16")
_NAT64 = _V6("64:ff9b::/96")
_GLOBAL_UNICAST_V6 = _V6("2000::/3")


def non_public_reason(address: Address) -> str | None:
    """Why `address` is not a public internet address ("a private (RFC 1918) address", …), or None if it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = None
        if address in _SIX_TO_FOUR:
            embedded = address.sixtofour
        elif address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:  # these forward to the IPv4 address they carry: judge that one
            inner = non_public_reason(embedded)
            return f"an IPv6 address embedding {embedded}, {inner}" if inner else None
        for network, label in _NON_PUBLIC_V6:
            if address in network:
                return label
        if address not in _GLOBAL_UNICAST_V6:
            return "an address outside the global unicast range"
    else:
        for network4, label in _NON_PUBLIC_V4:
            if address in network4:
                return label
    if not address.is_global or address.is_multicast:  # the standard library's view, as a backstop
        return "a non-public address"
    return None


def _parse_address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------------------------
# URL vetting
# ---------------------------------------------------------------------------------------------------------------

# WHATWG URL parsers (browsers, curl, getaddrinfo via inet_aton) read a host whose last label is numeric as an
# IPv4 number in decimal, octal or hex ("2130706433", "0x7f.1", "0177.0.0.1", "127.1"): refused unless canonical.
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)
_HOST_NAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")


@dataclass(frozen=True)
class _Target:
    url: httpx.URL  # the URL as requested: host name kept
    host: str  # ASCII (IDNA), lower case, no trailing dot
    port: int
    addresses: tuple[str, ...]  # vetted; the connection goes to one of these
    literal: bool  # the host was written as an IP address

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.url.scheme, self.host, self.port)


def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the system resolver, in its order, without duplicates."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise OutboundFailed("dns_failed", f"the host {host} could not be resolved: check the URL") from error
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in answers:
        if str(sockaddr[0]) not in addresses:
            addresses.append(str(sockaddr[0]))
    return addresses


def check_url(url: str, policy: OutboundPolicy, resolve: Resolver = system_resolver) -> list[str]:
    """The vetted IP addresses for `url`, or OutboundRefused naming what is not allowed."""
    return list(_vet(url, policy, resolve).addresses)


def _is_loopback_host(host: str, literal: Address | None) -> bool:
    if literal is not None:
        return literal.is_loopback
    return host == "localhost" or host.endswith(".localhost")


def _vet(url: str | httpx.URL, policy: OutboundPolicy, resolve: Resolver) -> _Target:
    import httpx

    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as error:
        raise OutboundRefused("invalid_url", f"{_shorten(str(url))!r} is not a valid URL ({error})") from error
    shown = _display(parsed)
    if parsed.scheme not in ("https", "http"):
        raise OutboundRefused("scheme_not_allowed", f"{shown}: only https URLs may be fetched")
    if parsed.userinfo:
        raise OutboundRefused("userinfo_not_allowed", f"{shown}: URLs with user info (user@host) are not allowed; "
                                                      "pass credentials another way")
    try:
        host = parsed.raw_host.decode("ascii").lower().rstrip(".")
    except UnicodeDecodeError as error:
        raise OutboundRefused("invalid_url", f"{shown}: the host name is not valid") from error
    if not host:
        raise OutboundRefused("invalid_url", f"{shown}: the URL has no host")
    if "%" in host:
        raise OutboundRefused("invalid_url", f"{shown}: IPv6 zone identifiers are not allowed")
    literal = _parse_address(host)
    if literal is None:
        if _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
            raise OutboundRefused("numeric_host", f"{shown}: the host {host} is a number that resolvers read as "
                                                  "an IP address; write a host name or a dotted-quad address")
        if not _HOST_NAME.match(host):
            raise OutboundRefused("invalid_url", f"{shown}: {host} is not a valid host name")
    elif isinstance(literal, ipaddress.IPv4Address) and host != str(literal):
        raise OutboundRefused("numeric_host", f"{shown}: write the address in canonical dotted-quad form")

    loopback = policy.allow_loopback and _is_loopback_host(host, literal)
    if parsed.scheme == "http" and not loopback:
        raise OutboundRefused("scheme_not_allowed", f"{shown}: only https URLs may be fetched")
    if policy.allowed_domains and not any(host == domain or host.endswith("." + domain)
                                          for domain in _normalised_domains(policy.allowed_domains)):
        raise OutboundRefused("host_not_allowed", f"{shown}: {host} is not in the allowed domains "
                                                  f"({', '.join(policy.allowed_domains)})")

    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if literal is not None:
        answers = [str(literal)]
    else:
        answers = resolve(host, port)
        if not answers:
            raise OutboundFailed("dns_failed", f"the host {host} has no addresses: check the URL")
    addresses: list[str] = []
    for answer in answers:
        address = _parse_address(answer)
        resolves = "is" if literal is not None else "resolves to"
        if address is None:
            raise OutboundRefused("address_not_public", f"{shown}: {host} resolves to {answer!r}, not an IP address")
        if loopback:
            if not address.is_loopback:
                raise OutboundRefused("address_not_public", f"{shown}: {host} {resolves} {address}, which is not "
                                                            "a loopback address")
        else:
            problem = non_public_reason(address)
            if problem:
                raise OutboundRefused("address_not_public", f"{shown}: {host} {resolves} {address}, {problem}; "
                                                            "only public internet addresses may be fetched")
        addresses.append(str(address))
    return _Target(url=parsed, host=host, port=port, addresses=tuple(addresses), literal=literal is not None)


def _normalised_domains(domains: tuple[str, ...]) -> Iterator[str]:
    for domain in domains:
        cleaned = domain.strip().strip(".").lower()
        try:
            yield cleaned.encode("idna").decode("ascii")
        except UnicodeError:
            yield cleaned


def _display(url: httpx.URL) -> str:
    """The URL for a reason or a log line: no user info, query or fragment (presigned URLs carry secrets there)."""
    try:
        host = url.raw_host.decode("ascii")
    except UnicodeDecodeError:
        host = "?"
    host = f"[{host}]" if ":" in host else host
    port = f":{url.port}" if url.port else ""
    return _shorten(f"{url.scheme}://{host}{port}{url.path}")


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


# ---------------------------------------------------------------------------------------------------------------
# Exchanges
# ---------------------------------------------------------------------------------------------------------------


def fetch(url: str, policy: OutboundPolicy, *, resolve: Resolver = system_resolver,
          transport: httpx.BaseTransport | None = None) -> Fetched:
    """GETs `url` (redirects followed and re-checked) and returns the body, at most policy.max_bytes."""
    deadline = time.monotonic() + policy.timeout_seconds
    with _exchange(url, "GET", b"", {}, policy, resolve, transport, deadline, follow=REDIRECT_STATUSES) as (
            target, response):
        data = _read_body(response, policy, deadline, _display(target.url))
        return Fetched(url=url, final_url=str(target.url), status=response.status_code,
                       content_type=response.headers.get("content-type", ""), data=data)


def post_json(url: str, body: bytes, headers: Mapping[str, str], policy: OutboundPolicy, *,
              resolve: Resolver = system_resolver, transport: httpx.BaseTransport | None = None) -> int:
    """POSTs a JSON `body` (a webhook) and returns the status. Only 307/308 redirects are followed (they keep
    the method and body), each re-checked; credentials are not forwarded to another origin."""
    deadline = time.monotonic() + policy.timeout_seconds
    all_headers = {"content-type": "application/json"}
    all_headers |= {name.lower(): value for name, value in headers.items()
                    if name.lower() not in _CALLER_MAY_NOT_SET}
    with _exchange(url, "POST", body, all_headers, policy, resolve, transport, deadline,
                   follow=METHOD_PRESERVING_REDIRECTS) as (_target, response):
        return response.status_code


@contextmanager
def _exchange(url: str, method: str, body: bytes, headers: dict[str, str], policy: OutboundPolicy,
              resolve: Resolver, transport: httpx.BaseTransport | None, deadline: float,
              follow: frozenset[int]) -> Iterator[tuple[_Target, httpx.Response]]:
    """Yields the final response (status < 400, not a followed redirect) still streaming its body."""
    import httpx

    current: str | httpx.URL = url
    first_origin: tuple[str, str, int] | None = None
    for _hop in range(policy.max_redirects + 1):
        target = _vet(current, policy, resolve)
        first_origin = first_origin or target.origin
        hop_headers = headers if target.origin == first_origin else {
            name: value for name, value in headers.items() if name not in _CREDENTIAL_HEADERS}
        response, close = _send(target, method, body, hop_headers, transport, deadline)
        try:
            status = response.status_code
            if status in follow:
                location = response.headers.get("location", "").strip()
                if not location:
                    raise OutboundFailed("bad_redirect", f"{_display(target.url)} answered {status} without a "
                                                         "Location", status)
                try:
                    current = target.url.join(location)
                except (httpx.InvalidURL, ValueError) as error:
                    raise OutboundRefused("invalid_url", f"{_display(target.url)} redirects to an invalid URL "
                                                         f"{_shorten(location)!r}") from error
                continue
            if status >= 400:
                snippet = _error_snippet(response, deadline)
                raise OutboundFailed("http_status", f"{_display(target.url)} answered {status}"
                                                    + (f": {snippet}" if snippet else ""), status)
            yield target, response
            return
        except httpx.TimeoutException as error:
            raise OutboundFailed("timeout", f"{_display(target.url)} did not answer within "
                                            f"{policy.timeout_seconds:g} s") from error
        except httpx.HTTPError as error:
            raise OutboundFailed("transport_error", f"{_display(target.url)}: {type(error).__name__}: "
                                                    f"{_shorten(str(error))}") from error
        finally:
            close()
    raise OutboundFailed("too_many_redirects", f"{_display(httpx.URL(url))} redirected more than "
                                               f"{policy.max_redirects} times")


def _send(target: _Target, method: str, body: bytes, headers: dict[str, str],
          transport: httpx.BaseTransport | None, deadline: float) -> tuple[httpx.Response, Callable[[], None]]:
    """Sends one request to the first vetted address that accepts a connection; returns the streaming response
    and what closes it (and the transport, when this function created it)."""
    import httpx

    shown = _display(target.url)
    request_headers = {"host": target.url.netloc.decode("ascii"), "user-agent": USER_AGENT,
                       "accept-encoding": "gzip, deflate", **headers}
    last_error: Exception | None = None
    for address in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        extensions: dict[str, Any] = {"timeout": httpx.Timeout(remaining).as_dict()}
        if not target.literal:
            extensions["sni_hostname"] = target.host  # TLS names and verifies the host, not the pinned address
        request = httpx.Request(method, target.url.copy_with(host=address), headers=request_headers,
                                content=body or None, extensions=extensions)
        if transport is None:
            from sgd.net.pinned import PinnedTransport

            hop_transport: httpx.BaseTransport = PinnedTransport(allowed_ips=target.addresses, deadline=deadline)
        else:
            hop_transport = transport
        owned = transport is None
        try:
            response = hop_transport.handle_request(request)
        except httpx.ConnectError as error:
            if owned:
                hop_transport.close()
            last_error = error
            if "ssl" in str(error).lower() or "certificate" in str(error).lower():
                raise OutboundFailed("tls_failed", f"{shown}: the TLS handshake failed ({_shorten(str(error))})") \
                    from error
            continue
        except httpx.TimeoutException as error:
            if owned:
                hop_transport.close()
            raise OutboundFailed("timeout", f"{shown} did not answer in time") from error
        except httpx.HTTPError as error:
            if owned:
                hop_transport.close()
            raise OutboundFailed("transport_error", f"{shown}: {type(error).__name__}: {_shorten(str(error))}") \
                from error
        response.request = request

        def close(response: httpx.Response = response, hop_transport: httpx.BaseTransport = hop_transport,
                  owned: bool = owned) -> None:
            response.close()
            if owned:
                hop_transport.close()

        return response, close
    if last_error is None:
        raise OutboundFailed("timeout", f"{shown} did not answer in time")
    raise OutboundFailed("connect_failed", f"could not connect to {target.host} "
                                           f"({', '.join(target.addresses)}): {_shorten(str(last_error))}") \
        from last_error


def _read_body(response: httpx.Response, policy: OutboundPolicy, deadline: float, shown: str) -> bytes:
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise OutboundFailed("too_large", f"{_shorten(shown)} is {int(declared):,} bytes; the limit is "
                                          f"{policy.max_bytes:,}", response.status_code)
    raw_chunks, encoded = _body_chunks(response)
    inflater = _Inflater.for_encoding(response.headers.get("content-encoding", ""), policy.max_bytes, shown) \
        if encoded else None
    chunks: list[bytes] = []
    size = 0
    for raw in raw_chunks:
        piece = inflater.feed(raw) if inflater else raw
        size += len(piece)
        if size > policy.max_bytes:
            raise OutboundFailed("too_large", f"{_shorten(shown)} is larger than the limit of "
                                              f"{policy.max_bytes:,} bytes", response.status_code)
        chunks.append(piece)
        if time.monotonic() > deadline:
            raise OutboundFailed("timeout", f"{_shorten(shown)} did not finish within {policy.timeout_seconds:g} s")
    if inflater:
        inflater.finish()
    return b"".join(chunks)


def _body_chunks(response: httpx.Response) -> tuple[Iterator[bytes], bool]:
    """The body as it arrives and whether it is still content-encoded. A transport that answered with an
    in-memory body (httpx.MockTransport in tests) has had it read and decoded already."""
    import httpx

    try:
        content = response.content
    except httpx.ResponseNotRead:
        return response.iter_raw(), True
    return iter((content,)), False


def _error_snippet(response: httpx.Response, deadline: float) -> str:
    """At most ERROR_SNIPPET_CHARS printable characters of an error body, for the reason."""
    import httpx

    raw_chunks, encoded = _body_chunks(response)
    if encoded and response.headers.get("content-encoding", "").strip().lower() not in ("", "identity"):
        return ""  # compressed: not worth inflating for a reason line
    collected = b""
    try:
        for raw in raw_chunks:
            collected += raw
            if len(collected) >= 4 * ERROR_SNIPPET_CHARS or time.monotonic() > deadline:
                break
    except httpx.HTTPError:
        pass
    text = " ".join(collected.decode("utf-8", "replace").split())
    text = "".join(character for character in text if character.isprintable())
    return text[:ERROR_SNIPPET_CHARS]


class _Inflater:
    """gzip/deflate decoding that never produces more than the byte limit (+1) however the data is crafted."""

    def __init__(self, wbits: int, limit: int, shown: str, raw_deflate_fallback: bool):
        self._decoder = zlib.decompressobj(wbits)
        self._limit = limit
        self._shown = shown
        self._fallback = raw_deflate_fallback
        self._produced = 0
        self._started = False

    @classmethod
    def for_encoding(cls, header: str, limit: int, shown: str) -> _Inflater | None:
        encoding = header.strip().lower()
        if encoding in ("", "identity"):
            return None
        if encoding in ("gzip", "x-gzip"):
            return cls(16 + zlib.MAX_WBITS, limit, shown, raw_deflate_fallback=False)
        if encoding == "deflate":
            return cls(zlib.MAX_WBITS, limit, shown, raw_deflate_fallback=True)
        raise OutboundFailed("unsupported_encoding", f"{_shorten(shown)} sent content encoding {encoding!r}, "
                                                     "which was not requested")

    def feed(self, data: bytes) -> bytes:
        try:
            output = self._decoder.decompress(data, self._limit - self._produced + 1)
        except zlib.error as error:
            if self._fallback and not self._started:  # servers that send raw deflate without the zlib header
                self._decoder = zlib.decompressobj(-zlib.MAX_WBITS)
                self._fallback = False
                return self.feed(data)
            raise OutboundFailed("bad_encoding", f"{_shorten(self._shown)}: the compressed body is damaged") \
                from error
        self._started = True
        self._produced += len(output)
        if self._produced > self._limit:
            raise OutboundFailed("too_large", f"{_shorten(self._shown)} expands beyond the limit of "
                                              f"{self._limit:,} bytes")
        return output

    def finish(self) -> None:
        if not self._decoder.eof and self._started:
            raise OutboundFailed("bad_encoding", f"{_shorten(self._shown)}: the compressed body is truncated")
