"""Per-org daily model budget and the usage ledger, in the usage table (DynamoDB, atomic conditional updates).

Every provider request reserves its worst case (the task's max_cost_usd) before it is sent, settles the real
cost after, and releases the reservation when it fails. The condition on the reservation makes concurrent
calls safe: committed = spent + reserved never passes the limit, whatever the interleaving.
Amounts are integer micro-dollars so that DynamoDB's ADD is exact. An org's limit is the policy's
org_daily_usd unless the org has its own (a budget#limit item, e.g. for a larger plan).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sgd.adapters.aws import aws_client, is_condition_failure
from sgd.adapters.clock import Clock, SystemClock
from sgd.errors import TooManyRequests
from sgd.observability import logger, metrics
from sgd.tenancy import Tenant

MICROS_PER_USD = 1_000_000
BUDGET_ITEM_DAYS = 35  # TTL of a day's budget item: a month of history for support questions
LEDGER_ITEM_DAYS = 400  # TTL of usage records: a year of invoices, plus disputes
ORG_LIMIT_SK = "budget#limit"  # an org's own daily limit; without it, the policy's org_daily_usd applies
ORG_LIMIT_CACHE_S = 60.0  # a changed limit reaches warm functions within a minute


def to_micros(usd: float) -> int:
    return round(usd * MICROS_PER_USD)


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

    def __init__(self, table_name: str, *, daily_limit_usd: float, thresholds: tuple[float, ...],
                 clock: Clock | None = None, client: Any = None) -> None:
        self.table_name = table_name
        self.default_limit_micros = to_micros(daily_limit_usd)
        self.thresholds = thresholds
        self._clock = clock or SystemClock()
        self._given_client = client
        self._org_limits: dict[str, tuple[int, float]] = {}  # org -> (limit, read at monotonic s)

    @property
    def _client(self) -> Any:
        return self._given_client or aws_client("dynamodb")

    def _day(self) -> str:
        return self._clock.now().date().isoformat()

    def _next_reset(self) -> datetime:
        return (self._clock.now() + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)

    def _seconds_to_reset(self) -> int:
        return max(1, int((self._next_reset() - self._clock.now()).total_seconds()) + 1)

    def _expiry(self, days: int) -> str:
        return str(int((self._clock.now() + timedelta(days=days)).timestamp()))

    @staticmethod
    def _key(org: str, day: str) -> dict[str, Any]:
        return {"pk": {"S": Tenant.org_partition_key(org)}, "sk": {"S": f"budget#{day}"}}

    @staticmethod
    def _limit_key(org: str) -> dict[str, Any]:
        return {"pk": {"S": Tenant.org_partition_key(org)}, "sk": {"S": ORG_LIMIT_SK}}

    async def limit_micros(self, org: str) -> int:
        """The org's own daily limit (its budget#limit item) or the policy's default; re-read after a minute."""
        cached = self._org_limits.get(org)
        if cached and time.monotonic() - cached[1] < ORG_LIMIT_CACHE_S:
            return cached[0]
        response = await asyncio.to_thread(self._client.get_item, TableName=self.table_name,
                                           Key=self._limit_key(org))
        daily_usd = response.get("Item", {}).get("daily_usd", {}).get("N")
        limit = to_micros(float(daily_usd)) if daily_usd is not None else self.default_limit_micros
        self._org_limits[org] = (limit, time.monotonic())
        return limit

    async def set_org_limit(self, org: str, daily_usd: float) -> None:
        """An operator's override of one org's daily limit (its plan); the policy's limit is the default."""
        await asyncio.to_thread(self._client.put_item, TableName=self.table_name, Item={
            **self._limit_key(org), "daily_usd": {"N": str(daily_usd)}})
        self._org_limits.pop(org, None)

    async def reserve(self, tenant: Tenant, usd: float) -> Reservation:
        """Holds usd of today's budget, or raises BudgetExceeded (429, Retry-After = seconds to UTC midnight)."""
        limit = await self.limit_micros(tenant.org)
        reservation = Reservation(tenant.org, self._day(), to_micros(usd), limit)
        headroom = limit - reservation.micros
        client = self._client
        if headroom < 0:
            raise self._exhausted(reservation)
        try:
            await asyncio.to_thread(
                client.update_item,
                TableName=self.table_name, Key=self._key(reservation.org, reservation.day),
                UpdateExpression="ADD committed_micros :amount, reserved_micros :amount "
                                 "SET limit_micros = :limit, expires_at = if_not_exists(expires_at, :expires)",
                ConditionExpression="attribute_not_exists(committed_micros) OR committed_micros <= :headroom",
                ExpressionAttributeValues={
                    ":amount": {"N": str(reservation.micros)}, ":headroom": {"N": str(headroom)},
                    ":limit": {"N": str(limit)}, ":expires": {"N": self._expiry(BUDGET_ITEM_DAYS)},
                },
            )
        except Exception as error:
            if not is_condition_failure(error):
                raise
            raise self._exhausted(reservation) from None
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
        response = await asyncio.to_thread(
            self._client.update_item,
            TableName=self.table_name, Key=self._key(reservation.org, reservation.day),
            UpdateExpression="ADD committed_micros :delta, reserved_micros :release, spent_micros :actual, calls :one",
            ExpressionAttributeValues={
                ":delta": {"N": str(actual - reservation.micros)}, ":release": {"N": str(-reservation.micros)},
                ":actual": {"N": str(actual)}, ":one": {"N": "1"},
            },
            ReturnValues="UPDATED_NEW",
        )
        spent_after = int(response["Attributes"]["spent_micros"]["N"])
        self._emit_crossed_thresholds(reservation, spent_after - actual, spent_after)

    async def release(self, reservation: Reservation) -> None:
        await asyncio.to_thread(
            self._client.update_item,
            TableName=self.table_name, Key=self._key(reservation.org, reservation.day),
            UpdateExpression="ADD committed_micros :release, reserved_micros :release",
            ExpressionAttributeValues={":release": {"N": str(-reservation.micros)}},
        )

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
        response = await asyncio.to_thread(self._client.get_item, TableName=self.table_name,
                                           Key=self._key(org, day), ConsistentRead=True)
        item = response.get("Item", {})

        def number(name: str) -> int:
            return int(item.get(name, {}).get("N", "0"))

        return BudgetStatus(day=day, limit_usd=limit / MICROS_PER_USD,
                            spent_usd=number("spent_micros") / MICROS_PER_USD,
                            reserved_usd=number("reserved_micros") / MICROS_PER_USD, calls=number("calls"),
                            resets_at=self._next_reset())

    async def ledger(self, tenant: Tenant, *, limit: int = 100) -> list[dict[str, Any]]:
        """Today's usage records of one project, newest first."""
        response = await asyncio.to_thread(
            self._client.query, TableName=self.table_name, ScanIndexForward=False, Limit=limit,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :today)",
            ExpressionAttributeValues={":pk": {"S": tenant.partition_key}, ":today": {"S": f"usage#{self._day()}"}})
        return [{"at": item["sk"]["S"].split("#")[1], "task": item["task"]["S"],
                 "cost_usd": int(item["cost_micros"]["N"]) / MICROS_PER_USD, "calls": json.loads(item["calls"]["S"])}
                for item in response.get("Items", [])]

    async def record(self, tenant: Tenant, task: str, calls: list[dict[str, Any]], cost_usd: float) -> None:
        """One ledger item per gateway call, under the project's partition: what was called and what it cost."""
        now = self._clock.now()
        item = {
            "pk": {"S": tenant.partition_key},
            "sk": {"S": f"usage#{now.isoformat()}#{uuid.uuid4().hex[:8]}"},
            "task": {"S": task},
            "cost_micros": {"N": str(to_micros(cost_usd))},
            "calls": {"S": _compact_json(calls)},
            "expires_at": {"N": self._expiry(LEDGER_ITEM_DAYS)},
        }
        await asyncio.to_thread(self._client.put_item, TableName=self.table_name, Item=item)


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
