"""GET /usage: the caller's org budget today and, for one project, its model usage records."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from sgd.contracts.common import ProjectId
from sgd.contracts.usage import BudgetToday, UsageRecord, UsageResponse
from sgd.http.identity import Caller, current_caller
from sgd.model_gateway import usage_accounting
from sgd.settings import get_settings

router = APIRouter(tags=["usage"])


@router.get("/usage", response_model=UsageResponse, summary="Model spend today against the org's daily budget")
async def usage(caller: Annotated[Caller, Depends(current_caller)],
                project_id: Annotated[ProjectId | None, Query(description="Also list this project's records")] = None,
                ) -> UsageResponse:
    accounting = usage_accounting()
    status = await accounting.status(caller.org)
    records = await accounting.ledger(caller.tenant(project_id)) if project_id else []
    return UsageResponse(
        org=caller.org,
        model_engine=get_settings().model_engine,
        budget=BudgetToday(day=status.day, limit_usd=status.limit_usd, spent_usd=status.spent_usd,
                           reserved_usd=status.reserved_usd, remaining_usd=status.remaining_usd, calls=status.calls,
                           resets_at=status.resets_at),
        project_id=project_id,
        records=[UsageRecord.model_validate(record) for record in records],
    )
