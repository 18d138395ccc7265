"""Per-org rate limits in front of every authenticated route: which class a route is in, and the ASGI middleware
that admits or refuses the request (429 with Retry-After and the IETF RateLimit headers; 503 when the limit store
is unreachable). A write never starts before it is admitted; a read runs while it is checked and its answer is
only sent if it was."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sgd.errors import ApiError
from sgd.http.app import api_error_response
from sgd.ratelimit import RateLimiter
from sgd.tenancy import is_identifier

# (method, first path segment) -> route class; any other GET is a read. /healthz carries no org: never limited.
_CLASSES = {("POST", "render"): "render", ("POST", "critique"): "critique", ("POST", "uploads"): "ingest",
            ("POST", "ingest"): "ingest", ("POST", "canon"): "ingest"}


def route_class(method: str, path: str) -> str | None:
    segment = path.strip("/").split("/", 1)[0]
    if segment in ("", "healthz"):
        return None
    return _CLASSES.get((method, segment), "reads")


def _org_of(scope: Scope, org_claim: str) -> str | None:
    event = scope.get("aws.event") or {}
    claims = ((((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}).get("claims")) or {}
    org = claims.get(org_claim)
    return org if isinstance(org, str) and is_identifier(org) else None  # else the route answers 401/403


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, org_claim: str) -> None:
        self.app = app
        self.limiter = limiter
        self.org_claim = org_claim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = route_class(scope["method"], scope["path"])
        org = _org_of(scope, self.org_claim) if route else None
        if route is None or org is None:
            await self.app(scope, receive, send)
            return
        checking = asyncio.ensure_future(asyncio.to_thread(self.limiter.check, org, route))
        held: list[Message] = []
        failed: Exception | None = None  # the read's own failure: reported only if the request is admitted
        if scope["method"] in ("GET", "HEAD"):
            # A read changes nothing, so it runs while its admission is checked (one DynamoDB round trip less on
            # the hot path); its answer is held back, and thrown away if the request is refused.
            async def hold(message: Message) -> None:
                held.append(message)

            try:
                await self.app(scope, receive, hold)
            except Exception as error:
                failed = error
        try:
            decision = await checking
            if decision is not None and not decision.allowed:
                raise self.limiter.refusal(org, decision)
        except ApiError as error:  # 429, or 503 when the store is unreachable: before any write happens
            await api_error_response(error, scope)(scope, receive, send)
            return
        extra = [(name.encode(), value.encode()) for name, value in (decision.headers() if decision else {}).items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).extend(extra)
            await send(message)

        if failed is not None:
            raise failed
        if held:
            for message in held:
                await send_with_headers(message)
            return
        await self.app(scope, receive, send_with_headers)
