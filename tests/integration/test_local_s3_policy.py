"""The local runtime's S3 refuses what real S3 refuses: a presigned POST that breaks its policy (another key, another
content type, a file over its size range, a tampered or expired policy) and anonymous writes; and the ingest
pipeline only ever processes files that POST /uploads issued a ticket for. Over real HTTP to the embedded S3."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sgd_local.aws import LOCAL_CREDENTIALS
from sgd_local.s3_guard import Refused, check_post_policy, signing_key
from tests.integration.test_ingest_pipeline import upload_ledger

pytestmark = pytest.mark.integration


def ticket(api: Any, project: str, *, filename: str = "guide.txt", content_type: str = "text/plain",
           size: int = 64) -> dict[str, Any]:
    response = api.request("POST", "/uploads", {"project_id": project, "filename": filename,
                                                "content_type": content_type, "size_bytes": size})
    assert response.status == 200, response.body
    return response.json()


def post(ticket_body: dict[str, Any], data: bytes, **field_changes: str) -> httpx.Response:
    fields = ticket_body["fields"] | field_changes
    return httpx.post(ticket_body["url"], data=fields, files={"file": ("f", data, "text/plain")}, timeout=30)


def object_exists(runtime: Any, key: str) -> bool:
    s3 = runtime.aws.client("s3")
    return s3.list_objects_v2(Bucket=runtime.stack.bucket_name, Prefix=key).get("KeyCount", 0) > 0


def test_the_ticket_as_issued_is_accepted(api: Any, runtime: Any) -> None:
    issued = ticket(api, "s3-policy")
    assert post(issued, b"Brand voice: warm.").status_code == 204
    assert object_exists(runtime, issued["key"])


def test_another_orgs_key_is_refused_and_nothing_reaches_its_project(api: Any, api_other_org: Any,
                                                                     runtime: Any) -> None:
    mine = ticket(api, "s3-attack")
    victims = ticket(api_other_org, "victim")
    forged_key = victims["key"].rsplit("/", 1)[0] + "/planted.txt"
    response = post(mine, b"Brand voice: hostile.", key=forged_key)
    assert response.status_code == 403
    assert "<Code>AccessDenied</Code>" in response.text
    assert "$key" in response.text
    assert not object_exists(runtime, forged_key)
    time.sleep(0.3)  # had it been stored, the notification would have been delivered by now
    status = api_other_org.request("GET", f"/uploads/{victims['upload_id']}?project_id=victim").json()
    assert status["status"] == "pending"


@pytest.mark.parametrize(("changes", "code"), [
    ({"Content-Type": "application/pdf"}, "AccessDenied"),
    ({"signature": base64.b64encode(b"0" * 20).decode()}, "SignatureDoesNotMatch"),
    ({"AWSAccessKeyId": "AKIAOTHER"}, "InvalidAccessKeyId"),
    ({"success_action_status": "201"}, "AccessDenied"),  # a field no condition covers
])
def test_a_form_that_breaks_its_policy_is_refused(api: Any, runtime: Any, changes: dict[str, str],
                                                  code: str) -> None:
    issued = ticket(api, "s3-policy")
    response = post(issued, b"Brand voice: warm.", **changes)
    assert response.status_code == 403, response.text
    assert f"<Code>{code}</Code>" in response.text
    assert not object_exists(runtime, issued["key"])


def test_a_tampered_policy_fails_its_signature(api: Any, runtime: Any) -> None:
    issued = ticket(api, "s3-policy", size=10)
    policy = json.loads(base64.b64decode(issued["fields"]["policy"]))
    policy["conditions"] = [c for c in policy["conditions"] if not (isinstance(c, list) and c[0] ==
                                                                    "content-length-range")]
    tampered = base64.b64encode(json.dumps(policy).encode()).decode()
    response = post(issued, b"x" * 100, policy=tampered)
    assert response.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in response.text


def test_a_file_outside_the_size_range_is_refused(api: Any, runtime: Any) -> None:
    issued = ticket(api, "s3-policy", size=10)
    response = post(issued, b"x" * 11)
    assert response.status_code == 400
    assert "<Code>EntityTooLarge</Code>" in response.text
    assert not object_exists(runtime, issued["key"])


def test_anonymous_writes_are_refused(runtime: Any) -> None:
    bucket_url = f"{runtime.aws.endpoint}/{runtime.stack.bucket_name}"
    key = "uploads/acme/anon/up-anon/x.txt"
    assert httpx.put(f"{bucket_url}/{key}", content=b"hello", timeout=30).status_code == 403
    assert httpx.post(bucket_url, data={"key": key}, files={"file": ("x", b"hello", "text/plain")},
                      timeout=30).status_code == 403
    assert httpx.delete(f"{bucket_url}/{key}", timeout=30).status_code == 403
    assert not object_exists(runtime, key)


def test_an_expired_policy_is_refused() -> None:
    """A SigV4 form (the other signature boto3 makes) against the clock: valid until its expiration, then 403."""
    issued_at = datetime(2026, 12, 1, 12, tzinfo=UTC)
    credential = f"{LOCAL_CREDENTIALS['aws_access_key_id']}/20261201/us-east-1/s3/aws4_request"
    signed = {"x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-credential": credential, "x-amz-date": "20261201T120000Z"}
    policy = {"expiration": (issued_at + timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "conditions": [{"bucket": "b"}, {"key": "k"}, *({name: value} for name, value in signed.items())]}
    encoded = base64.b64encode(json.dumps(policy).encode()).decode()
    signature = hmac.new(signing_key(LOCAL_CREDENTIALS["aws_secret_access_key"], "20261201", "us-east-1", "s3"),
                         encoded.encode(), hashlib.sha256).hexdigest()
    fields = {"key": "k", "policy": encoded, "x-amz-signature": signature} | signed
    check_post_policy(fields, 5, "b", now=issued_at + timedelta(minutes=14))
    with pytest.raises(Refused, match="expired"):
        check_post_policy(fields, 5, "b", now=issued_at + timedelta(minutes=16))
    with pytest.raises(Refused, match=r"\$key"):
        check_post_policy(fields | {"key": "uploads/other-org/x"}, 5, "b", now=issued_at)


def test_a_file_written_without_a_ticket_is_never_ingested(api: Any, runtime: Any) -> None:
    """Even a signed (operator's) write under uploads/ is ignored unless POST /uploads issued its upload id."""
    key = "uploads/acme/no-ticket/up-never-issued/guide.txt"
    runtime.aws.client("s3").put_object(Bucket=runtime.stack.bucket_name, Key=key, Body=b"Brand voice: warm.")
    time.sleep(0.5)  # the notification is delivered and ignored
    from sgd.tenancy import Tenant

    assert upload_ledger(runtime).get(Tenant("acme", "no-ticket"), "up-never-issued") is None
    response = api.request("POST", "/ingest", {"project_id": "no-ticket", "assets": ["up-never-issued"]})
    assert response.json()["rejected"][0]["code"] == "unknown_upload"
