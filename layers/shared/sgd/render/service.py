"""POST /render, the job routes and the job worker, over the pipeline: sync or async, idempotent, signed webhooks.

One RenderService per process, built by the composition root; its adapters make their AWS clients on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sgd.adapters.clock import Deadline, monotonic_ms
from sgd.contracts.render import RenderAccepted, RenderJob, RenderRequest
from sgd.contracts.shapes import NormalisedRequest
from sgd.errors import ApiError, ServiceUnavailable, ValidationFailed
from sgd.net.outbound import OutboundPolicy
from sgd.observability import logger, trace_id_or
from sgd.render.cache import normalised_request
from sgd.render.pipeline import JobCancelled, Prepared, RenderPipeline
from sgd.render.webhooks import WebhookKeys, deliver
from sgd.repositories.jobs import FINISHED, Job, JobRepository, RenderJobQueue, new_job_id
from sgd.tenancy import Tenant

MAX_JOB_ATTEMPTS = 3  # the queue's maxReceiveCount: after that a crash is final (failed, internal_error)
INTERNAL_ERROR = {"code": "internal_error", "message": "the render failed unexpectedly; quote the job id when "
                  "reporting it", "details": None}
# Kept back after the last asset for the job write, the plan-cache write and the webhook's first attempt.
FINISHING_RESERVE_MS = 3_000
# Asset times vary (layouts, imagery): the next one is assumed to take up to this much longer than the slowest.
ASSET_TIME_MARGIN = 1.5


def render_timeout(attempt: int, **details: Any) -> dict[str, Any]:
    """The job error for a render that did not (or would not) finish within the function's time limit."""
    return {"code": "render_timeout",
            "message": f"the render did not finish within the function's time limit (attempt {attempt} of "
                       f"{MAX_JOB_ATTEMPTS}); try fewer or smaller outputs",
            "details": {"attempt": attempt, "max_attempts": MAX_JOB_ATTEMPTS} | details}


class RemainingTime(Protocol):
    def remaining_ms(self) -> float: ...


class AssetTimeGuard:
    """Between two finished assets: is there still time to finish another before Lambda kills the function?

    Assets render concurrently, so the estimate is the slowest interval between two consecutive completions
    (from the first completion on; the first is preceded by planning and imagery, which it would overstate),
    times a margin, plus a reserve for finishing the job. A killed function records nothing; stopping here
    lets the job fail cleanly with what was stored so far.
    """

    def __init__(self, deadline: RemainingTime, *, reserve_ms: float = FINISHING_RESERVE_MS,
                 margin: float = ASSET_TIME_MARGIN, now_ms: Callable[[], float] = monotonic_ms) -> None:
        self._deadline = deadline
        self._reserve_ms = reserve_ms
        self._margin = margin
        self._now_ms = now_ms
        self._last_finished_ms: float | None = None
        self.slowest_asset_ms = 0.0
        self.out_of_time: dict[str, Any] | None = None  # the details, once it has said stop

    def asset_finished(self, done: int, total: int) -> bool:
        """Records a finished asset; False (and out_of_time set) when the next one would not finish in time."""
        now = self._now_ms()
        if self._last_finished_ms is not None:
            self.slowest_asset_ms = max(self.slowest_asset_ms, now - self._last_finished_ms)
        self._last_finished_ms = now
        if done >= total:
            return True
        remaining = self._deadline.remaining_ms()
        needed = self.slowest_asset_ms * self._margin + self._reserve_ms
        if remaining >= needed:
            return True
        self.out_of_time = {"cause": "deadline", "assets_done": done, "assets_total": total,
                            "remaining_ms": max(0, round(remaining)), "needed_ms": round(needed),
                            "slowest_asset_ms": round(self.slowest_asset_ms)}
        return False


@dataclass
class HttpOutcome:
    """A route's answer, as stored for idempotent replays: status, JSON body, headers, and S3 keys to re-sign."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        return {"status": self.status, "body": self.body, "headers": self.headers, "keys": self.keys}


class RetryLater(Exception):
    """The job crashed and has attempts left: the SQS message is reported as a batch item failure."""


def wants_async(body: RenderRequest, prefer: str | None) -> bool:
    """`"async": true`, or RFC 7240's `Prefer: respond-async` among the header's preferences."""
    preferences = {part.split(";")[0].strip().lower() for part in (prefer or "").split(",")}
    return body.run_async or "respond-async" in preferences


def idempotency_body(request: NormalisedRequest, webhook_url: str | None, run_async: bool) -> dict[str, Any]:
    """The body an Idempotency-Key is bound to: the normalised request and what else changes the response."""
    return request | {"webhook_url": webhook_url, "async": run_async}


def error_object(error: ApiError) -> dict[str, Any]:
    return {"code": error.code, "message": error.message, "details": error.details}


class RenderService:
    def __init__(self, *, pipeline: RenderPipeline, jobs: JobRepository, queue: RenderJobQueue | None,
                 webhooks: WebhookKeys, outbound: OutboundPolicy) -> None:
        self.pipeline = pipeline
        self.jobs = jobs
        self._queue = queue  # None: SGD_RENDER_JOBS_QUEUE_URL is empty, no async rendering
        self._webhooks = webhooks
        self._outbound = outbound

    def normalised(self, body: RenderRequest) -> NormalisedRequest:
        return normalised_request(body, auto_repair_default=self.pipeline.critique_policy.auto_repair_default)

    def idempotency_body(self, body: RenderRequest, run_async: bool) -> dict[str, Any]:
        return idempotency_body(self.normalised(body), body.webhook_url, run_async)

    def signing_secret(self, org: str) -> str:
        """The org's webhook signing key (503 when this deployment has no webhook secret)."""
        return self._webhooks.org_key(org)

    # -- POST /render ---------------------------------------------------------------------------------------
    async def create(self, tenant: Tenant, body: RenderRequest, *, run_async: bool, request_id: str,
                     lambda_context: Any) -> HttpOutcome:
        request = self.normalised(body)
        if body.webhook_url:
            self._check_webhook(body.webhook_url)
        prepared = self.pipeline.prepare(tenant, request, lookup_cache=not run_async)
        trace_id = trace_id_or(request_id)
        if run_async:
            return self._enqueue(tenant, request, body.webhook_url, trace_id, request_id)
        outcome = await self.pipeline.run(prepared, deadline=Deadline.from_lambda_context(lambda_context),
                                          trace_id=trace_id)
        if body.webhook_url:
            outcome.response.audit.notes.append("webhook_url is called for async jobs only; this render was sync")
        return HttpOutcome(200, outcome.response.model_dump(mode="json"), keys=outcome.keys)

    def _check_webhook(self, url: str) -> None:
        from sgd.net.outbound import OutboundFailed, OutboundRefused, check_url

        try:
            check_url(url, self._outbound)
        except OutboundRefused as refused:
            raise ValidationFailed(f"webhook_url was refused: {refused.reason}", code="webhook_refused",
                                   details={"field": "body.webhook_url", "code": refused.code,
                                            "reason": refused.reason}) from None
        except OutboundFailed as failed:  # allowed, but could never be delivered to (the host does not resolve)
            raise ValidationFailed(f"webhook_url cannot be reached: {failed.reason}", code="webhook_unreachable",
                                   details={"field": "body.webhook_url", "code": failed.code,
                                            "reason": failed.reason}) from None
        self._webhooks.require_configured()  # 503 now, not a silent unsigned delivery later

    def _enqueue(self, tenant: Tenant, request: NormalisedRequest, webhook_url: str | None, trace_id: str,
                 request_id: str) -> HttpOutcome:
        if self._queue is None:
            raise ServiceUnavailable("async rendering is not configured (SGD_RENDER_JOBS_QUEUE_URL is empty); "
                                     "render synchronously instead")
        job_id = new_job_id()
        self.jobs.create(tenant, job_id, request=request, webhook_url=webhook_url, trace_id=trace_id,
                         request_id=request_id)
        try:
            self._queue.send(tenant.org, job_id)
        except Exception:
            logger.exception("could not enqueue a render job")
            self.jobs.fail(tenant.org, job_id, INTERNAL_ERROR)
            raise ServiceUnavailable("the render job could not be queued; retry shortly",
                                     headers={"Retry-After": "1"}) from None
        location = f"/render/jobs/{job_id}"
        accepted = RenderAccepted(job_id=job_id, status="queued", location=location)
        return HttpOutcome(202, accepted.model_dump(mode="json"),
                           headers={"Location": location, "Preference-Applied": "respond-async"})

    def replayed(self, record: dict[str, Any]) -> HttpOutcome:
        """A stored outcome with its presigned URLs signed again (they expire before the idempotency record)."""
        body = record["body"]
        keys = record.get("keys") or {}
        for asset in body.get("assets") or []:
            if asset.get("id") in keys:
                asset["url"] = self.pipeline.presign(keys[asset["id"]])
        return HttpOutcome(record["status"], body, record.get("headers") or {}, keys)

    # -- job routes -------------------------------------------------------------------------------------------
    def job_view(self, job: Job) -> dict[str, Any]:
        result = job.result
        if result is not None:
            keys = job.result_keys or {}
            for asset in result.get("assets") or []:
                if asset.get("id") in keys:
                    asset["url"] = self.pipeline.presign(keys[asset["id"]])
        view = RenderJob(job_id=job.job_id, status=job.status, progress=job.progress,
                         created_at=job.created_at, updated_at=job.updated_at, result=result,  # type: ignore[arg-type]
                         error=job.error, project_id=job.project, webhook=job.webhook)  # type: ignore[arg-type]
        return view.model_dump(mode="json")

    def get_job(self, org: str, job_id: str) -> dict[str, Any]:
        return self.job_view(self.jobs.require(org, job_id))

    def cancel_job(self, org: str, job_id: str) -> dict[str, Any]:
        return self.job_view(self.jobs.cancel(org, job_id))

    # -- the worker ------------------------------------------------------------------------------------------
    async def run_job(self, org: str, job_id: str, *, attempt: int, lambda_context: Any) -> None:
        """Runs one queued job to a final state. Raises RetryLater for a crash with attempts left.

        `attempt` is the message's receive count. A job still `running` on a later receive was not requeued by a
        handled crash: the previous invocation was killed (timeout, out of memory) before any Python could run.
        It runs again while attempts are left; on the last one it fails with render_timeout, since that
        message goes to the dead-letter queue afterwards and nothing else would ever finish the job.
        """
        job = self.jobs.get(org, job_id)
        if job is None:
            logger.warning("render job message for an unknown job", extra={"job_id": job_id})
            return
        retry_note = None
        if job.status == "running" and attempt > 1:
            logger.warning("render job attempt ended without a result (timed out or killed)",
                           extra={"job_id": job_id, "attempt": attempt})
            if attempt >= MAX_JOB_ATTEMPTS:
                outputs = job.request.get("outputs") or {}
                error = render_timeout(attempt, cause="previous_attempt_killed", count=outputs.get("count"),
                                       dimensions=outputs.get("dimensions"))
                self._notify(self.jobs.fail(org, job_id, error) or self.jobs.require(org, job_id))
                return
            retry_note = f"attempt {attempt - 1} ended without a result (timed out or killed); retrying"
        if not job.finished:
            job = self.jobs.mark_running(org, job_id, retry_note) or self.jobs.require(org, job_id)
        if job.status != "running":  # cancelled before it started, or a duplicate delivery of a finished job
            self._notify(job)
            return
        deadline = Deadline.from_lambda_context(lambda_context)
        guard = AssetTimeGuard(deadline)

        def on_asset(done: int, total: int) -> bool:
            return self.jobs.progress(org, job_id, done / total) and guard.asset_finished(done, total)

        # From here on every exception is handled (requeued or failed), so a job left `running` means a kill.
        try:
            prepared: Prepared = self.pipeline.prepare(Tenant(org, job.project), job.request)
            outcome = await self.pipeline.run(prepared, deadline=deadline, trace_id=job.trace_id,
                                              on_asset=on_asset)
            final = self.jobs.succeed(org, job_id, outcome.response.model_dump(mode="json"), outcome.keys)
        except JobCancelled:  # by DELETE, or by the guard: the assets stored so far stay
            final = self.jobs.fail(org, job_id, render_timeout(attempt, **guard.out_of_time)) \
                if guard.out_of_time else None
        except ApiError as error:  # the request's own fault (or the provider's), discovered in the worker
            final = self.jobs.fail(org, job_id, error_object(error))
        except Exception:
            logger.exception("render job crashed", extra={"job_id": job_id, "attempt": attempt})
            if attempt < MAX_JOB_ATTEMPTS:
                self.jobs.requeue(org, job_id, f"attempt {attempt} failed; retrying")
                raise RetryLater from None
            final = self.jobs.fail(org, job_id, INTERNAL_ERROR)
        self._notify(final or self.jobs.require(org, job_id))

    def _notify(self, job: Job) -> None:
        """Delivers the completion webhook once per job (a redelivered message does not post twice)."""
        if not job.webhook_url or job.status not in FINISHED or job.webhook:
            return
        try:
            secret = self._webhooks.org_key(job.org)  # signed with the job's org's own key
        except ApiError as error:
            self.jobs.record_webhook(job.org, job.job_id, {"status": "failed", "attempts": 0,
                                                           "last_status": None, "reason": error.message})
            return
        delivery = deliver(job.webhook_url, f"render.{job.status}", self.job_view(job), secret,
                           policy=self._outbound)
        self.jobs.record_webhook(job.org, job.job_id, delivery.as_record())
