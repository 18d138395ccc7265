"""Per-org daily model budget and the usage ledger (stored by sgd.repositories.usage).

Every provider request reserves its worst case (the task's max_cost_usd) before it is sent, settles the real
cost after, and releases the reservation when it fails. The reservation is a conditional update, so concurrent
calls are safe: committed = spent + reserved never passes the limit, whatever the interleaving, while providers
bill within the caps. A whole operation (a render: its planner, image and repair calls) can hold its worst case
at once (`hold`): its calls then draw from that hold, and an operation that does not fit is refused before its
first paid call. A call billed over its cap is recorded and stops the org's calls for the day, until an operator
raises the org's limit (`set_org_limit`).
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


class BudgetHalted(TooManyRequests):
    """A provider billed a call over its cap today: the org's calls stop until its limit is raised or the day ends."""

    code = "budget_halted"


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    day: str
    limit_usd: float
    spent_usd: float
    reserved_usd: float
    calls: int
    resets_at: datetime

    over_cap_usd: float = 0.0
    halted: bool = False

    @property
    def remaining_usd(self) -> float:
        if self.halted:
            return 0.0
        return max(0.0, round(self.limit_usd - self.spent_usd - self.reserved_usd, 6))


class BudgetHold:
    """One operation's reservation (e.g. a render's worst case), from which its calls draw without touching the
    org's headroom again. `held` is still reserved in the table; `free` is what no call in flight has drawn."""

    def __init__(self, org: str, day: str, micros: int, limit_micros: int) -> None:
        self.org, self.day, self.limit_micros = org, day, limit_micros
        self.micros = micros
        self.held = micros
        self.free = micros
        self.ended = False  # given back: a straggling call (a cancelled asset) reserves on its own

    def draw(self, micros: int) -> bool:
        if self.ended or micros > self.free:
            return False
        self.free -= micros
        return True

    def give_back(self, micros: int) -> None:
        self.free += micros

    def settled(self, drawn: int, actual: int) -> int:
        """A call that drew `drawn` cost `actual`: what of the table's reservation it consumes."""
        used = min(drawn, actual)
        self.held -= used
        self.free += drawn - used
        return used


@dataclass(frozen=True, slots=True)
class Reservation:
    org: str
    day: str
    micros: int
    limit_micros: int
    hold: BudgetHold | None = None  # drawn from an operation's hold instead of the org's headroom


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
            raise await self._refusal(reservation)
        return reservation

    async def hold(self, tenant: Tenant, usd: float) -> BudgetHold:
        """An operation's worst case, reserved at once (429 when it does not fit: before any call is paid for)."""
        reservation = await self.reserve(tenant, usd)
        return BudgetHold(reservation.org, reservation.day, reservation.micros, reservation.limit_micros)

    async def draw(self, tenant: Tenant, hold: BudgetHold | None, usd: float) -> Reservation:
        """A call's cap from the operation's hold when it has room (the org's calls must not be halted), else
        from the org's headroom like any call."""
        micros = to_micros(usd)
        if hold is None or hold.org != tenant.org or not hold.draw(micros):
            return await self.reserve(tenant, usd)
        reservation = Reservation(hold.org, hold.day, micros, hold.limit_micros, hold)
        try:
            allowed = await asyncio.to_thread(self._budgets.may_call, hold.org, hold.day,
                                              limit_micros=hold.limit_micros)
        except BaseException:
            hold.give_back(micros)
            raise
        if not allowed:
            hold.give_back(micros)
            raise await self._refusal(reservation)
        return reservation

    async def end_hold(self, hold: BudgetHold) -> None:
        """Gives back what the operation's calls did not use."""
        hold.ended = True
        if hold.held > 0:
            await asyncio.to_thread(self._budgets.release, hold.org, hold.day, hold.held)
            hold.held = hold.free = 0

    async def _refusal(self, reservation: Reservation) -> TooManyRequests:
        today = await asyncio.to_thread(self._budgets.day, reservation.org, reservation.day)
        if today.halted(reservation.limit_micros):
            return self._halted(reservation, today.over_cap_micros)
        return self._exhausted(reservation)

    def _halted(self, reservation: Reservation, over_cap_micros: int) -> BudgetHalted:
        retry_after = self._seconds_to_reset()
        limit_usd = reservation.limit_micros / MICROS_PER_USD
        logger.warning("model calls halted after an over-cap bill", extra={"org": reservation.org,
                                                                          "day": reservation.day})
        metrics.add_metric(name="BudgetHaltedRejected", unit="Count", value=1)
        return BudgetHalted(
            f"model calls are stopped for this org today: a provider billed ${over_cap_micros / MICROS_PER_USD:.4f} "
            f"more than the calls' cost caps allow; they resume when an admin raises the org's daily limit above "
            f"${limit_usd:.2f} or at 00:00 UTC", headers={"Retry-After": str(retry_after)},
            details={"limit_usd": limit_usd, "over_cap_usd": over_cap_micros / MICROS_PER_USD,
                     "retry_after_s": retry_after})

    def _exhausted(self, reservation: Reservation) -> BudgetExceeded:
        retry_after = self._seconds_to_reset()
        limit_usd = reservation.limit_micros / MICROS_PER_USD
        logger.warning("budget exhausted", extra={"org": reservation.org, "day": reservation.day,
                                                  "limit_usd": limit_usd})
        metrics.add_metric(name="BudgetRejected", unit="Count", value=1)
        return BudgetExceeded(
            f"the org's daily model budget of ${limit_usd:.2f} cannot hold ${reservation.micros / MICROS_PER_USD:.2f} "
            "more (the worst case of this request at the policy's caps); it resets at 00:00 UTC",
            headers={"Retry-After": str(retry_after)},
            details={"limit_usd": limit_usd, "needed_usd": reservation.micros / MICROS_PER_USD,
                     "retry_after_s": retry_after})

    async def settle(self, reservation: Reservation, cost_usd: float, *, cap_usd: float | None = None) -> None:
        """Replaces the reservation by the real cost, and emits each budget threshold the spend crosses. A cost
        over the call's cap is recorded, and stops the org's calls until its limit is raised or the day ends."""
        actual = to_micros(cost_usd)
        over_cap = max(0, actual - to_micros(cap_usd)) if cap_usd is not None else 0
        from_table = reservation.hold.settled(reservation.micros, actual) if reservation.hold else reservation.micros
        spent_after = await asyncio.to_thread(self._budgets.settle, reservation.org, reservation.day,
                                              from_table, actual, over_cap_micros=over_cap,
                                              limit_micros=reservation.limit_micros)
        if over_cap:
            logger.error("a provider billed a call over its cap: the org's model calls are halted for the day",
                         extra={"org": reservation.org, "day": reservation.day, "cost_usd": cost_usd,
                                "cap_usd": cap_usd})
            metrics.add_metric(name="BudgetOverCap", unit="Count", value=1)
        self._emit_crossed_thresholds(reservation, spent_after - actual, spent_after)

    async def release(self, reservation: Reservation) -> None:
        if reservation.hold is not None:
            reservation.hold.give_back(reservation.micros)
            return
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
                            resets_at=self._next_reset(), over_cap_usd=today.over_cap_micros / MICROS_PER_USD,
                            halted=today.halted(limit))

    async def ledger(self, tenant: Tenant, *, limit: int = 100) -> list[UsageEntry]:
        """Today's usage records of one project, newest first."""
        return await asyncio.to_thread(self._usage.on_day, tenant, self._day(), limit=limit)

    async def record(self, tenant: Tenant, task: str, calls: list[dict[str, Any]], cost_usd: float) -> None:
        """One ledger record per gateway call, under the project's partition: what was called and what it cost."""
        await asyncio.to_thread(self._usage.record, tenant, at=self._clock.now(), task=task, calls=calls,
                                cost_micros=to_micros(cost_usd), expires_at=self._expiry(LEDGER_ITEM_DAYS))
