"""The gateway policy: validated against its JSON Schema when it loads, with messages that name the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sgd.model_gateway.openrouter import retry_after_ms
from sgd.model_gateway.policy import TASKS, GatewayPolicy, load_policy
from sgd.resources import load_json
from sgd.settings import ConfigurationError


def shipped() -> dict[str, Any]:
    return copy.deepcopy(load_json("policies", "openrouter_policy.json"))


def test_the_shipped_policy_is_valid_and_covers_every_task() -> None:
    policy = load_policy()
    assert set(policy.tasks) == set(TASKS) == {"planner", "canon", "critic", "image"}
    assert all(spec.max_cost_usd > 0 and spec.timeout_ms > 0 for spec in policy.tasks.values())
    assert policy.local_fallback is False  # local output as a fallback must be asked for explicitly
    priced = set(policy.prices)
    assert all(spec.primary in priced for spec in policy.tasks.values())


@pytest.mark.parametrize(("change", "named"), [
    (lambda p: p["tasks"]["planner"].update(max_cost_usd=-1), "tasks/planner/max_cost_usd"),
    (lambda p: p["tasks"].pop("critic"), "tasks: 'critic' is a required property"),
    (lambda p: p["tasks"]["image"].update(primary="no-slash"), "tasks/image/primary"),
    (lambda p: p["retry"].update(max_attempts=0), "retry/max_attempts"),
    (lambda p: p["timeouts_ms"].update(canon="15s"), "timeouts_ms/canon"),
    (lambda p: p.update(local_fallback="yes"), "local_fallback"),
    (lambda p: p["budgets"].update(thresholds=[0.5, 1.5]), "budgets/thresholds/1"),
    (lambda p: p.update(surprise=True), "Additional properties are not allowed ('surprise'"),
    (lambda p: p["tasks"]["planner"]["fallbacks"].append("openai/gpt-4o-mini"),
     "tasks/planner/fallbacks: must not repeat the primary"),
    (lambda p: p["retry"]["backoff_ms"].update(base=5000, max=100), "retry/backoff_ms/base"),
])
def test_a_bad_policy_is_refused_naming_the_field(change: Any, named: str) -> None:
    document = shipped()
    change(document)
    with pytest.raises(ConfigurationError) as raised:
        GatewayPolicy.from_document(document)
    assert "policies/openrouter_policy.json" in str(raised.value)
    assert named in str(raised.value)


def test_backoff_is_exponential_capped_and_jittered() -> None:
    document = shipped()
    document["retry"]["backoff_ms"] = {"base": 100, "max": 500, "jitter": True}
    policy = GatewayPolicy.from_document(document)
    assert [policy.backoff_ms(n, 1.0) for n in (1, 2, 3, 4)] == [100, 200, 400, 500]
    assert policy.backoff_ms(3, 0.25) == 100
    document["retry"]["backoff_ms"]["jitter"] = False
    assert GatewayPolicy.from_document(document).backoff_ms(2, 0.25) == 200


def test_token_prices_are_per_million() -> None:
    price = load_policy().prices["openai/gpt-4o-mini"]
    assert price.cost_usd(1_000_000, 0) == pytest.approx(0.15)
    assert price.cost_usd(2000, 1000) == pytest.approx((2000 * 0.15 + 1000 * 0.6) / 1e6)


@pytest.mark.parametrize(("header", "expected"), [
    ("2", 2000.0), ("0.5", 500.0), (None, None), ("soon", None), ("-3", 0.0),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # a date in the past: retry now
])
def test_retry_after_accepts_seconds_and_http_dates(header: str | None, expected: float | None) -> None:
    assert retry_after_ms(header) == expected
