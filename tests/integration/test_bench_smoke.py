"""The bench's model-gateway part runs end to end (a few calls): benchmark code must not rot unnoticed."""

from __future__ import annotations

import pytest

from bench import gateway_overhead, run

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_gateway_bench_measures_and_its_budget_run_holds() -> None:
    results = gateway_overhead.measure(calls=3)
    for case in ("gateway_only", "with_budget_and_ledger"):
        assert results[case]["overhead_ms"]["n"] == 3
        assert results[case]["bare_ms"]["p50"] > 0
    budget = results["budget"]
    assert (budget["served"], budget["refused_count"], budget["provider_requests"]) == (5, 15, 5)
    assert budget["verdict"] == "PASS"
    rows = run.summary_rows({"model_gateway": results})
    assert [verdict for *_, verdict in rows] == ["info", "info", "PASS"]
