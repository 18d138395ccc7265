"""The one error shape of the API: {"error": {"code", "message", "details"}, "request_id"}."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error the client can act on; handlers raise it and the HTTP layer renders it."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, details: Any = None, headers: dict[str, str] | None = None,
                 code: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code  # a more specific code than the class's, e.g. budget_exceeded for a 429
        self.message = message
        self.details = details
        self.headers = headers or {}


class BadRequest(ApiError):
    status_code, code = 400, "bad_request"


class Unauthorized(ApiError):
    status_code, code = 401, "unauthorized"


class Forbidden(ApiError):
    status_code, code = 403, "forbidden"


class NotFound(ApiError):
    status_code, code = 404, "not_found"


class Conflict(ApiError):
    status_code, code = 409, "conflict"


class PreconditionFailed(ApiError):
    status_code, code = 412, "precondition_failed"


class PayloadTooLarge(ApiError):
    status_code, code = 413, "payload_too_large"


class ValidationFailed(ApiError):
    status_code, code = 422, "validation_error"


class TooManyRequests(ApiError):
    status_code, code = 429, "rate_limited"


class NotImplementedYet(ApiError):
    """A route whose contract exists and validates input, but whose pipeline is not built yet."""

    status_code, code = 501, "not_implemented"


class ProviderError(ApiError):
    status_code, code = 502, "provider_error"


class ServiceUnavailable(ApiError):
    status_code, code = 503, "service_unavailable"


class UpstreamTimeout(ApiError):
    status_code, code = 504, "upstream_timeout"


def error_body(code: str, message: str, request_id: str, details: Any = None) -> dict[str, Any]:
    """The JSON body of every 4xx and 5xx response, across all functions."""
    return {"error": {"code": code, "message": message, "details": details}, "request_id": request_id}
