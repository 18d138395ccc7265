"""The transport under sgd.net.outbound: HTTP/1.1 over httpcore, connecting only to vetted IP addresses and
bounding every socket operation (connect, TLS handshake, each read and write) by one deadline for the whole
fetch, so a server that drips bytes cannot stretch a fetch past its timeout.

httpx's own HTTPTransport accepts no network backend, so this is the same thin adapter from httpx requests
to an httpcore connection pool, with a backend that enforces the deadline and the address pin. Imported
lazily by sgd.net.outbound (httpx costs ~120 ms of cold start).
"""

from __future__ import annotations

import ssl
import time
import typing
from collections.abc import Iterable, Iterator

import httpcore
import httpx

_ERRORS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (  # most specific first
    (httpcore.ConnectTimeout, httpx.ConnectTimeout), (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout), (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException), (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError), (httpcore.WriteError, httpx.WriteError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError), (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol), (httpcore.NetworkError, httpx.NetworkError),
)


def _as_httpx_error(error: Exception) -> Exception:
    for core_type, httpx_type in _ERRORS:
        if isinstance(error, core_type):
            return httpx_type(str(error) or core_type.__name__)
    return error


def default_ssl_context() -> ssl.SSLContext:
    """Certificate and host-name verification on, as httpx does by default."""
    return httpx.create_ssl_context()


class PinnedTransport(httpx.BaseTransport):
    """Sends requests whose URL host is one of `allowed_ips`; anything else is refused at connect time.

    The caller keeps the real host name in the Host header and in the `sni_hostname` request extension, so
    TLS still sends SNI for, and verifies the certificate against, the host name while the TCP connection
    goes to the address that was checked (no second DNS lookup, hence no DNS rebinding window).
    """

    def __init__(self, *, allowed_ips: Iterable[str], deadline: float, ssl_context: ssl.SSLContext | None = None):
        backend = _DeadlineBackend(deadline, frozenset(allowed_ips))
        self._pool = httpcore.ConnectionPool(ssl_context=ssl_context or default_ssl_context(), max_connections=4,
                                             http1=True, http2=False, retries=0, network_backend=backend)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host, port=request.url.port,
                             target=request.url.raw_path),
            headers=request.headers.raw,
            content=typing.cast(Iterable[bytes], request.stream),
            extensions=request.extensions,
        )
        try:
            core_response = self._pool.handle_request(core_request)
        except Exception as error:
            raise _as_httpx_error(error) from error
        return httpx.Response(status_code=core_response.status, headers=core_response.headers,
                              stream=_ResponseStream(typing.cast(Iterable[bytes], core_response.stream)),
                              extensions=core_response.extensions)

    def close(self) -> None:
        self._pool.close()


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]):
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._stream
        except Exception as error:
            raise _as_httpx_error(error) from error

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


def _bounded(timeout: float | None, deadline: float, error: type[Exception]) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise error("the fetch's overall timeout has passed")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, deadline: float, allowed_ips: frozenset[str]):
        self._deadline = deadline
        self._allowed_ips = allowed_ips
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[typing.Any] | None = None) -> httpcore.NetworkStream:
        if host.strip("[]") not in self._allowed_ips:
            raise httpcore.ConnectError(f"{host} is not an address that was checked for this request")
        stream = self._inner.connect_tcp(host.strip("[]"), port,
                                         timeout=_bounded(timeout, self._deadline, httpcore.ConnectTimeout),
                                         local_address=local_address, socket_options=socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[typing.Any] | None = None) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("outbound requests never use unix sockets")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: float):
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, self._deadline, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, self._deadline, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, self._deadline, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded), self._deadline)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)
