"""Per-org request rate limits by route class, shared by every Lambda instance through DynamoDB.

A sliding window (the weighted sum of the previous and the current fixed window): an org may make `limit`
requests per `window_s` seconds in each route class (render, critique, ingest, reads). The count of the current
window lives in the usage table and grows only by conditional ADDs (sgd.repositories.rate_limits), so
concurrent instances never admit more than the limit between them; the previous window's count
is read once per instance, after it closed. An instance reads an org's own limits once a minute, while it counts
that request against the default allowance (see _check). Requests are counted in small leases (see lease_size).
Bursts are paced: an org may spend a share of a window's limit at once, then its rate (see paced_allowance).
A refused org is refused by the instance itself until the earliest time a request could fit again, so a flood
beyond the limit writes nothing to the table.

Limits are configurable per org (stored beside its budget limit), with defaults from SGD_RATE_LIMITS, which the
template sets. When the table cannot be reached, requests are refused (fail closed): a 503, never unlimited.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sgd.adapters.clock import Clock
from sgd.errors import ServiceUnavailable, TooManyRequests
from sgd.lru import LruCache
from sgd.repositories.rate_limits import RateLimitCounters
from sgd.settings import ROUTE_CLASSES, parse_limits

__all__ = ["ROUTE_CLASSES", "Decision", "RateLimited", "RateLimiter", "parse_limits"]

ORG_LIMITS_TTL_S = 60.0  # how long an instance keeps an org's own limits before reading them again


@dataclass(frozen=True, slots=True)
class Decision:
    """What the limiter decided, and what the IETF RateLimit headers report."""

    route_class: str
    allowed: bool
    limit: int
    remaining: int
    reset_s: int  # seconds until the quota is back (the RateLimit header's t)
    window_s: int
    retry_after_s: int = 0

    def headers(self) -> dict[str, str]:
        """RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers), plus Retry-After on a refusal."""
        headers = {"RateLimit-Policy": f'"{self.route_class}";q={self.limit};w={self.window_s}',
                   "RateLimit": f'"{self.route_class}";r={self.remaining};t={self.reset_s}'}
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_s)
        return headers


MAX_LEASE = 10


def burst_size(limit: int, burst_share: float) -> int:
    """How many requests an org may make at once: a share of its window's limit (at least one)."""
    return max(1, math.ceil(limit * burst_share))


def paced_allowance(limit: int, fraction: float, burst_share: float) -> int:
    """What the current window may hold `fraction` into it under pacing: a burst, then the limit's rate. An org
    that used the previous window fully is held to about the same by the sliding weight; pacing is what keeps an
    idle org from spending a whole window at once (its first window, or after a pause)."""
    return burst_size(limit, burst_share) + math.floor(limit * fraction)


def lease_size(limit: int) -> int:
    """How many requests an instance counts with one write: up to a twentieth of the limit (at most 10), spent
    locally. The count includes every leased request, so the limit is never exceeded; a lease left unspent when
    the window closes only admits a little less (at most lease - 1 per instance and window, a twentieth of the
    limit). Small limits (under 40) are counted one by one."""
    return max(1, min(MAX_LEASE, limit // 20))


class RateLimited(TooManyRequests):
    code = "rate_limited"


class RateLimiter:
    def __init__(self, counters: RateLimitCounters, *, defaults: dict[str, int], window_s: int, clock: Clock,
                 burst_share: float = 1.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._counters = counters
        self._defaults = defaults
        self._window_s = window_s
        self._burst_share = burst_share  # 1.0: no pacing, a window's whole limit at once
        self._clock = clock
        self._monotonic = monotonic
        self._org_limits: LruCache[str, tuple[float, dict[str, int]]] = LruCache(1024)
        self._closed_windows: LruCache[tuple[str, str, int], int] = LruCache(4096)
        # (org, route class) -> (window start, the next count, the last count leased): see lease_size
        self._leases: LruCache[tuple[str, str], tuple[int, int, int]] = LruCache(4096)
        self._leases_lock = threading.Lock()  # a lease is read and advanced as one step
        # (org, route class) -> (time before which it cannot be admitted, its limit): see _check
        self._refusals: LruCache[tuple[str, str], tuple[float, int]] = LruCache(4096)
        self._lookups = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rate-limit-lookup")  # threads on use

    def limit_of(self, org: str, route_class: str) -> int | None:
        """The org's limit for the class (its own, else the default); None: the class is not limited."""
        cached = self._org_limits.get(org)
        if cached is None or self._monotonic() - cached[0] > ORG_LIMITS_TTL_S:
            cached = (self._monotonic(), self._counters.org_limits(org))
            self._org_limits.put(org, cached)
        return cached[1].get(route_class, self._defaults.get(route_class))

    def check(self, org: str, route_class: str) -> Decision | None:
        """Admits one request of the org in the class, or refuses it. None when the class has no limit.
        Raises ServiceUnavailable when the counters cannot be read or written: no limit is never the fallback."""
        try:
            return self._check(org, route_class)
        except (RateLimited, ServiceUnavailable):
            raise
        except Exception as error:
            raise ServiceUnavailable(
                "the rate limit store is unreachable, so requests are refused rather than let through unmetered; "
                "retry shortly", headers={"Retry-After": "1"}, code="rate_limit_unavailable") from error

    def _check(self, org: str, route_class: str) -> Decision | None:
        window = self._window_s
        now = self._clock.now().timestamp()
        start = int(now // window) * window
        until_reset = start + window - now
        reset_s = max(1, math.ceil(until_reset))
        expires_at = start + 2 * window + 60
        refused = self._refusals.get((org, route_class))
        if refused is not None and now < refused[0]:
            # Refused a moment ago, and a window's count only grows: nothing can be admitted before then, so the
            # org's retries are refused here, without a write to the shared table (a flood costs no DynamoDB).
            return Decision(route_class, False, refused[1], 0, reset_s, window,
                            retry_after_s=max(1, math.ceil(refused[0] - now)))
        fraction = (now - start) / window
        cached = self._org_limits.get(org)
        counted: int | None = None  # the window's count after an early, optimistic admission
        early = False
        early_below = 0
        if cached is None or self._monotonic() - cached[0] > ORG_LIMITS_TTL_S:
            # The org's limits and the previous window's count are unknown (an instance's first request of the
            # org, then once a minute): read both in one round trip *while* counting the request against the
            # default allowance, and decide once both are back. One round trip instead of two on the critical
            # path; the early count is checked against the real allowance below, so it never admits more.
            default = self._defaults.get(route_class)
            lookup = self._lookups.submit(self._counters.limits_and_count, org, route_class, start - window)
            if default is not None:
                early = True
                early_below = min(default, paced_allowance(default, fraction, self._burst_share))
                counted = self._counters.admit(org, route_class, start, below=early_below, expires_at=expires_at)
            limits, count = lookup.result()
            self._org_limits.put(org, (self._monotonic(), limits))
            self._closed_windows.put((org, route_class, start - window), count)
        limit = self.limit_of(org, route_class)
        if limit is None:
            return None
        previous = self._previous_count(org, route_class, start - window)
        carried = math.floor(previous * (1 - fraction))
        sliding = limit - carried
        pacing = paced_allowance(limit, fraction, self._burst_share)
        below = min(sliding, pacing)
        if not early:
            counted = self._leased(org, route_class, start)
            if counted is None:
                counted = self._admit(org, route_class, start, below=below, expires_at=expires_at,
                                      lease=lease_size(limit))
        elif counted is None and below > early_below:
            # The window was full by the default, but the org's own allowance is larger.
            counted = self._counters.admit(org, route_class, start, below=below, expires_at=expires_at)
        if counted is not None and counted <= below:  # an early count above the real allowance stays counted
            return Decision(route_class, True, limit, max(0, below - counted), reset_s, window)
        waits = []  # the earliest time each binding allowance grows (a lower bound on the next admission)
        if sliding <= pacing:
            waits.append(self._sliding_wait(carried, previous, fraction, until_reset))
        if pacing <= sliding:
            waits.append(((math.floor(limit * fraction) + 1) / limit - fraction) * window)
        refused_for = max(0.0, min(until_reset, max(waits)))
        self._refusals.put((org, route_class), (now + refused_for, limit))
        return Decision(route_class, False, limit, 0, reset_s, window,
                        retry_after_s=max(1, math.ceil(refused_for)))

    def _leased(self, org: str, route_class: str, window_start: int) -> int | None:
        """The window count the next request stands for, from this instance's lease; None when it has none left."""
        with self._leases_lock:
            lease = self._leases.get((org, route_class))
            if lease is None or lease[0] != window_start or lease[1] > lease[2]:
                return None
            self._leases.put((org, route_class), (window_start, lease[1] + 1, lease[2]))
            return lease[1]

    def _admit(self, org: str, route_class: str, start: int, *, below: int, expires_at: int,
               lease: int) -> int | None:
        """Counts this request, and with a lease of n > 1 the instance's next n - 1 requests with it (one write
        for n requests); when n do not fit, only this one. Returns the count this request stands for."""
        if lease > 1:
            last = self._counters.admit(org, route_class, start, below=below, expires_at=expires_at, amount=lease)
            if last is not None:
                with self._leases_lock:
                    self._leases.put((org, route_class), (start, last - lease + 2, last))
                return last - lease + 1
        return self._counters.admit(org, route_class, start, below=below, expires_at=expires_at)

    def _previous_count(self, org: str, route_class: str, start: int) -> int:
        key = (org, route_class, start)
        known = self._closed_windows.get(key)
        if known is None:
            known = self._counters.count(org, route_class, start)
            self._closed_windows.put(key, known)
        return known

    def _sliding_wait(self, carried: int, previous: int, fraction: float, until_reset: float) -> float:
        """Seconds until the previous window's weight has decayed enough for one more request (the end of the
        current window when nothing is carried): the earliest another request can be admitted. The caller keeps
        it within [0, until_reset]."""
        # The window holds at least its allowance (limit - carried); one more fits once the carried weight
        # floor(previous * (1 - f)) drops below `carried`, i.e. for f > 1 - carried / previous. A lower bound: a
        # count above the allowance (other instances' leases) only makes it later.
        if carried <= 0:
            return until_reset
        return (1 - carried / previous - fraction) * self._window_s

    def refusal(self, org: str, decision: Decision) -> RateLimited:
        return RateLimited(
            f"org {org!r} made more than {decision.limit} {decision.route_class} requests in {decision.window_s} s; "
            f"retry after {decision.retry_after_s} s", headers=decision.headers(),
            details={"route_class": decision.route_class, "limit": decision.limit, "window_s": decision.window_s,
                     "retry_after_s": decision.retry_after_s})
