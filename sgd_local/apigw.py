"""API Gateway HTTP API (payload format 2.0): requests in, Lambda proxy results out."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from sgd_local.template import LOCAL_ACCOUNT, Route

TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded",
              "application/javascript", "application/problem+json")
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's request payload quota
INTEGRATION_TIMEOUT_S = 30.0  # an HTTP API waits this long for its integration, time spent queued included


@dataclass
class HttpRequest:
    method: str
    path: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names, repeated values comma-joined
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    arrived: float = field(default_factory=time.monotonic)  # when the gateway had the whole request
    client_gone: Callable[[], bool] | None = None  # whether the client closed its connection since


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.body)


def gateway_error(status: int, message: str, headers: dict[str, str] | None = None) -> HttpResponse:
    """API Gateway's own answers (401, 404, 413, 500, 503) come in its shape, not the function's."""
    return HttpResponse(status, {"content-type": "application/json"} | (headers or {}),
                        json.dumps({"message": message}).encode())


# API Gateway's own answers under load (HTTP API): the stage throttle, and an integration that did not answer in
# time (queued behind busy instances, or slow) or could not take the request at all.
def throttled() -> HttpResponse:
    return gateway_error(429, "Too Many Requests")


def unavailable() -> HttpResponse:
    return gateway_error(503, "Service Unavailable")


class StageThrottle:
    """The stage's ThrottlingRateLimit/ThrottlingBurstLimit: a token bucket of `burst` tokens refilled at `rate`
    per second, shared by every route as the template's DefaultRouteSettings are."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens = float(burst)
        self._at = clock()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0 and self.burst > 0

    def admit(self) -> bool:
        if not self.enabled:
            return True
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


def build_event(request: HttpRequest, route: Route, path_parameters: dict[str, str],
                claims: dict[str, str] | None, stage: str = "$default") -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    is_text = not request.body or content_type.startswith(TEXT_TYPES)
    body = request.body.decode("utf-8", "replace") if is_text else base64.b64encode(request.body).decode()
    query = dict(parse_qsl(request.query, keep_blank_values=True)) if request.query else None
    now = time.time()
    headers = {name: value for name, value in request.headers.items() if name != "cookie"}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.path,
        "rawQueryString": request.query,
        "headers": headers,
        "requestContext": {
            "accountId": LOCAL_ACCOUNT,
            "apiId": "local",
            "domainName": request.headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {"method": request.method, "path": request.path, "protocol": "HTTP/1.1",
                     "sourceIp": request.source_ip, "userAgent": request.headers.get("user-agent", "")},
            "requestId": base64.b32encode(uuid.uuid4().bytes)[:16].decode().rstrip("="),
            "routeKey": route.route_key,
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": bool(request.body) and not is_text,
    }
    if "cookie" in request.headers:
        event["cookies"] = [c.strip() for c in request.headers["cookie"].split(";") if c.strip()]
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if request.body:
        event["body"] = body
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return event


def to_response(result: Any) -> HttpResponse:
    """Maps a Lambda proxy result (format 2.0) to HTTP, including the no-statusCode shorthand."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return HttpResponse(200, {"content-type": "application/json"}, json.dumps(result).encode())
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    headers = {name.lower(): str(value) for name, value in (result.get("headers") or {}).items()}
    return HttpResponse(int(result["statusCode"]), headers, raw, list(result.get("cookies") or []))
