"""Builds each function's FastAPI app with the project's one error shape and request-id handling."""

from __future__ import annotations

import time
import uuid
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sgd import __version__
from sgd.contracts.common import ErrorResponse
from sgd.errors import ApiError, error_body
from sgd.observability import logger

# FastAPI's own Body() metadata trips a pydantic warning on every cold start; it is FastAPI's, not ours.
warnings.filterwarnings("ignore", message=".*'alias' attribute with value 'body'.*")

ERROR_STATUSES = {
    400: "Malformed request",
    401: "Missing or invalid token",
    403: "Token lacks the org claim or access",
    404: "Not found (or owned by another org)",
    409: "Conflict",
    412: "Stale If-Match version",
    422: "Validation failed; details lists each field",
    429: "Budget or rate limit exceeded; see Retry-After",
    500: "Internal error; quote request_id",
    501: "Contract defined, pipeline not built yet",
    502: "Model provider failed",
    503: "Dependency unavailable",
    504: "Model provider or dependency timed out",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text} for status, text in ERROR_STATUSES.items()
}
Middleware = Iterable[tuple[type, dict[str, Any]]]  # (ASGI middleware class, its options), innermost first
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def request_id_of(scope: Scope) -> str:
    """API Gateway's request id (what clients see), else a local one for direct ASGI calls."""
    state = scope.setdefault("state", {})
    if "request_id" not in state:
        context = (scope.get("aws.event") or {}).get("requestContext") or {}
        state["request_id"] = context.get("requestId") or f"local-{uuid.uuid4().hex}"
    return state["request_id"]


def _error_response(status: int, code: str, message: str, scope: Scope, details: Any = None,
                    headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, request_id_of(scope), details), status, headers=headers)


def _validation_details(error: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(part) for part in item["loc"]), "message": item["msg"], "type": item["type"]}
        for item in error.errors()
    ]


def api_error_response(error: ApiError, scope: Scope) -> JSONResponse:
    """An ApiError in the one error shape (also for middleware, which runs outside the app's error handlers)."""
    if error.status_code >= 500:
        logger.error("request failed", extra={"code": error.code, "status": error.status_code})
    return _error_response(error.status_code, error.code, error.message, scope, error.details, error.headers)


async def _on_api_error(request: Request, error: ApiError) -> JSONResponse:
    return api_error_response(error, request.scope)


async def _on_validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    return _error_response(422, "validation_error", "request validation failed: fix the fields in details",
                           request.scope, _validation_details(error))


async def _on_http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(error.status_code, "http_error")
    return _error_response(error.status_code, code, str(error.detail), request.scope,
                           headers=getattr(error, "headers", None))


class RequestContextMiddleware:
    """Adds x-request-id to every response and turns unexpected exceptions into the 500 error shape."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        status = 0
        began = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("unhandled error")
            if status:
                raise
            response = _error_response(500, "internal_error",
                                       "internal error; quote request_id when reporting it", scope)
            await response(scope, receive, send_with_id)
        # One line per request, tagged with org/project by the identity dependency (never the body).
        logger.info("request handled", extra={"method": scope["method"], "path": scope["path"], "status": status,
                                              "duration_ms": round((time.perf_counter() - began) * 1000, 2)})


def create_api(*, title: str, routers: Iterable[APIRouter], state: Mapping[str, Any],
               middleware: Middleware = ()) -> FastAPI:
    """One function's app: its routers, the shared error handlers, no docs routes (API Gateway owns routing).

    `state` is what the routes' dependencies read from app.state: the services the composition root built, and
    `org_claim`, the JWT claim that names the caller's org. `middleware` (class, options) runs inside the
    request-context middleware, before the routes: the per-org rate limit."""
    app = FastAPI(title=title, version=__version__, docs_url=None, redoc_url=None, openapi_url=None,
                  responses=ERROR_RESPONSES)
    for name, value in state.items():
        setattr(app.state, name, value)
    for router in routers:
        app.include_router(router)
    app.add_exception_handler(ApiError, _on_api_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http_error)  # type: ignore[arg-type]
    for middleware_class, options in middleware:
        app.add_middleware(middleware_class, **options)
    app.add_middleware(RequestContextMiddleware)
    return app
