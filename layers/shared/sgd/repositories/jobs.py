"""Async render jobs: the job record in the jobs table (pk org, sk job#{id}) and its state machine.

    queued -> running -> succeeded | failed        queued | running -> cancelled (DELETE)

Every transition is a conditional write, so a cancel racing the worker has one winner: a job cancelled while
running stays cancelled even if its last asset finishes afterwards.
"""

from __future__ import annotations

import uuid
from typing import Any

from sgd.adapters.clock import Clock, SystemClock, epoch_seconds
from sgd.adapters.tables import ItemTable
from sgd.errors import Conflict, NotFound
from sgd.tenancy import Tenant

JOB_PREFIX = "job#"
JOB_TTL_SECONDS = 7 * 24 * 3600
ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled")


def new_job_id() -> str:
    return uuid.uuid4().hex


def job_key(org: str, job_id: str) -> tuple[str, str]:
    return Tenant.org_partition_key(org), f"{JOB_PREFIX}{job_id}"


class JobStore:
    def __init__(self, table: ItemTable, clock: Clock | None = None) -> None:
        self._table = table
        self._clock = clock or SystemClock()

    def _now(self) -> str:
        return self._clock.now().isoformat()

    def create(self, tenant: Tenant, job_id: str, *, request: dict[str, Any], webhook_url: str | None,
               trace_id: str, request_id: str) -> dict[str, Any]:
        now = self._now()
        item = {
            "pk": Tenant.org_partition_key(tenant.org), "sk": f"{JOB_PREFIX}{job_id}", "job_id": job_id,
            "org": tenant.org, "project": tenant.project, "status": "queued", "progress": 0, "request": request,
            "webhook_url": webhook_url, "trace_id": trace_id, "request_id": request_id,
            "created_at": now, "updated_at": now, "expires_at": epoch_seconds(self._clock) + JOB_TTL_SECONDS,
        }
        self._table.put(item, only_if_absent=True)
        return item

    def get(self, org: str, job_id: str) -> dict[str, Any] | None:
        return self._table.get(*job_key(org, job_id))

    def require(self, org: str, job_id: str) -> dict[str, Any]:
        job = self.get(org, job_id)
        if job is None:
            raise NotFound(f"render job {job_id} not found", details={"job_id": job_id})
        return job

    def _transition(self, org: str, job_id: str, *, to: dict[str, Any], when: tuple[str, ...]) -> dict[str, Any] | None:
        """Sets the attributes in `to` if the job's status is one of `when`; the new item, or None if not."""
        values = to | {"updated_at": self._now()}
        names = {f"#a{i}": name for i, name in enumerate(values)}
        expression_values = {f":v{i}": value for i, value in enumerate(values.values())}
        allowed = {f":s{i}": status for i, status in enumerate(when)}
        update = "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values)))
        return self._table.update_if(*job_key(org, job_id), update=update,
                                     condition=f"attribute_exists(pk) AND #status IN ({', '.join(allowed)})",
                                     names=names | {"#status": "status"}, values=expression_values | allowed)

    def mark_running(self, org: str, job_id: str, note: str | None = None) -> dict[str, Any] | None:
        """queued (or running again, on a redelivered message) -> running; None if cancelled or finished.
        `note` says why it runs again (a retry_note, like requeue's)."""
        to: dict[str, Any] = {"status": "running", "progress": 0} | ({"retry_note": note} if note else {})
        return self._transition(org, job_id, to=to, when=ACTIVE)

    def requeue(self, org: str, job_id: str, note: str) -> dict[str, Any] | None:
        """After a crash that will be retried: back to queued, so GET shows the job waiting, not stuck."""
        return self._transition(org, job_id, to={"status": "queued", "retry_note": note}, when=("running",))

    def progress(self, org: str, job_id: str, fraction: float) -> bool:
        """Records progress; False once the job is no longer running (cancelled), which stops the worker."""
        return self._transition(org, job_id, to={"progress": round(fraction, 4)}, when=("running",)) is not None

    def succeed(self, org: str, job_id: str, result: dict[str, Any], keys: dict[str, str]) -> dict[str, Any] | None:
        return self._transition(org, job_id, to={"status": "succeeded", "progress": 1, "result": result,
                                                 "result_keys": keys}, when=("running",))

    def fail(self, org: str, job_id: str, error: dict[str, Any]) -> dict[str, Any] | None:
        return self._transition(org, job_id, to={"status": "failed", "error": error}, when=ACTIVE)

    def cancel(self, org: str, job_id: str) -> dict[str, Any]:
        """DELETE: queued or running -> cancelled; 404 for an unknown (or another org's) job, 409 if finished."""
        cancelled = self._transition(org, job_id, to={"status": "cancelled"}, when=ACTIVE)
        if cancelled is not None:
            return cancelled
        job = self.require(org, job_id)
        raise Conflict(f"render job {job_id} already finished ({job['status']}); only queued or running jobs can "
                       "be cancelled", code="job_finished", details={"job_id": job_id, "status": job["status"]})

    def record_webhook(self, org: str, job_id: str, webhook: dict[str, Any]) -> None:
        self._transition(org, job_id, to={"webhook": webhook}, when=FINISHED)
