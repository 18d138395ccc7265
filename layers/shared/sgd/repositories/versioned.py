"""The write condition of cache items that carry a version: a cache never goes back."""

from __future__ import annotations

from sgd.adapters.tables import Condition, absent, eq, lt


def only_if_newer(version: int, *, now: int | None = None) -> Condition:
    """Write unless the stored item has a higher version. With `now` (the item expires), the same version is
    rewritten once it has expired, since DynamoDB's TTL deletes lazily and an expired entry must be renewed."""
    condition = absent("pk") | lt("version", version)
    if now is not None:
        condition = condition | (eq("version", version) & lt("expires_at", now))
    return condition
