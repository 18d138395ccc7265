"""GET /usage: the caller's org budget today and, for one project, its model usage records."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Annotated, cast

from fastapi import APIRouter, Depends, Query, Request

from sgd.contracts.common import ProjectId
from sgd.contracts.usage import BudgetToday, UsageRecord, UsageResponse
from sgd.http.identity import Caller, current_caller
from sgd.model_gateway.budget import UsageAccounting

router = APIRouter(tags=["usage"])


def usage_accounting(request: Request) -> UsageAccounting:
    return cast(UsageAccounting, request.app.state.accounting)


@router.get("/usage", response_model=UsageResponse, summary="Model spend today against the org's daily budget")
async def usage(request: Request, caller: Annotated[Caller, Depends(current_caller)],
                accounting: Annotated[UsageAccounting, Depends(usage_accounting)],
                project_id: Annotated[ProjectId | None, Query(description="Also list this project's records")] = None,
                ) -> UsageResponse:
    status = await accounting.status(caller.org)
    records = await accounting.ledger(caller.tenant(project_id)) if project_id else []
    return UsageResponse(
        org=caller.org,
        model_engine=request.app.state.health.model_engine,
        budget=BudgetToday(day=date.fromisoformat(status.day), limit_usd=status.limit_usd, spent_usd=status.spent_usd,
                           reserved_usd=status.reserved_usd, remaining_usd=status.remaining_usd, calls=status.calls,
                           resets_at=status.resets_at, over_cap_usd=status.over_cap_usd, halted=status.halted),
        project_id=project_id,
        records=[UsageRecord.model_validate(dataclasses.asdict(record)) for record in records],
    )
