"""The per-org sliding window: limits per route class, the org's own limits, the IETF headers, failing closed."""

from datetime import UTC, datetime
from typing import Any

import pytest
from sgd.adapters.clock import FixedClock
from sgd.adapters.memory import MemoryTable
from sgd.errors import ServiceUnavailable
from sgd.http.rate_limit import route_class
from sgd.ratelimit import Decision, RateLimiter, lease_size, parse_limits
from sgd.repositories.rate_limits import RateLimitCounters
from sgd.settings import ConfigurationError, load_settings

START = datetime(2026, 5, 4, 12, 0, 0, tzinfo=UTC)  # a window boundary for a 60 s window


def limiter(limits: str = "render=10,reads=100", clock: FixedClock | None = None, table: Any = None,
            burst_share: float = 1.0) -> tuple[RateLimiter, FixedClock, RateLimitCounters]:
    """A limiter over a memory table; without pacing unless a burst share is given (the window alone)."""
    clock = clock or FixedClock(START)
    counters = RateLimitCounters(table if table is not None else MemoryTable())
    return RateLimiter(counters, defaults=parse_limits(limits), window_s=60, clock=clock,
                       burst_share=burst_share), clock, counters


def admitted(rate_limiter: RateLimiter, org: str, route: str, count: int) -> list[Decision]:
    decisions = [rate_limiter.check(org, route) for _ in range(count)]
    assert all(d is not None for d in decisions)
    return [d for d in decisions if d is not None and d.allowed]


def test_a_window_admits_the_limit_then_refuses_until_it_slides() -> None:
    rate_limiter, clock, _ = limiter()
    clock.advance(15)
    allowed = admitted(rate_limiter, "acme", "render", 10)
    assert [d.remaining for d in allowed] == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
    refused = rate_limiter.check("acme", "render")
    assert refused is not None
    assert not refused.allowed
    assert refused.retry_after_s == 45  # nothing before this window ends: the previous one was empty
    assert refused.headers() == {"RateLimit-Policy": '"render";q=10;w=60', "RateLimit": '"render";r=0;t=45',
                                 "Retry-After": "45"}
    clock.advance(45 + 30)  # half-way through the next window, the 10 of the last one weigh 5
    assert len(admitted(rate_limiter, "acme", "render", 10)) == 5
    clock.advance(60)  # half-way through the window after: the 5 admitted in the last one weigh 2
    assert len(admitted(rate_limiter, "acme", "render", 10)) == 8


def test_orgs_and_route_classes_have_separate_windows() -> None:
    rate_limiter, _, _ = limiter()
    assert len(admitted(rate_limiter, "acme", "render", 12)) == 10
    assert len(admitted(rate_limiter, "globex", "render", 12)) == 10
    assert len(admitted(rate_limiter, "acme", "reads", 12)) == 12
    assert rate_limiter.check("acme", "critique") is None  # no default for it here: not limited


def test_an_org_may_have_its_own_limits() -> None:
    rate_limiter, _, counters = limiter()
    counters.set_org_limits("bigco", {"render": 3})
    assert len(admitted(rate_limiter, "bigco", "render", 5)) == 3
    assert len(admitted(rate_limiter, "bigco", "reads", 5)) == 5  # the other classes keep the defaults


def test_an_instance_first_request_of_an_org_counts_early_but_never_admits_beyond_the_org_allowance() -> None:
    table = MemoryTable()
    first, clock, counters = limiter(table=table)
    counters.set_org_limits("bigco", {"render": 20})
    counters.set_org_limits("smallco", {"render": 3})
    assert len(admitted(first, "bigco", "render", 12)) == 12  # above the default of 10: its own 20 applies
    assert len(admitted(first, "smallco", "render", 3)) == 3
    # A new instance (its own caches, the same table) counts its first request against the default while it
    # reads the org's limits: the window already holds 12 > 10, so the real, larger allowance is used.
    second = RateLimiter(counters, defaults=parse_limits("render=10,reads=100"), window_s=60, clock=clock)
    assert len(admitted(second, "bigco", "render", 10)) == 8
    # For the smaller org the early count (4, within the default 10) is above its own 3: refused.
    third = RateLimiter(counters, defaults=parse_limits("render=10,reads=100"), window_s=60, clock=clock)
    assert admitted(third, "smallco", "render", 3) == []
    assert admitted(first, "smallco", "render", 1) == []


def test_requests_are_counted_in_leases_and_instances_together_never_pass_the_limit() -> None:
    table = MemoryTable()
    first, clock, counters = limiter(table=table)  # reads=100: leases of 5
    assert [lease_size(100), lease_size(1000), lease_size(30)] == [5, 10, 1]
    decisions = admitted(first, "acme", "reads", 7)
    assert [d.remaining for d in decisions] == [99, 98, 97, 96, 95, 94, 93]
    # The first is counted alone (while the org's limits are read), then two leases of 5: three writes.
    assert counters.count("acme", "reads", int(START.timestamp())) == 11
    others = [RateLimiter(counters, defaults=parse_limits("render=10,reads=100"), window_s=60, clock=clock)
              for _ in range(2)]
    total = len(decisions)
    for _ in range(60):  # three instances, interleaved, far past the limit
        for instance in (first, *others):
            total += len(admitted(instance, "acme", "reads", 1))
    assert 100 - 3 * (5 - 1) <= total <= 100  # unspent leases only ever admit less


class CountingTable(MemoryTable):
    def __init__(self) -> None:
        super().__init__()
        self.updates = 0

    def update(self, *args: Any, **kwargs: Any) -> Any:
        self.updates += 1
        return super().update(*args, **kwargs)


def test_a_refused_org_is_refused_by_the_instance_until_a_request_could_fit_again() -> None:
    table = CountingTable()
    rate_limiter, clock, counters = limiter(table=table)
    assert len(admitted(rate_limiter, "acme", "render", 10)) == 10  # the previous window: full
    clock.advance(60 + 15)  # a quarter into the next: the previous 10 weigh 7 (floor of 7.5)
    assert len(admitted(rate_limiter, "acme", "render", 5)) == 3
    writes = table.updates
    refusals = [rate_limiter.check("acme", "render") for _ in range(50)]  # a flood
    assert table.updates == writes  # refused here: nothing written, nothing read
    assert {(d.allowed, d.retry_after_s) for d in refusals if d is not None} == {(False, 3)}
    assert refusals[0] is not None
    assert refusals[0].headers()["RateLimit"] == '"render";r=0;t=45'
    # The weight falls to 6 just past 30 % of the window (18 s): 3 s after the refusal at 15 s.
    clock.advance(2)
    refused = rate_limiter.check("acme", "render")
    assert refused is not None
    assert (refused.allowed, refused.retry_after_s) == (False, 1)
    assert table.updates == writes
    clock.advance(1.5)
    assert len(admitted(rate_limiter, "acme", "render", 2)) == 1  # once one fits, the table decides again
    assert table.updates > writes
    # Another instance over the same table sees the same count, and refuses the same way.
    other = RateLimiter(counters, defaults=parse_limits("render=10,reads=100"), window_s=60, clock=clock)
    assert admitted(other, "acme", "render", 3) == []


def test_bursts_are_paced_a_share_of_the_limit_at_once_then_its_rate() -> None:
    rate_limiter, clock, _ = limiter(limits="render=20", burst_share=0.25)
    assert len(admitted(rate_limiter, "acme", "render", 10)) == 5  # a quarter of 20 at once
    refused = rate_limiter.check("acme", "render")
    assert refused is not None
    assert (refused.allowed, refused.retry_after_s) == (False, 3)  # one more every 60 s / 20
    spent = 5
    for _ in range(9):  # then one every 3 s, however many are asked for
        clock.advance(3)
        assert len(admitted(rate_limiter, "acme", "render", 4)) == 1
        spent += 1
    assert spent == 14
    clock.advance(60 - 27 + 30)  # half-way into the next window: 14 of the last one weigh 7, the pacing allows 15
    assert len(admitted(rate_limiter, "acme", "render", 20)) == 13  # 20 - 7, within the paced 15
    # An org that keeps to its rate never notices the pacing: the same decisions as the window alone.
    paced, paced_clock, _ = limiter(limits="render=20", burst_share=0.25)
    unpaced, unpaced_clock, _ = limiter(limits="render=20")
    decisions = []
    for _ in range(60):
        decisions.append([len(admitted(each, "globex", "render", 1)) for each in (paced, unpaced)])
        paced_clock.advance(3.2)
        unpaced_clock.advance(3.2)
    assert all(with_pacing == alone for with_pacing, alone in decisions)
    assert sum(alone for _, alone in decisions) >= 55


class UnreachableTable(MemoryTable):
    def update(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("could not connect to the endpoint URL")


def test_an_unreachable_table_refuses_requests_instead_of_letting_them_through() -> None:
    rate_limiter, _, _ = limiter(table=UnreachableTable())
    with pytest.raises(ServiceUnavailable) as raised:
        rate_limiter.check("acme", "render")
    assert raised.value.code == "rate_limit_unavailable"
    assert raised.value.headers == {"Retry-After": "1"}


def test_route_classes() -> None:
    assert route_class("POST", "/render") == "render"
    assert route_class("POST", "/critique") == "critique"
    assert route_class("POST", "/uploads") == "ingest"
    assert route_class("POST", "/canon/derive") == "ingest"
    assert route_class("GET", "/canon/p1") == "reads"
    assert route_class("GET", "/render/jobs/j1") == "reads"
    assert route_class("GET", "/healthz") is None


def test_bad_default_limits_stop_the_cold_start_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SGD_RATE_LIMITS", "render=10,upload=5")
    with pytest.raises(ConfigurationError, match=r"SGD_RATE_LIMITS.*unknown route class 'upload'"):
        load_settings()
    monkeypatch.setenv("SGD_RATE_LIMITS", "render=ten")
    with pytest.raises(ConfigurationError, match="whole number"):
        load_settings()
