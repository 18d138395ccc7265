"""Writes events/<function>/*.json: API Gateway v2 and S3 put events in `sam local generate-event`'s shape.

Deterministic (fixed ids and times), so re-running it only changes files when the contract changes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sgd_local.apigw import HttpRequest, build_event  # noqa: E402
from sgd_local.template import read_stack  # noqa: E402

CLAIMS = {"sub": "3f1c2a9e-user", "org": "acme", "iss": "https://sgd.local/", "aud": "sgd-api",
          "iat": "1764000000", "exp": "1764003600", "scope": "sgd/design"}
RENDER = {"project_id": "brand-kit", "prompts": {"task": "create", "instruction":
          "Launch post for our autumn blend: \"Fresh roast, every morning\"", "references": []},
          "outputs": {"count": 1, "format": "png", "dimensions": "1080x1080"},
          "constraints": {"palette_hex": [], "fonts": [], "logo_safe_zone_pct": 8}}
HTTP_EVENTS = {
    "render/post_render.json": ("POST", "/render", RENDER),
    "render/get_job.json": ("GET", "/render/jobs/job-0001", None),
    "render/cancel_job.json": ("DELETE", "/render/jobs/job-0001", None),
    "render/get_signing_secret.json": ("GET", "/webhooks/signing-secret", None),
    "ingest/post_uploads.json": ("POST", "/uploads", {"project_id": "brand-kit", "filename": "guidelines.pdf",
                                                       "content_type": "application/pdf", "size_bytes": 48213}),
    "ingest/post_ingest.json": ("POST", "/ingest", {"project_id": "brand-kit", "assets": ["up-demo-1"]}),
    "canon/post_derive.json": ("POST", "/canon/derive", {"project_id": "brand-kit", "evidence_ids": []}),
    "canon/get_canon.json": ("GET", "/canon/brand-kit", None),
    "canon/put_canon.json": ("PUT", "/canon/brand-kit", {
        "palette_hex": ["#1B4332", "#F4A261", "#FFFFFF"], "forbidden_hex": ["#FF00FF"], "fonts": ["Inter"],
        "voice": {"tone": "warm, direct", "dos": ["Speak plainly"], "donts": ["Use jargon"]},
        "logo_safe_zone_pct": 8}),
    "canon/get_versions.json": ("GET", "/canon/brand-kit/versions", None),
    "canon/get_healthz.json": ("GET", "/healthz", None),
    "critique/post_critique.json": ("POST", "/critique", {"project_id": "brand-kit", "asset_ids": ["asset-0001"]}),
}


def http_event(stack, method: str, path: str, body) -> dict:
    request = HttpRequest(method, path, headers={
        "accept": "application/json", "content-type": "application/json", "host": "api.sgd.example",
        "user-agent": "sgd-events/1.0", "x-forwarded-proto": "https",
    }, body=json.dumps(body).encode() if body is not None else b"", source_ip="203.0.113.7")
    route, parameters = stack_match(stack, method, path)
    event = build_event(request, route, parameters, CLAIMS if route.authorized else None)
    if body is None:
        event["headers"].pop("content-type")
    event["requestContext"] |= {"requestId": "Jk2mQeXYoAMEbXw=", "time": "24/Nov/2026:16:00:00 +0000",
                                "timeEpoch": 1795536000000, "domainName": "api.sgd.example", "apiId": "a1b2c3d4e5"}
    event["headers"]["authorization"] = "Bearer <verified by API Gateway>" if route.authorized else None
    event["headers"] = {k: v for k, v in event["headers"].items() if v is not None}
    return event


def stack_match(stack, method: str, path: str):
    for route in stack.routes:
        found = route.pattern.match(path)
        if found and route.method == method:
            return route, found.groupdict()
    raise SystemExit(f"{method} {path} is not routed in template.yaml")


def s3_put_event(bucket: str, key: str) -> dict:
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-24T16:00:00.000Z", "eventName": "ObjectCreated:Post",
        "userIdentity": {"principalId": "AWS:AROAEXAMPLE:sgd-user"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810",
                             "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "IngestFunctionUploadCreated",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                          "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": key, "size": 48213, "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                          "sequencer": "0055AED6DCD90281E5"}},
    }]}


def main() -> None:
    stack = read_stack(ROOT)
    written = {}
    for name, (method, path, body) in HTTP_EVENTS.items():
        written[name] = http_event(stack, method, path, body)
    # A key as S3 sends it: URL-encoded, spaces as '+'.
    written["ingest/s3_put_upload.json"] = s3_put_event(
        stack.bucket_name, "uploads/acme/brand-kit/up-demo-1/Brand+Guidelines+%282026%29+%C3%A9t%C3%A9.pdf")
    for name, event in written.items():
        path = ROOT / "events" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(event, indent=2, ensure_ascii=False) + "\n")
        print("wrote", path.relative_to(ROOT))


if __name__ == "__main__":
    main()
