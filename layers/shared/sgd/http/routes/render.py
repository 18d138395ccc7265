"""The render function's routes: POST /render (sync or async, idempotent), the async job routes and the org's
webhook signing secret."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Request
from fastapi.responses import JSONResponse

from sgd.contracts.common import ErrorResponse, ResourceId
from sgd.contracts.render import RenderAccepted, RenderJob, RenderRequest, RenderResponse, WebhookSigningSecret
from sgd.http.app import create_api
from sgd.http.identity import Caller, current_caller

router = APIRouter(tags=["render"])
JobId = Annotated[ResourceId, Path(description="The id POST /render returned with 202")]


def _service() -> Any:
    from sgd.render.service import render_service  # the pipeline's modules load on the first render, not at init

    return render_service()


@router.post("/render", response_model=RenderResponse, summary="Render on-brand designs",
             responses={202: {"model": RenderAccepted, "description": "Accepted as an async job; poll Location"}})
async def render(
    request: Request,
    body: RenderRequest,
    caller: Annotated[Caller, Depends(current_caller)],
    idempotency_key: Annotated[str | None, Header(max_length=128, description=(
        "Replays the first response for the same key and body (24 h); another body with it is a 422"))] = None,
    prefer: Annotated[str | None, Header(description="respond-async: answer 202 and render as a job")] = None,
) -> JSONResponse:
    from sgd.render.service import HttpOutcome, idempotency_body, wants_async

    tenant = caller.tenant(body.project_id)
    service = _service()
    run_async = wants_async(body, prefer)
    context = request.scope.get("aws.context")

    async def produce() -> dict[str, Any]:
        outcome = await service.create(tenant, body, run_async=run_async, request_id=caller.request_id,
                                       lambda_context=context)
        return outcome.as_record()

    if idempotency_key:
        from sgd.render.idempotency import run_idempotently

        record = await run_idempotently(caller.org, idempotency_key, idempotency_body(body, run_async),
                                        produce, context)
        outcome = service.replayed(record) if record.get("replayed") else HttpOutcome(**{
            name: record[name] for name in ("status", "body", "headers", "keys")})
        headers = outcome.headers | {"Idempotent-Replayed": "true" if record.get("replayed") else "false"}
    else:
        outcome = HttpOutcome(**{name: value for name, value in (await produce()).items()})
        headers = outcome.headers
    return JSONResponse(outcome.body, outcome.status, headers=headers)


@router.get("/render/jobs/{job_id}", response_model=RenderJob, summary="Read an async render job")
def get_job(job_id: JobId, caller: Annotated[Caller, Depends(current_caller)]) -> JSONResponse:
    return JSONResponse(_service().get_job(caller.org, job_id))


@router.delete("/render/jobs/{job_id}", response_model=RenderJob, summary="Cancel a queued or running job",
               responses={409: {"model": ErrorResponse, "description": "The job already finished (job_finished)"}})
def cancel_job(job_id: JobId, caller: Annotated[Caller, Depends(current_caller)]) -> JSONResponse:
    return JSONResponse(_service().cancel_job(caller.org, job_id))


@router.get("/webhooks/signing-secret", response_model=WebhookSigningSecret,
            summary="The key your org's webhook deliveries are signed with")
def webhook_signing_secret(caller: Annotated[Caller, Depends(current_caller)]) -> JSONResponse:
    from sgd.render.webhooks import webhook_secret

    reply = WebhookSigningSecret(secret=webhook_secret(org=caller.org))  # the org from the verified token only
    return JSONResponse(reply.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


def create_app() -> FastAPI:
    return create_api(title="SGD render", routers=[router])
