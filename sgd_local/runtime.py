"""The local runtime: template.yaml's functions, routes, tables and bucket, on this machine, without Docker."""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sgd_local.apigw import (
    INTEGRATION_TIMEOUT_S,
    MAX_PAYLOAD_BYTES,
    HttpRequest,
    HttpResponse,
    StageThrottle,
    build_event,
    gateway_error,
    throttled,
    to_response,
    unavailable,
)
from sgd_local.auth import LocalSigningKey, Rejection, verify
from sgd_local.aws import EventSourcePump, LocalAws, aws_environment
from sgd_local.lambda_host import FunctionPool, Invocation, lambda_environment
from sgd_local.template import FunctionSpec, Route, Stack, queue_urls_in, read_stack

log = logging.getLogger("sgd.local")
PASSTHROUGH = ("OPENROUTER_API_KEY", "QDRANT_URL", "POWERTOOLS_LOG_LEVEL")

STATE_FILE = "runtime.json"  # written by a serving runtime: its pid and embedded AWS endpoint


def project_root() -> Path:
    """The folder holding template.yaml: SGD_PROJECT_ROOT, else the nearest parent of the working dir."""
    if os.environ.get("SGD_PROJECT_ROOT"):
        return Path(os.environ["SGD_PROJECT_ROOT"]).resolve()
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "template.yaml").exists():
            return folder
    return Path(__file__).resolve().parents[1]


@dataclass
class RuntimeOptions:
    data_dir: Path
    aws_port: int = 0
    aws_endpoint: str | None = None  # reuse a running embedded AWS instead of starting one
    persist: bool = True  # journal writes while serving, fold them into a snapshot at start and stop
    environment: dict[str, str] | None = None  # --env-vars overrides, applied to every function
    throttle: bool = True  # the stage throttle of template.yaml (429 past its rate and burst)
    snap_start: bool | None = None  # instances fork from a primed process; None: as template.yaml says
    warm: dict[str, int] | None = None  # pre-warmed instances per function (else the template's provisioned)
    max_instances: int = 4  # concurrent instances per function (2 cores here; in AWS each scales on its own)
    max_queue: int = 64  # requests waiting per function before the gateway answers 503


class LocalRuntime:
    def __init__(self, options: RuntimeOptions, root: Path | None = None):
        self.root = root or project_root()
        self.options = options
        self.stack: Stack = read_stack(self.root)
        options.data_dir.mkdir(parents=True, exist_ok=True)
        (options.data_dir / "logs").mkdir(exist_ok=True)
        self.aws = LocalAws(self.stack, options.data_dir, endpoint=options.aws_endpoint, port=options.aws_port,
                            journal=options.persist)
        self.signing_key = LocalSigningKey(options.data_dir / "keys")
        self.pools: dict[str, FunctionPool] = {}
        self._starting: list[threading.Thread] = []
        self._pump: EventSourcePump | None = None
        self._compiled = [(route, route.pattern) for route in self.stack.routes]
        self.throttle = StageThrottle(self.stack.throttle_rate if options.throttle else 0.0,
                                      self.stack.throttle_burst)

    # lifecycle -------------------------------------------------------------------------------------
    def start(self) -> LocalRuntime:
        self.aws.start()
        if self.options.aws_endpoint is None:
            self.aws.provision()
        sources = self.aws.notification_queues() + self.aws.event_sources()
        warm = self.options.warm or {}
        for spec in self.stack.functions.values():
            primed = spec.snap_start if self.options.snap_start is None else self.options.snap_start
            self.pools[spec.logical_id] = FunctionPool(
                spec, self.function_environment(spec.logical_id),
                log_path=self.options.data_dir / "logs" / f"{spec.logical_id}.log",
                max_instances=self.options.max_instances, max_queue=self.options.max_queue, primed=primed,
                warm=warm.get(spec.logical_id, warm.get("*", spec.provisioned)),
            )
        # Snapshots are taken and warm instances started in the background, like publishing a version: a request
        # that comes first waits for its function's snapshot. wait_ready() waits for all of them.
        self._starting = [threading.Thread(target=pool.start, name=f"start-{name}", daemon=True)
                          for name, pool in self.pools.items()]
        for thread in self._starting:
            thread.start()
        self._pump = EventSourcePump(self.aws, sources, self._invoke_async,
                                     self.options.data_dir / "logs" / "dead-letters.jsonl").start()
        return self

    def wait_ready(self, timeout_s: float = 300.0) -> LocalRuntime:
        for thread in self._starting:
            thread.join(timeout_s)
        return self

    def stop(self) -> None:
        self.wait_ready()
        if self._pump:
            self._pump.stop()
        for pool in self.pools.values():
            pool.close()
        if self.options.persist and self.options.aws_endpoint is None:
            self.aws.save()
        self.aws.stop()

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # functions -------------------------------------------------------------------------------------
    def function_environment(self, logical_id: str) -> dict[str, str]:
        return local_environment(self.stack.functions[logical_id], aws_endpoint=self.aws.endpoint,
                                 data_dir=self.options.data_dir, root=self.root,
                                 overrides=self.options.environment)

    def invoke(self, logical_id: str, event: Any, *, deadline: float | None = None,
               client_gone: Any = None) -> Invocation:
        if logical_id not in self.pools:
            raise KeyError(f"no function {logical_id!r} in template.yaml; have {sorted(self.pools)}")
        return self.pools[logical_id].invoke(event, deadline=deadline, client_gone=client_gone)

    def _invoke_async(self, logical_id: str, event: dict[str, Any]) -> tuple[bool, Any]:
        """An invocation by an event source (S3 notification, SQS poller): (ok, the function's result)."""
        invocation = self.invoke(logical_id, event)
        if not invocation.ok:
            log.warning("async invoke of %s failed: %s", logical_id, invocation.payload)
        return invocation.ok, invocation.payload

    @property
    def sqs_batches_delivered(self) -> int:
        return self._pump.sqs_batches if self._pump else 0

    @property
    def notifications_delivered(self) -> int:
        return self._pump.delivered if self._pump else 0

    @property
    def recent_notifications(self) -> list[dict[str, Any]]:
        return list(self._pump.recent_events) if self._pump else []

    # the gateway -----------------------------------------------------------------------------------
    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route, pattern in self._compiled:
            found = pattern.match(path)
            if found and route.method == method:
                return route, found.groupdict()
        return None

    def handle_http(self, request: HttpRequest) -> HttpResponse:
        """What API Gateway does with one request: route, throttle, authorize, invoke, translate."""
        matched = self.match(request.method, request.path)
        if matched is None:
            return gateway_error(404, "Not Found")
        if not self.throttle.admit():
            return throttled()
        if len(request.body) > MAX_PAYLOAD_BYTES:
            return gateway_error(413, "Request Entity Too Large")
        route, path_parameters = matched
        claims = None
        if route.authorized and self.stack.authorizer:
            verdict = verify(request.headers.get("authorization"), self.signing_key, self.stack.authorizer)
            if isinstance(verdict, Rejection):
                return gateway_error(401, "Unauthorized", verdict.headers)
            claims = verdict
        invocation = self.invoke(route.function, build_event(request, route, path_parameters, claims),
                                 deadline=request.arrived + INTEGRATION_TIMEOUT_S, client_gone=request.client_gone)
        if invocation.timed_out or invocation.rejected:
            return unavailable()  # queue full, 30 s passed (queued or running), or nobody left to answer
        if not invocation.ok:
            return gateway_error(500, "Internal Server Error")
        return to_response(invocation.payload)

    def token(self, org: str, **options: Any) -> str:
        if self.stack.authorizer is None:
            raise RuntimeError("template.yaml defines no JWT authorizer")
        return self.signing_key.issue(self.stack.authorizer, org=org, **options)

    def state(self) -> dict[str, Any]:
        return {"aws_endpoint": self.aws.endpoint, "bucket": self.stack.bucket_name,
                "functions": sorted(self.pools), "routes": [r.route_key for r in self.stack.routes]}


def local_environment(spec: FunctionSpec, *, aws_endpoint: str, data_dir: Path, root: Path,
                      overrides: dict[str, str] | None = None) -> dict[str, str]:
    """A function's environment here: Lambda's and the template's variables, the embedded services, the
    developer's passthrough variables (a model key, a Qdrant server), then --env-vars overrides. Queue URLs
    (`!Ref SomeQueue`) point at the embedded SQS."""
    local = aws_environment(aws_endpoint) | {
        "SGD_QDRANT_PATH": str(data_dir / "qdrant"),
        "SGD_RESOURCES_DIR": str(root),
    }
    if "SGD_WEBHOOK_SECRET_ARN" in spec.environment and not spec.environment["SGD_WEBHOOK_SECRET_ARN"]:
        local["SGD_WEBHOOK_SECRET"] = local_webhook_secret(data_dir)
    passthrough = {name: os.environ[name] for name in PASSTHROUGH if os.environ.get(name)}
    environment = lambda_environment(spec, local | passthrough | (overrides or {}))
    return {name: queue_urls_in(value, aws_endpoint) for name, value in environment.items()}


def local_webhook_secret(data_dir: Path) -> str:
    """The webhook signing secret of this data dir (made once, kept in keys/): receivers verify with it."""
    path = data_dir / "keys" / "webhook-secret"
    if not path.exists():
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def write_state_file(data_dir: Path, state: dict[str, Any]) -> Path:
    path = data_dir / STATE_FILE
    path.write_text(json.dumps(state, indent=2))
    return path


def running_aws_endpoint(data_dir: Path) -> str | None:
    """The embedded AWS of a live `sgd serve` on this data dir (its state file), so that `sgd invoke` and
    `sgd ingest` share its state; None when no runtime is serving from it."""
    state_file = data_dir / STATE_FILE
    if not state_file.exists():
        return None
    state = json.loads(state_file.read_text())
    try:
        os.kill(int(state["pid"]), 0)
    except (OSError, KeyError, ValueError):
        return None
    return state.get("aws_endpoint")
