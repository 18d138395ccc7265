"""Per-org request counters and limits, in the usage table (beside the org's budget):

    pk org#{org}    sk rate#{route class}#{window start}    requests admitted in that window (TTL: two windows)
    pk org#{org}    sk rate#limits                          the org's own limits per route class, when it has them

One conditional ADD per request admits it: the count only grows while it stays under the allowance the caller
computed, so concurrent Lambda instances can never admit more than the limit between them.
"""

from __future__ import annotations

from sgd.adapters.tables import ItemTable, Update, absent, lt
from sgd.tenancy import Tenant

ORG_LIMITS_SK = "rate#limits"


class RateLimitCounters:
    def __init__(self, table: ItemTable) -> None:
        self._table = table

    @staticmethod
    def _window_key(org: str, route_class: str, window_start: int) -> tuple[str, str]:
        return Tenant.org_partition_key(org), f"rate#{route_class}#{window_start}"

    def org_limits(self, org: str) -> dict[str, int]:
        """The org's own limits (requests per window) by route class; empty when the defaults apply."""
        item = self._table.get(Tenant.org_partition_key(org), ORG_LIMITS_SK) or {}
        return {name: int(value) for name, value in (item.get("limits") or {}).items()}

    def set_org_limits(self, org: str, limits: dict[str, int]) -> None:
        self._table.put({"pk": Tenant.org_partition_key(org), "sk": ORG_LIMITS_SK, "limits": dict(limits)})

    def count(self, org: str, route_class: str, window_start: int) -> int:
        item = self._table.get(*self._window_key(org, route_class, window_start)) or {}
        return int(item.get("count", 0))

    def limits_and_count(self, org: str, route_class: str, window_start: int) -> tuple[dict[str, int], int]:
        """The org's own limits and a window's count, in one round trip (an instance's first request of an org)."""
        limits_key = (Tenant.org_partition_key(org), ORG_LIMITS_SK)
        window_key = self._window_key(org, route_class, window_start)
        found = self._table.get_many([limits_key, window_key])
        limits = found.get(limits_key, {}).get("limits") or {}
        return ({name: int(value) for name, value in limits.items()},
                int(found.get(window_key, {}).get("count", 0)))

    def admit(self, org: str, route_class: str, window_start: int, *, below: int, expires_at: int,
              amount: int = 1) -> int | None:
        """Counts `amount` more requests in the window while the count stays at or under `below`; returns the new
        count, or None (nothing written) when they do not fit."""
        room = below - amount + 1  # the count before must be under this
        if room <= 0:
            return None
        updated = self._table.update(
            *self._window_key(org, route_class, window_start),
            Update(add={"count": amount}, set_if_absent={"expires_at": expires_at}),
            when=absent("count") | lt("count", room))
        return int(updated["count"]) if updated is not None else None
