"""The render function's routes: POST /render (sync or async, idempotent), the async job routes and the org's
webhook signing secret."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Request
from fastapi.responses import JSONResponse

from sgd.contracts.common import ErrorResponse, ResourceId
from sgd.contracts.render import RenderAccepted, RenderJob, RenderRequest, RenderResponse, WebhookSigningSecret
from sgd.http.app import Middleware, create_api
from sgd.http.identity import Caller, current_caller
from sgd.render.idempotency import IdempotentRuns
from sgd.render.service import HttpOutcome, RenderService, wants_async

router = APIRouter(tags=["render"])
JobId = Annotated[ResourceId, Path(description="The id POST /render returned with 202")]


def render_service(request: Request) -> RenderService:
    return cast(RenderService, request.app.state.render)


def idempotent_runs(request: Request) -> IdempotentRuns:
    return cast(IdempotentRuns, request.app.state.idempotency)


Service = Annotated[RenderService, Depends(render_service)]


@router.post("/render", response_model=RenderResponse, summary="Render on-brand designs",
             responses={202: {"model": RenderAccepted, "description": "Accepted as an async job; poll Location"}})
async def render(
    request: Request,
    body: RenderRequest,
    caller: Annotated[Caller, Depends(current_caller)],
    service: Service,
    idempotency: Annotated[IdempotentRuns, Depends(idempotent_runs)],
    idempotency_key: Annotated[str | None, Header(max_length=128, description=(
        "Replays the first response for the same key and body (24 h); another body with it is a 422"))] = None,
    prefer: Annotated[str | None, Header(description="respond-async: answer 202 and render as a job")] = None,
) -> JSONResponse:
    tenant = caller.tenant(body.project_id)
    run_async = wants_async(body, prefer)
    context = request.scope.get("aws.context")

    async def produce() -> dict[str, Any]:
        outcome = await service.create(tenant, body, run_async=run_async, request_id=caller.request_id,
                                       lambda_context=context)
        return outcome.as_record()

    if idempotency_key:
        record = await idempotency.run(caller.org, idempotency_key, service.idempotency_body(body, run_async),
                                       produce, context)
        outcome = service.replayed(record) if record.get("replayed") else HttpOutcome(**{
            name: record[name] for name in ("status", "body", "headers", "keys")})
        headers = outcome.headers | {"Idempotent-Replayed": "true" if record.get("replayed") else "false"}
    else:
        outcome = HttpOutcome(**dict((await produce()).items()))
        headers = outcome.headers
    return JSONResponse(outcome.body, outcome.status, headers=headers)


@router.get("/render/jobs/{job_id}", response_model=RenderJob, summary="Read an async render job")
def get_job(job_id: JobId, caller: Annotated[Caller, Depends(current_caller)], service: Service) -> JSONResponse:
    return JSONResponse(service.get_job(caller.org, job_id))


@router.delete("/render/jobs/{job_id}", response_model=RenderJob, summary="Cancel a queued or running job",
               responses={409: {"model": ErrorResponse, "description": "The job already finished (job_finished)"}})
def cancel_job(job_id: JobId, caller: Annotated[Caller, Depends(current_caller)], service: Service) -> JSONResponse:
    return JSONResponse(service.cancel_job(caller.org, job_id))


@router.get("/webhooks/signing-secret", response_model=WebhookSigningSecret,
            summary="The key your org's webhook deliveries are signed with")
def webhook_signing_secret(caller: Annotated[Caller, Depends(current_caller)], service: Service) -> JSONResponse:
    # the org from the verified token only
    reply = WebhookSigningSecret.model_validate({"secret": service.signing_secret(caller.org)})
    return JSONResponse(reply.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


def create_app(render: RenderService, idempotency: IdempotentRuns, *, org_claim: str,
               middleware: Middleware = ()) -> FastAPI:
    """The render function's app, over the services the composition root built."""
    return create_api(title="SGD render", routers=[router],
                      state={"render": render, "idempotency": idempotency, "org_claim": org_claim},
                      middleware=middleware)
