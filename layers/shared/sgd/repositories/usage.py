"""The org budget and the usage ledger, in the usage table:

    pk org#{org}                    sk budget#{day}        today's committed, reserved and spent micro-dollars, calls
    pk org#{org}                    sk budget#limit        the org's own daily limit (a larger plan), when it has one
    pk tenant partition             sk usage#{iso}#{id}    one record per gateway call: task, cost, the calls made

Amounts are integer micro-dollars so that DynamoDB's ADD is exact. The reservation's condition makes concurrent
calls safe: committed = spent + reserved never passes the limit, whatever the interleaving, as long as every call
is billed within the reservation it drew from. A call billed over its cap is recorded on the day's item
(`halted_at_limit_micros`, `over_cap_micros`, `over_cap_calls`); from then on every reservation of that day is
refused until the org's limit is raised above the limit it happened at (or the day rolls over).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sgd.adapters.tables import Condition, ItemTable, Update, absent, le, lt
from sgd.tenancy import Tenant

ORG_LIMIT_SK = "budget#limit"
MICROS_PER_USD = 1_000_000


def to_micros(usd: float) -> int:
    return round(usd * MICROS_PER_USD)


@dataclass(frozen=True, slots=True)
class BudgetDay:
    spent_micros: int
    reserved_micros: int
    calls: int
    halted_at_limit_micros: int | None = None  # a call was billed over its cap while the limit was this
    over_cap_micros: int = 0  # what calls were billed beyond their caps today
    over_cap_calls: int = 0

    def halted(self, limit_micros: int) -> bool:
        """Calls stay stopped until the limit is raised above the one the over-cap bill happened at."""
        return self.halted_at_limit_micros is not None and limit_micros <= self.halted_at_limit_micros


@dataclass(frozen=True, slots=True)
class UsageEntry:
    at: str
    task: str
    cost_usd: float
    calls: list[dict[str, Any]]  # the gateway's CallRecord audits


class BudgetLedger:
    def __init__(self, table: ItemTable) -> None:
        self._table = table

    @staticmethod
    def _day_key(org: str, day: str) -> tuple[str, str]:
        return Tenant.org_partition_key(org), f"budget#{day}"

    def org_limit_micros(self, org: str) -> int | None:
        """The org's own daily limit, or None when the policy's default applies."""
        item = self._table.get(Tenant.org_partition_key(org), ORG_LIMIT_SK)
        return to_micros(float(item["daily_usd"])) if item is not None and "daily_usd" in item else None

    def set_org_limit(self, org: str, daily_usd: float) -> None:
        self._table.put({"pk": Tenant.org_partition_key(org), "sk": ORG_LIMIT_SK, "daily_usd": daily_usd})

    @staticmethod
    def _not_halted(limit_micros: int) -> Condition:
        return absent("halted_at_limit_micros") | lt("halted_at_limit_micros", limit_micros)

    def reserve(self, org: str, day: str, micros: int, *, limit_micros: int, expires_at: int) -> bool:
        """Adds `micros` to today's committed and reserved amounts, only while committed stays within the limit
        and no over-cap bill has stopped the org's calls at this limit."""
        return self._table.update(
            *self._day_key(org, day),
            Update(add={"committed_micros": micros, "reserved_micros": micros},
                   set={"limit_micros": limit_micros}, set_if_absent={"expires_at": expires_at}),
            when=(absent("committed_micros") | le("committed_micros", limit_micros - micros))
            & self._not_halted(limit_micros)) is not None

    def may_call(self, org: str, day: str, *, limit_micros: int) -> bool:
        """Before a call drawn from an existing reservation: False once an over-cap bill stopped the org's calls."""
        return self._table.update(*self._day_key(org, day), Update(add={"draws": 1}),
                                  when=self._not_halted(limit_micros)) is not None

    def settle(self, org: str, day: str, reserved_micros: int, actual_micros: int, *,
               over_cap_micros: int = 0, limit_micros: int = 0) -> int:
        """Replaces (part of) a reservation by the real cost; returns the day's spend after it. A cost over the
        call's cap (over_cap_micros > 0) is recorded and stops the org's calls at `limit_micros`."""
        change = Update(add={"committed_micros": actual_micros - reserved_micros, "reserved_micros": -reserved_micros,
                             "spent_micros": actual_micros, "calls": 1}
                        | ({"over_cap_micros": over_cap_micros, "over_cap_calls": 1} if over_cap_micros > 0 else {}),
                        set={"halted_at_limit_micros": limit_micros} if over_cap_micros > 0 else {})
        updated = self._table.update(*self._day_key(org, day), change)
        return int((updated or {}).get("spent_micros", 0))

    def release(self, org: str, day: str, reserved_micros: int) -> None:
        self._table.update(*self._day_key(org, day), Update(add={"committed_micros": -reserved_micros,
                                                                 "reserved_micros": -reserved_micros}))

    def day(self, org: str, day: str) -> BudgetDay:
        item = self._table.get(*self._day_key(org, day)) or {}
        halted = item.get("halted_at_limit_micros")
        return BudgetDay(int(item.get("spent_micros", 0)), int(item.get("reserved_micros", 0)),
                         int(item.get("calls", 0)), int(halted) if halted is not None else None,
                         int(item.get("over_cap_micros", 0)), int(item.get("over_cap_calls", 0)))


class UsageLedger:
    def __init__(self, table: ItemTable) -> None:
        self._table = table

    def record(self, tenant: Tenant, *, at: datetime, task: str, calls: list[dict[str, Any]], cost_micros: int,
               expires_at: int) -> None:
        """One record per gateway call, under the project's partition: what was called and what it cost."""
        self._table.put({"pk": tenant.partition_key, "sk": f"usage#{at.isoformat()}#{uuid.uuid4().hex[:8]}",
                         "task": task, "cost_micros": cost_micros, "expires_at": expires_at,
                         "calls": json.dumps(calls, separators=(",", ":"))})

    def on_day(self, tenant: Tenant, day: str, *, limit: int = 100) -> list[UsageEntry]:
        """One day's records of the project, newest first."""
        items = self._table.query(tenant.partition_key, sk_prefix=f"usage#{day}", newest_first=True, limit=limit)
        return [UsageEntry(at=item["sk"].split("#")[1], task=item["task"],
                            cost_usd=int(item["cost_micros"]) / MICROS_PER_USD, calls=json.loads(item["calls"]))
                for item in items]
