"""Time, behind an interface so that TTLs, expiries and budgets are testable."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, seconds: float) -> None:
        self._at = datetime.fromtimestamp(self._at.timestamp() + seconds, UTC)


def epoch_seconds(clock: Clock) -> int:
    return int(clock.now().timestamp())


def monotonic_ms() -> float:
    return time.perf_counter() * 1000


class Deadline:
    """When the current invocation must have answered by; model calls stop short of it (see the gateway)."""

    DEFAULT_MS = 28_000  # the functions' Timeout, for callers without a Lambda context

    def __init__(self, remaining_ms: float) -> None:
        self._expires_at_ms = monotonic_ms() + remaining_ms

    @classmethod
    def from_lambda_context(cls, context: object | None) -> Deadline:
        remaining: Callable[[], float] | None = getattr(context, "get_remaining_time_in_millis", None)
        return cls(float(remaining()) if callable(remaining) else cls.DEFAULT_MS)

    def remaining_ms(self) -> float:
        return self._expires_at_ms - monotonic_ms()
