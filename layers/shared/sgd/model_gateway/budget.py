"""Per-org daily model budget and the usage ledger (stored by sgd.repositories.usage).

Every provider request reserves its worst case (the task's max_cost_usd) before it is sent, settles the real
cost after, and releases the reservation when it fails. The reservation is a conditional update, so concurrent
calls are safe: committed = spent + reserved never passes the limit, whatever the interleaving.
An org's limit is the policy's org_daily_usd unless the org has its own (e.g. for a larger plan).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sgd.adapters.clock import Clock, SystemClock
from sgd.adapters.tables import ItemTable
from sgd.errors import TooManyRequests
from sgd.observability import logger, metrics
from sgd.repositories.usage import MICROS_PER_USD, BudgetLedger, UsageEntry, UsageLedger, to_micros
from sgd.tenancy import Tenant

BUDGET_ITEM_DAYS = 35  # TTL of a day's budget item: a month of history for support questions
LEDGER_ITEM_DAYS = 400  # TTL of usage records: a year of invoices, plus disputes
ORG_LIMIT_CACHE_S = 60.0  # a changed limit reaches warm functions within a minute


class BudgetExceeded(TooManyRequests):
    code = "budget_exceeded"


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    day: str
    limit_usd: float
    spent_usd: float
    reserved_usd: float
    calls: int
    resets_at: datetime

    @property
    def remaining_usd(self) -> float:
        return max(0.0, round(self.limit_usd - self.spent_usd - self.reserved_usd, 6))


@dataclass(frozen=True, slots=True)
class Reservation:
    org: str
    day: str
    micros: int
    limit_micros: int


class UsageAccounting:
    """Reserve, settle and release against an org's daily budget; record every gateway call for billing."""

    def __init__(self, budgets: BudgetLedger, usage: UsageLedger, *, daily_limit_usd: float,
                 thresholds: tuple[float, ...], clock: Clock) -> None:
        self._budgets = budgets
        self._usage = usage
        self.default_limit_micros = to_micros(daily_limit_usd)
        self.thresholds = thresholds
        self._clock = clock
        self._org_limits: dict[str, tuple[int, float]] = {}  # org -> (limit, read at monotonic s)

    @classmethod
    def over(cls, usage_table: ItemTable, *, daily_limit_usd: float, thresholds: tuple[float, ...] = (),
             clock: Clock | None = None) -> UsageAccounting:
        """Accounting over the usage table, which holds both the budget and the usage ledger."""
        return cls(BudgetLedger(usage_table), UsageLedger(usage_table), daily_limit_usd=daily_limit_usd,
                   thresholds=thresholds, clock=clock or SystemClock())

    def _day(self) -> str:
        return self._clock.now().date().isoformat()

    def _next_reset(self) -> datetime:
        return (self._clock.now() + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)

    def _seconds_to_reset(self) -> int:
        return max(1, int((self._next_reset() - self._clock.now()).total_seconds()) + 1)

    def _expiry(self, days: int) -> int:
        return int((self._clock.now() + timedelta(days=days)).timestamp())

    async def limit_micros(self, org: str) -> int:
        """The org's own daily limit or the policy's default; re-read after a minute."""
        cached = self._org_limits.get(org)
        if cached and time.monotonic() - cached[1] < ORG_LIMIT_CACHE_S:
            return cached[0]
        own = await asyncio.to_thread(self._budgets.org_limit_micros, org)
        limit = own if own is not None else self.default_limit_micros
        self._org_limits[org] = (limit, time.monotonic())
        return limit

    async def set_org_limit(self, org: str, daily_usd: float) -> None:
        """An operator's override of one org's daily limit (its plan); the policy's limit is the default."""
        await asyncio.to_thread(self._budgets.set_org_limit, org, daily_usd)
        self._org_limits.pop(org, None)

    async def reserve(self, tenant: Tenant, usd: float) -> Reservation:
        """Holds usd of today's budget, or raises BudgetExceeded (429, Retry-After = seconds to UTC midnight)."""
        limit = await self.limit_micros(tenant.org)
        reservation = Reservation(tenant.org, self._day(), to_micros(usd), limit)
        if reservation.micros > limit:
            raise self._exhausted(reservation)
        held = await asyncio.to_thread(self._budgets.reserve, reservation.org, reservation.day, reservation.micros,
                                       limit_micros=limit, expires_at=self._expiry(BUDGET_ITEM_DAYS))
        if not held:
            raise self._exhausted(reservation)
        return reservation

    def _exhausted(self, reservation: Reservation) -> BudgetExceeded:
        retry_after = self._seconds_to_reset()
        limit_usd = reservation.limit_micros / MICROS_PER_USD
        logger.warning("budget exhausted", extra={"org": reservation.org, "day": reservation.day,
                                                  "limit_usd": limit_usd})
        metrics.add_metric(name="BudgetRejected", unit="Count", value=1)
        return BudgetExceeded(
            f"the org's daily model budget of ${limit_usd:.2f} is used up; it resets at 00:00 UTC",
            headers={"Retry-After": str(retry_after)}, details={"limit_usd": limit_usd, "retry_after_s": retry_after},
        )

    async def settle(self, reservation: Reservation, cost_usd: float) -> None:
        """Replaces the reservation by the real cost, and emits each budget threshold the spend crosses."""
        actual = to_micros(cost_usd)
        spent_after = await asyncio.to_thread(self._budgets.settle, reservation.org, reservation.day,
                                              reservation.micros, actual)
        self._emit_crossed_thresholds(reservation, spent_after - actual, spent_after)

    async def release(self, reservation: Reservation) -> None:
        await asyncio.to_thread(self._budgets.release, reservation.org, reservation.day, reservation.micros)

    def _emit_crossed_thresholds(self, reservation: Reservation, before: int, after: int) -> None:
        # Each settle sees its own before/after from one atomic update, so every crossing is emitted exactly once.
        for threshold in self.thresholds:
            mark = threshold * reservation.limit_micros
            if before < mark <= after:
                percent = round(threshold * 100)
                logger.warning("budget threshold crossed", extra={
                    "org": reservation.org, "day": reservation.day, "threshold_pct": percent,
                    "spent_usd": after / MICROS_PER_USD, "limit_usd": reservation.limit_micros / MICROS_PER_USD})
                metrics.add_metric(name=f"BudgetThreshold{percent}Crossed", unit="Count", value=1)

    async def status(self, org: str) -> BudgetStatus:
        """Today's budget of the org, read consistently."""
        day = self._day()
        limit = await self.limit_micros(org)
        today = await asyncio.to_thread(self._budgets.day, org, day)
        return BudgetStatus(day=day, limit_usd=limit / MICROS_PER_USD,
                            spent_usd=today.spent_micros / MICROS_PER_USD,
                            reserved_usd=today.reserved_micros / MICROS_PER_USD, calls=today.calls,
                            resets_at=self._next_reset())

    async def ledger(self, tenant: Tenant, *, limit: int = 100) -> list[UsageEntry]:
        """Today's usage records of one project, newest first."""
        return await asyncio.to_thread(self._usage.on_day, tenant, self._day(), limit=limit)

    async def record(self, tenant: Tenant, task: str, calls: list[dict[str, Any]], cost_usd: float) -> None:
        """One ledger record per gateway call, under the project's partition: what was called and what it cost."""
        await asyncio.to_thread(self._usage.record, tenant, at=self._clock.now(), task=task, calls=calls,
                                cost_micros=to_micros(cost_usd), expires_at=self._expiry(LEDGER_ITEM_DAYS))
