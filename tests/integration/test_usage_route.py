"""GET /usage through the real Lambda path: API Gateway v2 event -> Mangum -> canon function -> moto DynamoDB."""

from __future__ import annotations

from typing import Any

import pytest
from sgd.model_gateway.budget import UsageAccounting
from sgd.tenancy import Tenant

from bench.support.seeds import runtime_adapters
from tests.conftest import ApiClient, run_async

pytestmark = pytest.mark.integration


def spend(runtime: Any, tenant: Tenant, cost_usd: float) -> None:
    """What the gateway does around one provider call: reserve, settle, and record it in the project ledger."""
    accounting = UsageAccounting.over(runtime_adapters(runtime).usage_table, daily_limit_usd=5.0)

    async def one_call() -> None:
        reservation = await accounting.reserve(tenant, 0.02)
        await accounting.settle(reservation, cost_usd)
        await accounting.record(tenant, "planner", [{"model": "openai/gpt-4o-mini", "attempt": 1, "latency_ms": 812.4,
                                                     "tokens": 950, "cost_usd": cost_usd, "outcome": "ok",
                                                     "cost_source": "provider"}], cost_usd)

    run_async(one_call())


def test_usage_needs_a_token(api: Any) -> None:
    assert api.request("GET", "/usage", token=None).status == 401


def test_an_org_sees_its_budget_and_a_projects_records(runtime: Any, api: Any, api_other_org: Any) -> None:
    spend(runtime, Tenant("acme", "usage-demo"), 0.0125)
    response = api.request("GET", "/usage?project_id=usage-demo")
    assert response.status == 200, response.body
    body = response.json()
    assert body["org"] == "acme"
    assert body["model_engine"] == "local"
    budget = body["budget"]
    assert budget["limit_usd"] == 5.0
    assert budget["spent_usd"] >= 0.0125
    assert budget["reserved_usd"] == 0
    assert budget["remaining_usd"] == pytest.approx(5.0 - budget["spent_usd"])
    assert budget["resets_at"].endswith("T00:00:00Z")
    assert [record["cost_usd"] for record in body["records"]] == [0.0125]
    assert body["records"][0]["calls"][0]["model"] == "openai/gpt-4o-mini"

    other = api_other_org.request("GET", "/usage?project_id=usage-demo").json()
    assert other["org"] == "globex"
    assert other["budget"]["spent_usd"] == 0
    assert other["records"] == []


def test_an_org_on_a_larger_plan_sees_its_own_limit(runtime: Any) -> None:
    accounting = UsageAccounting.over(runtime_adapters(runtime).usage_table, daily_limit_usd=5.0)
    run_async(accounting.set_org_limit("initech", 25.0))
    initech = ApiClient(runtime, org="initech")
    assert initech.request("GET", "/usage").json()["budget"]["limit_usd"] == 25.0


def test_without_a_project_only_the_budget_is_listed(api: Any) -> None:
    body = api.request("GET", "/usage").json()
    assert body["project_id"] is None
    assert body["records"] == []


def test_a_malformed_project_id_is_a_422_naming_the_field(api: Any) -> None:
    response = api.request("GET", "/usage?project_id=not%20valid")
    assert response.status == 422
    assert response.json()["error"]["details"][0]["field"] == "query.project_id"
