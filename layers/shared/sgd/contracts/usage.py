"""GET /usage: what the org has spent on models today, and the project's usage records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from sgd.contracts.common import ModelCall, ProjectId, Reply


class BudgetToday(Reply):
    day: date = Field(description="The UTC day the budget covers")
    limit_usd: float
    spent_usd: float
    reserved_usd: float = Field(description="Held by model calls in flight")
    remaining_usd: float
    calls: int = Field(description="Provider requests settled today")
    resets_at: datetime
    over_cap_usd: float = Field(0.0, description="What providers billed today beyond the calls' cost caps")
    halted: bool = Field(False, description="True after a call was billed over its cap: the org's model calls stop "
                         "(429 budget_halted) until its daily limit is raised or the day rolls over")


class UsageRecord(Reply):
    at: datetime
    task: Literal["planner", "canon", "critic", "image"]
    cost_usd: float
    calls: list[ModelCall]


class UsageResponse(Reply):
    org: str
    model_engine: Literal["openrouter", "local"] = Field(description="local: the offline engine, which costs 0")
    budget: BudgetToday
    project_id: ProjectId | None = None
    records: list[UsageRecord] = Field(default_factory=list, description="The project's records today, newest "
                                       "first (with project_id)")
