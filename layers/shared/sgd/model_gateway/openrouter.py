"""OpenRouter's chat-completions API over one async httpx connection pool, reused across warm invocations.

This module speaks HTTP and classifies what comes back; what to do about a failure (retry, fall back, stop)
is decided by sgd.model_gateway.routing from the failure's kind.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx

from sgd import __version__

FailureKind = Literal[
    "timeout", "transport", "rate_limited", "server_error", "invalid_response",  # retryable
    "model_unavailable", "invalid_output",  # this model won't do: try the next one
    "bad_request", "auth", "payment_required", "moderation", "refused",  # stop at once
]
RETRY_SAME_MODEL: frozenset[str] = frozenset({"timeout", "transport", "rate_limited", "server_error",
                                              "invalid_response"})
NEXT_MODEL: frozenset[str] = RETRY_SAME_MODEL | {"model_unavailable", "invalid_output"}

_STATUS_KINDS: dict[int, FailureKind] = {
    400: "bad_request", 401: "auth", 402: "payment_required", 403: "moderation", 404: "model_unavailable",
    408: "timeout", 413: "bad_request", 422: "bad_request", 429: "rate_limited",
}
_MESSAGE_LIMIT = 300
_KEY_LIKE = re.compile(r"\bsk-[A-Za-z0-9_-]{8,}")


def redact(text: str, secret: str) -> str:
    """Provider messages end up in logs and error bodies: no key, ours or any key-shaped token, survives."""
    if secret:
        text = text.replace(secret, "[redacted]")
    return _KEY_LIKE.sub("[redacted]", text)


class AttemptFailure(Exception):
    """One failed request to one model, classified."""

    def __init__(self, kind: FailureKind, message: str, *, status: int | None = None,
                 retry_after_ms: float | None = None, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after_ms = retry_after_ms
        self.errors = errors or []

    @property
    def retry_same_model(self) -> bool:
        return self.kind in RETRY_SAME_MODEL

    @property
    def try_next_model(self) -> bool:
        return self.kind in NEXT_MODEL


@dataclass(frozen=True, slots=True)
class Completion:
    content: str | None
    images: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reported_cost_usd: float | None = None
    finish_reason: str | None = None

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def retry_after_ms(value: str | None) -> float | None:
    """Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value) * 1000)
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value).timestamp() - time.time()) * 1000)
    except (TypeError, ValueError):
        return None


def _status_kind(status: int) -> FailureKind:
    if status in _STATUS_KINDS:
        return _STATUS_KINDS[status]
    return "server_error" if status >= 500 else "bad_request"


def _error_failure(error: Any, status: int, headers: httpx.Headers) -> AttemptFailure:
    error = error if isinstance(error, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else status
    message = str(error.get("message") or f"HTTP {status}")[:_MESSAGE_LIMIT]
    return AttemptFailure(_status_kind(code), message, status=code, retry_after_ms=retry_after_ms(
        headers.get("retry-after")))


_TEXT_PARTS = ("text", "output_text")


def _image_url(part: Any) -> str | None:
    """An image part's URL: {"type": "image_url", "image_url": {"url": ...}}, or the URL as a plain string."""
    if not isinstance(part, dict) or part.get("type", "image_url") != "image_url":
        return None
    image_url = part.get("image_url")
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    return url if isinstance(url, str) and url else None


def _read_completion(body: Any) -> Completion:
    try:
        choice = body["choices"][0]
        message = choice.get("message") or {}
    except (KeyError, IndexError, TypeError) as missing:
        raise AttemptFailure("invalid_response", "response has no choices[0].message") from missing
    finish_reason = choice.get("finish_reason")
    if choice.get("error") is not None or finish_reason == "error":
        # An error inside a 200 (the provider failed mid-generation): a provider error of the kind its code says,
        # with its message kept; never an empty answer (which would be "repaired" at a price).
        error = choice.get("error") if isinstance(choice.get("error"), dict) else {}
        code: int = error["code"] if isinstance(error.get("code"), int) else 502
        text = str(error.get("message") or "the provider reported an error in the answer")[:_MESSAGE_LIMIT]
        raise AttemptFailure(_status_kind(code), text, status=code)
    if message.get("refusal") or finish_reason == "content_filter":
        raise AttemptFailure("refused", str(message.get("refusal") or "the model's content filter stopped the "
                                            "answer")[:_MESSAGE_LIMIT])
    usage = body.get("usage") or {}
    cost = usage.get("cost")
    content = message.get("content")
    parts = content if isinstance(content, list) else []
    # Some providers answer with content parts (OpenAI's array form) rather than a string and `images`.
    images = [url for part in [*(message.get("images") or []), *parts] if (url := _image_url(part))]
    if parts:
        texts = [part.get("text") for part in parts if isinstance(part, dict) and part.get("type") in _TEXT_PARTS]
        content = "".join(text for text in texts if isinstance(text, str)) or None
    return Completion(
        content=content if isinstance(content, str) else None,
        images=images,
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        reported_cost_usd=float(cost) if isinstance(cost, int | float) else None,
        finish_reason=finish_reason,
    )


class OpenRouterClient:
    """POST /chat/completions. One AsyncClient per event loop: Mangum reuses one loop across invocations."""

    def __init__(self, base_url: str, api_key: Callable[[], str], *, forget_key: Callable[[], None] | None = None,
                 max_response_bytes: int = 32 * 1024 * 1024, max_connections: int = 20) -> None:
        self.base_url = base_url
        self._api_key = api_key
        self._forget_key = forget_key
        self.max_response_bytes = max_response_bytes
        self._limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            # A pool is bound to the loop that opened its connections; a new loop (tests, asyncio.run) needs its own.
            self._client = httpx.AsyncClient(
                base_url=self.base_url, limits=self._limits,
                headers={"HTTP-Referer": "https://sgd.dev", "X-Title": "Smart Graphic Designer",
                         "User-Agent": f"sgd/{__version__}"},
            )
            self._client_loop = loop
        return self._client

    async def complete(self, payload: dict[str, Any], *, timeout_s: float) -> Completion:
        """One request; raises AttemptFailure with a kind for everything but a usable completion."""
        api_key = self._api_key()
        try:
            return await self._redacted(payload, timeout_s, api_key)
        except AttemptFailure as failure:
            if failure.kind != "auth" or self._forget_key is None:
                raise
            rejected = failure
        # A 401 after the secret was rotated: warm functions still hold the old key. Re-read it once.
        self._forget_key()
        fresh_key = self._api_key()
        if fresh_key == api_key:
            raise rejected
        return await self._redacted(payload, timeout_s, fresh_key)

    async def _redacted(self, payload: dict[str, Any], timeout_s: float, api_key: str) -> Completion:
        try:
            return await self._complete(payload, timeout_s, api_key)
        except AttemptFailure as failure:
            failure.message = redact(failure.message, api_key)
            raise

    async def _complete(self, payload: dict[str, Any], timeout_s: float, api_key: str) -> Completion:
        try:
            # httpx's timeouts bound each socket operation; asyncio.timeout bounds the whole exchange, so a
            # provider dribbling bytes cannot hold the call past its deadline.
            async with asyncio.timeout(timeout_s):
                status, headers, raw = await self._exchange(payload, timeout_s, api_key)
        except (TimeoutError, httpx.TimeoutException) as error:
            raise AttemptFailure("timeout", f"no answer within {timeout_s:.1f} s") from error
        except httpx.TransportError as error:
            raise AttemptFailure("transport", f"connection failed: {type(error).__name__}") from error
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            if status >= 400:
                raise _error_failure(None, status, headers) from error
            raise AttemptFailure("invalid_response", "response body is not valid JSON") from error
        if status >= 400 or (isinstance(body, dict) and "error" in body):
            raise _error_failure(body.get("error") if isinstance(body, dict) else None, status, headers)
        return _read_completion(body)

    async def _exchange(self, payload: dict[str, Any], timeout_s: float,
                        api_key: str) -> tuple[int, httpx.Headers, bytes]:
        """POSTs and reads the body, refusing one larger than max_response_bytes before it is all in memory."""
        request = self._http().build_request(
            "POST", "/chat/completions", json=payload, headers={"Authorization": f"Bearer {api_key}"},
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0)))
        response = await self._http().send(request, stream=True)
        try:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self.max_response_bytes:
                    raise AttemptFailure("invalid_response",
                                         f"the response is larger than {self.max_response_bytes} bytes")
            return response.status_code, response.headers, bytes(body)
        finally:
            await response.aclose()
