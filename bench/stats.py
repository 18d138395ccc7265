"""The one summary every latency benchmark reports: n, min, p50, p95 (nearest rank), mean and max, in ms."""

from __future__ import annotations

import statistics


def percentiles(samples: list[float], digits: int = 2) -> dict[str, float]:
    ordered = sorted(samples)
    return {"n": len(ordered), "min": round(ordered[0], digits), "p50": round(statistics.median(ordered), digits),
            "p95": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], digits),
            "mean": round(statistics.fmean(ordered), digits), "max": round(ordered[-1], digits)}
