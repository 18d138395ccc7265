"""Time, behind an interface so that TTLs, expiries and budgets are testable."""

from __future__ import annotations

import time
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
