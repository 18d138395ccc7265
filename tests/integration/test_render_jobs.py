"""Async render jobs through the real path: POST -> jobs table + RenderJobsQueue -> the local SQS event source ->
the render function's worker -> the job record; GET, DELETE, failures, retries and the dead-letter queue."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from sgd.contracts.render import RenderRequest
from sgd.render.cache import normalised_request
from sgd.render.service import FINISHING_RESERVE_MS, MAX_JOB_ATTEMPTS, AssetTimeGuard, RenderService
from sgd.repositories.jobs import JobRepository
from sgd.tenancy import Tenant

from bench.support.seeds import runtime_adapters, seed_asset
from tests.conftest import ApiClient, run_async
from tests.integration.test_render_route import new_project, render_body

pytestmark = pytest.mark.integration


def wait_for(api: ApiClient, location: str, statuses: tuple[str, ...], timeout_s: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        job = api.request("GET", location).json()
        if job.get("status") in statuses or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def test_an_async_job_runs_to_success_and_only_its_org_sees_it(api: ApiClient, api_other_org: ApiClient) -> None:
    body = render_body(new_project(), outputs={"count": 2, "format": "png", "dimensions": "320x320"})
    accepted = api.request("POST", "/render", body, headers={"prefer": "respond-async, wait=10"})
    assert accepted.status == 202, accepted.body
    location = accepted.headers["location"]
    job_id = accepted.json()["job_id"]
    assert location == f"/render/jobs/{job_id}" == accepted.json()["location"]
    assert accepted.json()["status"] == "queued"

    seen = {api.request("GET", location).json()["status"]}
    job = wait_for(api, location, ("succeeded", "failed"))
    seen.add(job["status"])
    assert job["status"] == "succeeded", job
    assert seen <= {"queued", "running", "succeeded"}
    assert job["progress"] == 1
    assert job["error"] is None
    assert job["project_id"] == body["project_id"]
    assert [asset["width"] for asset in job["result"]["assets"]] == [320, 320]
    assert job["result"]["audit"]["model_route"] == ["local/planner", "local/compositor"]

    assert api_other_org.request("GET", location).status == 404
    assert api_other_org.request("DELETE", location).status == 404
    finished = api.request("DELETE", location)
    assert finished.status == 409
    assert finished.json()["error"]["code"] == "job_finished"


def test_a_body_flag_also_makes_a_job_and_cancel_stops_it(api: ApiClient) -> None:
    body = render_body(new_project(), outputs={"count": 6, "format": "png", "dimensions": "2048x2048"}) | {
        "async": True}
    accepted = api.request("POST", "/render", body)
    assert accepted.status == 202, accepted.body
    cancelled = api.request("DELETE", accepted.headers["location"])
    assert cancelled.status == 200, cancelled.body
    assert cancelled.json()["status"] == "cancelled"
    time.sleep(1.5)  # the worker sees the cancellation (before starting, or between assets) and stops
    job = api.request("GET", accepted.headers["location"]).json()
    assert job["status"] == "cancelled"
    assert job["result"] is None
    assert job["progress"] < 1


def test_a_client_fault_found_by_the_worker_fails_the_job_with_its_4xx_error(runtime: Any, api: ApiClient) -> None:
    project = new_project()
    tenant = Tenant("acme", project)
    seed_asset(runtime_adapters(runtime), tenant, "guide1", b"%PDF-1.7", kind="pdf", content_type="application/pdf",
               filename="guide.pdf")
    body = render_body(project, prompts={"task": "edit", "instruction": "Make it autumnal",
                                         "references": ["guide1"]}) | {"async": True}
    accepted = api.request("POST", "/render", body)
    assert accepted.status == 202, accepted.body  # the reference exists; only the worker learns it is a PDF
    job = wait_for(api, accepted.headers["location"], ("succeeded", "failed"))
    assert job["status"] == "failed"
    assert job["error"]["code"] == "reference_not_image"
    assert job["error"]["details"]["content_type"] == "application/pdf"


def test_a_crash_is_retried_then_failed_without_leaking_the_exception(runtime: Any, api: ApiClient) -> None:
    project = new_project()
    tenant = Tenant("acme", project)
    seed_asset(runtime_adapters(runtime), tenant, "gone1", None, filename="gone.png")  # its S3 object was lost
    body = render_body(project, prompts={"task": "variations", "instruction": "Three more of these",
                                         "references": ["gone1"]}) | {"async": True}
    accepted = api.request("POST", "/render", body)
    assert accepted.status == 202
    job = wait_for(api, accepted.headers["location"], ("succeeded", "failed"), timeout_s=30)
    assert job["status"] == "failed", job
    assert job["error"]["code"] == "internal_error"
    assert "NoSuchKey" not in json.dumps(job["error"])
    assert "gone.png" not in json.dumps(job["error"])


def test_a_job_row_missing_its_project_is_a_handled_crash_not_a_stuck_job(runtime: Any, api: ApiClient) -> None:
    job_id = uuid.uuid4().hex
    jobs = job_repository(runtime)
    put_raw_job(runtime, job_id, {"job_id": job_id, "org": "acme", "status": "queued", "progress": 0,
                                  "created_at": "2026-01-01T00:00:00+00:00", "updated_at": "2026-01-01T00:00:00+00:00"})
    first = runtime.invoke("RenderFunction", job_message(job_id, 1))
    assert len(first.payload["batchItemFailures"]) == 1  # retried: requeued, not left running
    assert jobs.require("acme", job_id).status == "queued"
    last = runtime.invoke("RenderFunction", job_message(job_id, MAX_JOB_ATTEMPTS))
    assert last.payload == {"batchItemFailures": []}
    assert (jobs.require("acme", job_id).error or {})["code"] == "internal_error"


def test_a_message_the_worker_cannot_process_goes_to_the_dead_letter_queue(runtime: Any) -> None:
    sqs = runtime.aws.client("sqs")
    job_id = uuid.uuid4().hex
    # A job row without a status: the worker cannot tell what state it is in, and raises on every receive.
    put_raw_job(runtime, job_id, {"job_id": job_id, "project": "p-unreadable"})
    queues = {url.rsplit("/", 1)[1]: url for url in sqs.list_queues()["QueueUrls"]}
    sqs.send_message(QueueUrl=queues["RenderJobsQueue"], MessageBody=json.dumps({"org": "acme", "job_id": job_id}))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queues["RenderJobsDeadLetterQueue"], WaitTimeSeconds=0,
                                       AttributeNames=["All"]).get("Messages", [])
        if messages:
            break
        time.sleep(0.2)
    assert messages, "the message never reached the dead-letter queue"
    assert json.loads(messages[0]["Body"])["job_id"] == job_id
    assert int(messages[0]["Attributes"]["ApproximateReceiveCount"]) >= 3


# -- attempts that never finish: killed by the timeout or out of memory, or about to run out of time -----------------
def job_repository(runtime: Any) -> JobRepository:
    adapters = runtime_adapters(runtime)
    return JobRepository(adapters.jobs_table, adapters.clock)


def put_raw_job(runtime: Any, job_id: str, attributes: dict[str, Any]) -> None:
    """A job row as no code path writes it (fields missing): how the worker copes with a corrupt record."""
    pk, sk = JobRepository.key("acme", job_id)
    runtime_adapters(runtime).jobs_table.put({"pk": pk, "sk": sk} | attributes)


def stale_running_job(runtime: Any, *, webhook_url: str | None = None,
                      count: int = 1) -> tuple[JobRepository, str]:
    """A job as a killed attempt leaves it: marked running, then nothing (no requeue, no result, no error)."""
    jobs = job_repository(runtime)
    tenant, job_id = Tenant("acme", new_project()), uuid.uuid4().hex
    body = render_body(tenant.project, outputs={"count": count, "format": "png", "dimensions": "320x320"})
    jobs.create(tenant, job_id, request=normalised_request(RenderRequest.model_validate(body),
                                                           auto_repair_default=True),
                webhook_url=webhook_url, trace_id="trace-stale", request_id="req-stale")
    assert jobs.mark_running("acme", job_id) is not None
    return jobs, job_id


def job_message(job_id: str, receive_count: int) -> dict[str, Any]:
    """The event Lambda's SQS poller sends RenderFunction for one RenderJobsQueue message."""
    return {"Records": [{
        "messageId": uuid.uuid4().hex, "receiptHandle": "handle", "md5OfBody": "",
        "body": json.dumps({"org": "acme", "job_id": job_id}),
        "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": "1800000000000"},
        "messageAttributes": {}, "eventSource": "aws:sqs", "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:RenderJobsQueue"}]}


def test_a_job_still_running_on_the_last_receive_fails_with_render_timeout_and_notifies(runtime: Any,
                                                                                        api: ApiClient) -> None:
    # The loopback receiver is refused by this runtime's SSRF guard: the recorded delivery shows it was attempted.
    jobs, job_id = stale_running_job(runtime, webhook_url="https://127.0.0.1/hooks/sgd", count=6)
    invocation = runtime.invoke("RenderFunction", job_message(job_id, MAX_JOB_ATTEMPTS))
    assert invocation.ok, invocation.payload
    assert invocation.payload == {"batchItemFailures": []}  # consumed: the job is final, no dead letter needed

    job = api.request("GET", f"/render/jobs/{job_id}").json()
    assert job["status"] == "failed", job
    assert job["result"] is None
    error = job["error"]
    assert error["code"] == "render_timeout"
    assert f"attempt {MAX_JOB_ATTEMPTS} of {MAX_JOB_ATTEMPTS}" in error["message"]
    assert "fewer or smaller outputs" in error["message"]
    assert error["details"].items() >= {"attempt": 3, "max_attempts": 3, "cause": "previous_attempt_killed",
                                        "count": 6, "dimensions": "320x320"}.items()
    assert job["webhook"]["status"] == "refused"
    assert job["webhook"]["attempts"] == 1

    again = runtime.invoke("RenderFunction", job_message(job_id, MAX_JOB_ATTEMPTS + 1))  # a late duplicate
    assert again.ok
    assert again.payload == {"batchItemFailures": []}
    assert jobs.require("acme", job_id).webhook == job["webhook"]  # not delivered twice


def test_a_job_still_running_on_an_earlier_receive_runs_again_and_succeeds(runtime: Any, api: ApiClient) -> None:
    jobs, job_id = stale_running_job(runtime, count=2)
    invocation = runtime.invoke("RenderFunction", job_message(job_id, 2))
    assert invocation.ok, invocation.payload
    assert invocation.payload == {"batchItemFailures": []}
    job = api.request("GET", f"/render/jobs/{job_id}").json()
    assert job["status"] == "succeeded", job
    assert job["error"] is None
    assert len(job["result"]["assets"]) == 2
    assert jobs.require("acme", job_id).retry_note == ("attempt 1 ended without a result (timed out or killed); "
                                                      "retrying")


def test_a_first_receive_of_a_running_job_is_not_taken_for_a_dead_attempt(runtime: Any, api: ApiClient) -> None:
    _, job_id = stale_running_job(runtime)  # receive 1: nothing ran before, whatever the row says
    assert runtime.invoke("RenderFunction", job_message(job_id, 1)).ok
    assert api.request("GET", f"/render/jobs/{job_id}").json()["status"] == "succeeded"


# -- the time check between assets --------------------------------------------------------------------------------
class FakeDeadline:
    def __init__(self, remaining_ms: float) -> None:
        self.remaining = remaining_ms

    def remaining_ms(self) -> float:
        return self.remaining


class FakeMonotonic:
    def __init__(self) -> None:
        self.at = 0.0

    def __call__(self) -> float:
        return self.at


def test_the_guard_stops_when_the_slowest_asset_with_its_margin_no_longer_fits() -> None:
    deadline, now = FakeDeadline(20_000), FakeMonotonic()
    guard = AssetTimeGuard(deadline, reserve_ms=2_000, margin=1.5, now_ms=now)
    now.at = 9_000  # planning, imagery and the first asset: not taken as an asset's time
    assert guard.asset_finished(1, 6)
    assert guard.slowest_asset_ms == 0
    now.at, deadline.remaining = 9_100, 19_900  # rendered alongside the first
    assert guard.asset_finished(2, 6)
    now.at, deadline.remaining = 13_100, 15_900  # 4 s per asset: 4000 * 1.5 + 2000 = 8000 needed
    assert guard.asset_finished(3, 6)
    assert guard.out_of_time is None
    now.at, deadline.remaining = 17_100, 7_999
    assert not guard.asset_finished(4, 6)
    assert guard.out_of_time == {"cause": "deadline", "assets_done": 4, "assets_total": 6, "remaining_ms": 7_999,
                                 "needed_ms": 8_000, "slowest_asset_ms": 4_000}


def test_the_guard_never_stops_after_the_last_asset_and_keeps_the_reserve_before_any_estimate() -> None:
    now = FakeMonotonic()
    assert AssetTimeGuard(FakeDeadline(0), now_ms=now).asset_finished(3, 3)  # nothing more to render
    guard = AssetTimeGuard(FakeDeadline(FINISHING_RESERVE_MS - 1), now_ms=now)
    assert not guard.asset_finished(1, 3)
    assert guard.out_of_time is not None
    assert guard.out_of_time["slowest_asset_ms"] == 0
    assert AssetTimeGuard(FakeDeadline(FINISHING_RESERVE_MS), now_ms=now).asset_finished(1, 3)


@pytest.fixture
def in_process_render(runtime: Any) -> RenderService:
    """A RenderService in this process with RenderFunction's settings, built by the composition root against the
    runtime's embedded AWS."""
    from sgd.composition import Adapters, render_service
    from sgd.settings import Settings

    settings = Settings.model_validate(runtime.function_environment("RenderFunction"))
    return render_service(settings, Adapters.from_settings(settings, clients=runtime.aws.client))


class ShortLambdaContext:
    """A Lambda context near its end: too little time left for another asset."""

    def get_remaining_time_in_millis(self) -> int:
        return FINISHING_RESERVE_MS - 500


def test_a_worker_short_of_time_fails_the_job_cleanly_and_keeps_what_it_stored(
        runtime: Any, api: ApiClient, in_process_render: RenderService) -> None:
    jobs, job_id = stale_running_job(runtime, count=3)
    run_async(in_process_render.run_job("acme", job_id, attempt=1, lambda_context=ShortLambdaContext()))
    job = api.request("GET", f"/render/jobs/{job_id}").json()
    assert job["status"] == "failed", job
    assert job["result"] is None
    error = job["error"]
    assert error["code"] == "render_timeout"
    assert "attempt 1 of 3" in error["message"]
    assert error["details"]["cause"] == "deadline"
    assert error["details"]["assets_total"] == 3
    assert 1 <= error["details"]["assets_done"] < 3
    assert 0 < job["progress"] < 1
    project = jobs.require("acme", job_id).project
    stored = runtime.aws.client("s3").list_objects_v2(Bucket=runtime.stack.bucket_name,
                                                      Prefix=f"org/acme/projects/{project}/renders/")
    assert stored.get("KeyCount", 0) >= error["details"]["assets_done"]  # the finished assets stay
