"""The bench's model-gateway part runs end to end (a few calls): benchmark code must not rot unnoticed."""

from __future__ import annotations

import json

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


def test_product_benches_measure_and_join_the_summary(tmp_path) -> None:
    from bench import (
        canon_accuracy,
        critique_accuracy,
        critique_latency,
        ingest_latency,
        render_latency,
        timing_budgets,
    )

    out = ["--out", str(tmp_path)]
    render_latency.main([*out, "--samples", "2", "--warmup", "1"])
    ingest_latency.main([*out, "--runs", "1"])
    canon_accuracy.main(out)
    critique_latency.main([*out, "--samples", "2", "--warmup", "1"])
    critique_accuracy.main([*out, "--seeds", "1"])
    timing_budgets.main([*out, "--samples", "1"])
    names = ("render_latency", "ingest_latency", "canon_accuracy", "critique_latency", "critique_accuracy",
             "timing_budgets")
    product = {name: json.loads((tmp_path / f"{name}.json").read_text()) for name in names}
    rows = run.product_rows(product)
    assert len(rows) == 3 + 3 + 3 + 3 + 1 + len(timing_budgets.BUDGETS) + len(product["canon_accuracy"])
    assert all(verdict in ("PASS", "FAIL") for *_, verdict in rows)
    assert [verdict for name, *_, verdict in rows if name.startswith("Canon accuracy")] == ["PASS", "PASS"]
    accuracy = [verdict for name, *_, verdict in rows if name.startswith("Critique accuracy")]
    assert accuracy == ["PASS", "PASS", "PASS"]  # the labelled designs, per class
