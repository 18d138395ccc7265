"""The one summary every latency benchmark reports: n, min, p50, p95 (nearest rank), mean and max, in ms."""

from __future__ import annotations

import statistics


def percentiles(samples: list[float], digits: int = 2) -> dict[str, float]:
    ordered = sorted(samples)
    return {"n": len(ordered), "min": round(ordered[0], digits), "p50": round(statistics.median(ordered), digits),
            "p95": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], digits),
            "mean": round(statistics.fmean(ordered), digits), "max": round(ordered[-1], digits)}


def judged(results: dict[str, dict[str, float]], targets_ms: dict[str, float]) -> dict[str, dict[str, object]]:
    """Each measurement's summary with its p95 target and whether the p95 met it."""
    return {name: stats | ({"target_p95_ms": targets_ms[name], "met": stats["p95"] <= targets_ms[name]}
                           if name in targets_ms else {}) for name, stats in results.items()}


def latency_table(title: str, labels: dict[str, str], results: dict[str, dict[str, object]]) -> str:
    """The Markdown table of judged latency measurements (see judged)."""
    lines = [f"# {title}", "", "| Measurement | Target p95 | p50 | p95 | max | Met |", "|---|---|---|---|---|---|"]
    for name, label in labels.items():
        row = results[name]
        lines.append(f"| {label} | \u2264 {row['target_p95_ms']:g} ms | {row['p50']} ms | {row['p95']} ms | "
                     f"{row['max']} ms | {'yes' if row['met'] else 'no'} |")
    return "\n".join(lines) + "\n"


def verdict_rows(labels: dict[str, str], results: dict[str, dict[str, object]]) -> list[tuple[str, str, str, str]]:
    """Judged latency measurements as rows of bench/run.py's summary: what, target, measured, PASS/FAIL."""
    return [(f"{labels[name]} (full Lambda path, local engine)", f"p95 ≤ {row['target_p95_ms']:g} ms",
             f"p50 {row['p50']} ms, p95 {row['p95']} ms", "PASS" if row["met"] else "FAIL")
            for name, row in results.items()]
