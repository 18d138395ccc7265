"""The composition root's adapters over the in-memory stand-ins (sgd.adapters.memory), for unit tests."""

from __future__ import annotations

from datetime import UTC, datetime

from sgd.adapters.clock import Clock, FixedClock
from sgd.composition import Adapters


def memory_adapters(clock: Clock | None = None) -> Adapters:
    """Adapters with every table and the bucket in memory; nothing reaches AWS (a boto3 client is never made)."""

    return Adapters.in_memory(clock or FixedClock(datetime(2026, 12, 1, tzinfo=UTC)))
