"""Async render jobs through the real path: POST -> jobs table + RenderJobsQueue -> the local SQS event source ->
the render function's worker -> the job record; GET, DELETE, failures, retries and the dead-letter queue."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from sgd.adapters.tables import DynamoItemTable
from sgd.tenancy import Tenant

from tests.conftest import ApiClient
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
    DynamoItemTable("AssetsTable", runtime.aws.client("dynamodb")).put({
        "pk": tenant.partition_key, "sk": "asset#guide1", "kind": "pdf", "content_type": "application/pdf",
        "key": tenant.area_key("assets", "guide1", "guide.pdf"), "status": "admitted"})
    runtime.aws.client("s3").put_object(Bucket=runtime.stack.bucket_name, Key=tenant.area_key(
        "assets", "guide1", "guide.pdf"), Body=b"%PDF-1.7")
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
    DynamoItemTable("AssetsTable", runtime.aws.client("dynamodb")).put({  # its S3 object was lost
        "pk": tenant.partition_key, "sk": "asset#gone1", "kind": "image", "content_type": "image/png",
        "key": tenant.area_key("assets", "gone1", "gone.png"), "status": "admitted"})
    body = render_body(project, prompts={"task": "variations", "instruction": "Three more of these",
                                         "references": ["gone1"]}) | {"async": True}
    accepted = api.request("POST", "/render", body)
    assert accepted.status == 202
    job = wait_for(api, accepted.headers["location"], ("succeeded", "failed"), timeout_s=30)
    assert job["status"] == "failed", job
    assert job["error"]["code"] == "internal_error"
    assert "NoSuchKey" not in json.dumps(job["error"])
    assert "gone.png" not in json.dumps(job["error"])


def test_a_message_the_worker_cannot_process_goes_to_the_dead_letter_queue(runtime: Any) -> None:
    sqs = runtime.aws.client("sqs")
    job_id = uuid.uuid4().hex
    # A job row without its project: the worker raises before it can record anything, on every receive.
    DynamoItemTable("JobsTable", runtime.aws.client("dynamodb")).put({
        "pk": "org#acme", "sk": f"job#{job_id}", "job_id": job_id, "status": "queued"})
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
