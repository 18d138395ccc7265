"""SnapStart: prime each function before Lambda snapshots it, and make what the snapshot holds safe to resume.

Lambda initialises a published version once, runs the before-snapshot hooks, snapshots the memory, and resumes
every new instance from that snapshot (running the after-restore hooks first). What a hook does before the
snapshot is paid once per deployment instead of once per cold start, so priming does the work a first request
would otherwise do:

- import the heavy modules (FastAPI/pydantic models, numpy, Pillow, boto3/botocore, the design engine);
- build the app (done by the function's module) and load what it loads once: fonts, the logo matcher, policies;
- serve one representative request per HTTP route family through the same handler code, over in-memory adapters
  (sgd.adapters.memory) and the local model engine: numpy and Pillow run on a tiny design, FastAPI validates and
  serialises, Mangum translates. Nothing outside the process is reached, so no connection, credential or
  org's data is in the snapshot.

Snapshot safety (AWS's SnapStart guidance): the live graph makes its boto3 clients, httpx pools and Qdrant client
on first use (sgd.composition.Lazy), which is after restore, since priming never touches the live graph's
adapters; after restore, the hooks drop any AWS client made before the snapshot anyway, reseed `random`, and
forget tempfile's name sequence, so no two instances share a random stream or temporary names. uuid4 and
`secrets` read os.urandom and need nothing.

`snapshot_restore_py` is the module Lambda's Python runtime provides for these hooks; without it (local runs,
tests, a function deployed without SnapStart) `register` does nothing. The local runtime (sgd_local) provides
a stand-in when it forks instances from a primed process.
"""

from __future__ import annotations

import base64
import gc
import json
import random
import tempfile
import time
from collections.abc import Callable
from typing import Any

from sgd.settings import Settings

PRIMING_ORG = "snapstart-priming"
PRIMING_PROJECT = "priming"


Handler = Callable[[dict[str, Any], Any], Any]


def register(function_name: str, settings: Settings, live_handler: Handler | None = None) -> bool:
    """Registers the priming (before the snapshot) and the restore hooks of one function; False when the runtime
    has no snapshot hooks. `live_handler` is the handler Lambda will invoke: its own lazy state is warmed too."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot  # type: ignore[import-not-found]
    except ImportError:
        return False
    register_before_snapshot(lambda: prime(function_name, settings, live_handler))
    register_after_restore(after_restore)
    return True


def after_restore() -> None:
    """Per-instance state that must not be shared between instances resumed from one snapshot."""
    from sgd.adapters.aws import AwsClients

    AwsClients.forget_all()
    random.seed()
    tempfile._name_sequence = None  # type: ignore[attr-defined]  # its Random was seeded before the snapshot


def prime(function_name: str, settings: Settings, live_handler: Handler | None = None) -> dict[str, Any]:
    """Serves the function's representative requests over in-memory adapters, then warms the live handler with
    requests it answers before reaching any adapter; returns what each answered (the status codes) and how long
    priming took. A failure is raised: a function that cannot serve its own representative request should not
    be published."""
    from sgd.adapters.aws import AwsClients

    started = time.perf_counter()
    statuses = PRIMERS[function_name](_priming_settings(settings))
    live = [_invoke(live_handler, built)[0] for built in LIVE_WARMING[function_name]] if live_handler else []
    AwsClients.prime_all(AWS_SERVICES[function_name])
    # Everything made so far lives as long as the instance: keep the collector from walking it after restore,
    # where each object it touches is a page Lambda loads from the snapshot (a fork here: a page copied).
    gc.collect()
    gc.freeze()
    return {"function": function_name, "statuses": statuses, "live_statuses": live,
            "ms": round((time.perf_counter() - started) * 1000, 1)}


def _priming_settings(settings: Settings) -> Settings:
    """The function's settings with nothing that reaches out: the local model engine, no secrets, no queue."""
    return settings.model_copy(update={
        "openrouter_api_key": "", "openrouter_api_key_secret_arn": "", "webhook_secret_arn": "",
        "webhook_secret": "priming-only", "render_jobs_queue_url": "", "qdrant_api_key_secret_arn": ""})


def event(method: str, path: str, body: Any = None, *, org: str | None = PRIMING_ORG) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as the gateway sends it after verifying a JWT."""
    path, _, query = path.partition("?")
    now = time.time()
    context: dict[str, Any] = {
        "accountId": "000000000000", "apiId": "priming", "domainName": "priming.invalid", "domainPrefix": "priming",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                 "userAgent": "snapstart-priming"},
        "requestId": "snapstart-priming", "routeKey": f"{method} {path}", "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), "timeEpoch": int(now * 1000)}
    if org is not None:
        context["authorizer"] = {"jwt": {"claims": {"org": org, "sub": "priming"}, "scopes": None}}
    built: dict[str, Any] = {"version": "2.0", "routeKey": f"{method} {path}", "rawPath": path,
                             "rawQueryString": query,
                             "headers": {"content-type": "application/json", "host": "priming.invalid"},
                             "requestContext": context, "isBase64Encoded": False}
    if query:
        built["queryStringParameters"] = {name: value for name, _, value in (part.partition("=")
                                                                             for part in query.split("&"))}
    if body is not None:
        built["body"] = json.dumps(body)
    return built


class _Context:
    """The Lambda context a priming invocation gets: a generous deadline, the function's name."""

    function_name = "snapstart-priming"
    memory_limit_in_mb = 1024
    aws_request_id = "snapstart-priming"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:snapstart-priming"
    log_group_name = log_stream_name = "snapstart-priming"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _invoke(handler: Handler, built: dict[str, Any]) -> tuple[int, Any]:
    result = handler(built, _Context())
    body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return int(result["statusCode"]), json.loads(body) if body else None


RENDER_BODY = {"project_id": PRIMING_PROJECT,
               "prompts": {"task": "create", "instruction": "Priming: \"Fresh roast, every morning\""},
               "outputs": {"count": 1, "format": "png", "dimensions": "1080x1080"}}


def _prime_render(settings: Settings) -> list[int]:
    from sgd.composition import Adapters, render_function

    function = render_function(settings, Adapters.in_memory())
    status, _ = _invoke(function.handler, event("POST", "/render", RENDER_BODY))
    again, _ = _invoke(function.handler, event("GET", "/render/jobs/priming-missing"))
    return [status, again]


PRIMING_CANON = {"palette_hex": ["#1B4332", "#F4A261", "#FFFFFF"], "forbidden_hex": ["#FF00FF"], "fonts": ["Inter"],
                 "voice": {"tone": "warm, direct", "dos": ["Speak plainly"], "donts": ["Use jargon"]},
                 "logo_safe_zone_pct": 8}


def _prime_critique(settings: Settings) -> list[int]:
    """A design rendered and a canon put (over the same in-memory adapters), then the critique of it."""
    from sgd.composition import Adapters, canon_function, critique_function, render_function

    adapters = Adapters.in_memory()
    canon, _ = _invoke(canon_function(settings, adapters).handler,
                       event("PUT", f"/canon/{PRIMING_PROJECT}", PRIMING_CANON))
    rendered, body = _invoke(render_function(settings, adapters).handler, event("POST", "/render", RENDER_BODY))
    asset_ids = [asset["id"] for asset in (body or {}).get("assets", [])][:1] or ["priming-missing"]
    function = critique_function(settings, adapters)
    status, _ = _invoke(function.handler, event("POST", "/critique", {"project_id": PRIMING_PROJECT,
                                                                       "asset_ids": asset_ids}))
    return [canon, rendered, status]


def _prime_canon(settings: Settings) -> list[int]:
    """The reads as a client makes them: a project without a canon (404), then with one (a PUT first), so both
    answers' code paths (the error shape; the canon document's validation and serialisation) are warm."""
    from sgd.composition import Adapters, canon_function

    function = canon_function(settings, Adapters.in_memory())
    return [_invoke(function.handler, built)[0] for built in (
        event("GET", "/healthz", org=None), event("GET", f"/canon/{PRIMING_PROJECT}"),
        event("PUT", f"/canon/{PRIMING_PROJECT}", PRIMING_CANON), event("GET", f"/canon/{PRIMING_PROJECT}"),
        event("GET", f"/canon/{PRIMING_PROJECT}/versions"), event("GET", f"/usage?project_id={PRIMING_PROJECT}"))]


UPLOAD_BODY = {"project_id": PRIMING_PROJECT, "filename": "logo.png", "content_type": "image/png", "size_bytes": 1024}


def _prime_ingest(settings: Settings) -> list[int]:
    from sgd.composition import Adapters, ingest_function

    function = ingest_function(settings, Adapters.in_memory())
    status, body = _invoke(function.handler, event("POST", "/uploads", UPLOAD_BODY))
    upload_id = (body or {}).get("upload_id", "priming-missing")
    again, _ = _invoke(function.handler, event("GET", f"/uploads/{upload_id}?project_id={PRIMING_PROJECT}"))
    _prime_admission()
    return [status, again]


def _prime_admission() -> None:
    """Ingest's file checks on a tiny PNG (Pillow's decoders); the pipeline behind them, with Qdrant, is left to
    the first real upload, so no vector store is opened before the snapshot."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    Image.open(io.BytesIO(buffer.getvalue())).load()


# Requests the live handler answers without reaching an adapter (no token: 401 before any route code, and the
# rate limiter lets an org-less request through to that 401). They build what FastAPI and Starlette make on an
# app's first request (the middleware stack, each router's route contexts), which the in-memory priming app
# builds for itself only.
LIVE_WARMING: dict[str, list[dict[str, Any]]] = {
    "render": [event("POST", "/render", RENDER_BODY, org=None), event("GET", "/render/jobs/priming", org=None)],
    "critique": [event("POST", "/critique", {"project_id": PRIMING_PROJECT, "asset_ids": ["priming"]}, org=None)],
    "canon": [event("GET", "/healthz", org=None), event("GET", f"/canon/{PRIMING_PROJECT}", org=None),
              event("GET", f"/canon/{PRIMING_PROJECT}/versions", org=None)],
    "ingest": [event("POST", "/uploads", UPLOAD_BODY, org=None)],
}

# The AWS clients each function makes on its first requests (their models are loaded before the snapshot).
AWS_SERVICES = {"render": ("dynamodb", "s3", "sqs"), "critique": ("dynamodb", "s3"), "canon": ("dynamodb", "s3"),
                "ingest": ("dynamodb", "s3")}
PRIMERS: dict[str, Callable[[Settings], list[int]]] = {
    "render": _prime_render, "critique": _prime_critique, "canon": _prime_canon, "ingest": _prime_ingest}
