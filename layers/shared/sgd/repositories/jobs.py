"""Async render jobs: the job record in the jobs table (pk org, sk job#{id}), its state machine, and the queue that
carries one message per job to the worker.

    queued -> running -> succeeded | failed        queued | running -> cancelled (DELETE)

Every transition is a conditional write, so a cancel racing the worker has one winner: a job cancelled while
running stays cancelled even if its last asset finishes afterwards.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, cast

from sgd.adapters.clock import Clock, epoch_seconds
from sgd.adapters.tables import ItemTable, Update, absent, exists, one_of
from sgd.contracts.shapes import NormalisedRequest
from sgd.errors import Conflict, NotFound
from sgd.repositories.records import from_item, to_item
from sgd.tenancy import Tenant

JOB_PREFIX = "job#"
JOB_TTL_SECONDS = 7 * 24 * 3600
ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled")

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


def new_job_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Job:
    """A job as stored. Only its identity and status are required to read it: a row missing the rest is a job the
    worker fails cleanly (internal_error), never one it cannot even load."""

    org: str
    job_id: str
    status: JobStatus
    project: str = ""
    request: NormalisedRequest = field(default_factory=lambda: cast(NormalisedRequest, {}))  # none: a corrupt row
    trace_id: str = ""
    request_id: str = ""
    created_at: str = ""
    updated_at: str = ""
    expires_at: int = 0
    progress: float = 0
    webhook_url: str | None = None
    result: dict[str, Any] | None = None  # the RenderResponse as JSON
    result_keys: dict[str, str] | None = None  # asset id -> S3 key, to presign again on every read
    error: dict[str, Any] | None = None  # {code, message, details}
    webhook: dict[str, Any] | None = None  # the delivery's outcome
    retry_note: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class JobRepository:
    def __init__(self, table: ItemTable, clock: Clock) -> None:
        self._table = table
        self._clock = clock

    @staticmethod
    def key(org: str, job_id: str) -> tuple[str, str]:
        """The job's (pk, sk): keyed by org, so another org's job id finds nothing."""
        return Tenant.org_partition_key(org), f"{JOB_PREFIX}{job_id}"

    def _now(self) -> str:
        return self._clock.now().isoformat()

    def create(self, tenant: Tenant, job_id: str, *, request: NormalisedRequest, webhook_url: str | None,
               trace_id: str, request_id: str) -> Job:
        now = self._now()
        job = Job(org=tenant.org, job_id=job_id, project=tenant.project, status="queued", request=request,
                  trace_id=trace_id, request_id=request_id, created_at=now, updated_at=now,
                  expires_at=epoch_seconds(self._clock) + JOB_TTL_SECONDS, webhook_url=webhook_url)
        self._table.put(to_item(job, **dict(zip(("pk", "sk"), self.key(tenant.org, job_id), strict=True))),
                        when=absent("pk"))
        return job

    def get(self, org: str, job_id: str) -> Job | None:
        item = self._table.get(*self.key(org, job_id))
        return from_item(Job, item) if item is not None else None

    def require(self, org: str, job_id: str) -> Job:
        job = self.get(org, job_id)
        if job is None:
            raise NotFound(f"render job {job_id} not found", details={"job_id": job_id})
        return job

    def _transition(self, org: str, job_id: str, *, to: dict[str, Any], when: tuple[str, ...]) -> Job | None:
        """Sets the attributes in `to` if the job's status is one of `when`; the job as updated, or None if not."""
        updated = self._table.update(*self.key(org, job_id), Update(set=to | {"updated_at": self._now()}),
                                     when=exists("pk") & one_of("status", when))
        return from_item(Job, updated) if updated is not None else None

    def mark_running(self, org: str, job_id: str, note: str | None = None) -> Job | None:
        """queued (or running again, on a redelivered message) -> running; None if cancelled or finished.
        `note` says why it runs again (a retry_note, like requeue's)."""
        to: dict[str, Any] = {"status": "running", "progress": 0} | ({"retry_note": note} if note else {})
        return self._transition(org, job_id, to=to, when=ACTIVE)

    def requeue(self, org: str, job_id: str, note: str) -> Job | None:
        """After a crash that will be retried: back to queued, so GET shows the job waiting, not stuck."""
        return self._transition(org, job_id, to={"status": "queued", "retry_note": note}, when=("running",))

    def progress(self, org: str, job_id: str, fraction: float) -> bool:
        """Records progress; False once the job is no longer running (cancelled), which stops the worker."""
        return self._transition(org, job_id, to={"progress": round(fraction, 4)}, when=("running",)) is not None

    def succeed(self, org: str, job_id: str, result: dict[str, Any], keys: dict[str, str]) -> Job | None:
        return self._transition(org, job_id, to={"status": "succeeded", "progress": 1, "result": result,
                                                 "result_keys": keys}, when=("running",))

    def fail(self, org: str, job_id: str, error: dict[str, Any]) -> Job | None:
        return self._transition(org, job_id, to={"status": "failed", "error": error}, when=ACTIVE)

    def cancel(self, org: str, job_id: str) -> Job:
        """DELETE: queued or running -> cancelled; 404 for an unknown (or another org's) job, 409 if finished."""
        cancelled = self._transition(org, job_id, to={"status": "cancelled"}, when=ACTIVE)
        if cancelled is not None:
            return cancelled
        job = self.require(org, job_id)
        raise Conflict(f"render job {job_id} already finished ({job.status}); only queued or running jobs can "
                       "be cancelled", code="job_finished", details={"job_id": job_id, "status": job.status})

    def record_webhook(self, org: str, job_id: str, webhook: dict[str, Any]) -> None:
        self._transition(org, job_id, to={"webhook": webhook}, when=FINISHED)


class MessageQueue(Protocol):
    def send(self, body: str) -> None: ...


@dataclass(frozen=True, slots=True)
class JobMessage:
    org: str
    job_id: str


class RenderJobQueue:
    """One message per job on the render jobs queue: {"org", "job_id"}, nothing else (the job record holds the rest)."""

    def __init__(self, queue: MessageQueue) -> None:
        self._queue = queue

    def send(self, org: str, job_id: str) -> None:
        self._queue.send(json.dumps({"org": org, "job_id": job_id}))

    @staticmethod
    def parse(body: str) -> JobMessage:
        """A message's job; ValueError for one that is not a job message."""
        try:
            message = json.loads(body)
            return JobMessage(str(message["org"]), str(message["job_id"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a render job message: {error}") from None
