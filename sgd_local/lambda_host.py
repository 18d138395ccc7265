"""Runs function handlers the way Lambda does: one process per instance, a cold start, then warm invokes.

Kept light on imports: every worker process imports this module before it imports its handler.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import multiprocessing
import os
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sgd_local.template import LOCAL_ACCOUNT, LOCAL_REGION, FunctionSpec


@dataclass
class LambdaContext:
    """The context object handlers receive, with a real deadline behind get_remaining_time_in_millis."""

    function_name: str
    memory_limit_in_mb: int
    aws_request_id: str
    deadline_ms: float
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    invoked_function_arn: str = ""
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self.deadline_ms - time.time() * 1000))


def lambda_environment(spec: FunctionSpec, extra: dict[str, str]) -> dict[str, str]:
    """What Lambda sets for a function, then the template's variables, then the runtime's overrides."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.logical_id}",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "AWS_REGION": LOCAL_REGION,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon on this machine
    } | spec.environment | extra


def make_context(spec: FunctionSpec, request_id: str | None = None) -> LambdaContext:
    return LambdaContext(
        function_name=spec.logical_id,
        memory_limit_in_mb=spec.memory_mb,
        aws_request_id=request_id or str(uuid.uuid4()),
        deadline_ms=time.time() * 1000 + spec.timeout_s * 1000,
        log_group_name=f"/aws/lambda/{spec.logical_id}",
        log_stream_name=time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex,
        invoked_function_arn=f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT}:function:{spec.logical_id}",
    )


def load_handler(spec: FunctionSpec, environment: dict[str, str]) -> Any:
    """Applies the function's environment and import path (code dir, then layers), then imports the handler."""
    os.environ.update(environment)
    for path in reversed([spec.code_dir, *spec.layer_dirs]):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    module_name, attribute = spec.module_and_attribute
    return getattr(importlib.import_module(module_name), attribute)


def error_payload(error: BaseException) -> dict[str, Any]:
    """The JSON Lambda returns for a function error."""
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "stackTrace": traceback.format_exception(error)[-8:],
    }


def call_handler(handler: Any, spec: FunctionSpec, event: Any, request_id: str) -> tuple[bool, str]:
    """(ok, JSON payload): Lambda serialises what the handler returns, or the error it raised."""
    try:
        result = handler(event, make_context(spec, request_id))
        return True, json.dumps(result)
    except Exception as error:
        traceback.print_exc()
        return False, json.dumps(error_payload(error))


def _worker_main(connection: Any, spec: FunctionSpec, environment: dict[str, str], log_path: str) -> None:
    """A function instance: redirect output to its log, cold start, then serve invokes until told to stop."""
    if log_path:
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
    os.chdir(spec.code_dir)
    started = time.perf_counter()
    try:
        handler = load_handler(spec, environment)
        init_error = None
    except BaseException as error:
        traceback.print_exc()
        handler, init_error = None, error_payload(error)
    connection.send({"init_ms": (time.perf_counter() - started) * 1000, "init_error": init_error})
    while True:
        message = connection.recv()
        if message is None:
            return
        if init_error:
            connection.send({"ok": False, "payload": json.dumps(init_error)})
            continue
        ok, payload = call_handler(handler, spec, message["event"], message["request_id"])
        sys.stdout.flush()
        connection.send({"ok": ok, "payload": payload})


@dataclass
class Invocation:
    ok: bool
    payload: Any
    duration_ms: float
    init_ms: float | None
    request_id: str
    timed_out: bool = False


@dataclass
class _Worker:
    process: Any
    connection: Any
    init_ms: float | None = None
    invocations: int = 0


@dataclass
class FunctionPool:
    """Up to max_instances warm workers of one function; a new request on a busy pool starts a cold one."""

    spec: FunctionSpec
    environment: dict[str, str]
    log_path: Path | None = None
    max_instances: int = 4
    _idle: list[_Worker] = field(default_factory=list)
    _busy: int = 0
    _lock: threading.Condition = field(default_factory=threading.Condition)

    def _start_worker(self) -> _Worker:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=_worker_main, args=(child, self.spec, self.environment, str(self.log_path or "")),
            name=f"lambda-{self.spec.logical_id}", daemon=True,
        )
        process.start()
        child.close()
        return _Worker(process, parent)

    def _acquire(self) -> _Worker:
        with self._lock:
            while not self._idle and self._busy >= self.max_instances:
                self._lock.wait()
            self._busy += 1
            if self._idle:
                return self._idle.pop()
        try:
            return self._start_worker()
        except BaseException:
            self._release(None)
            raise

    def _release(self, worker: _Worker | None) -> None:
        with self._lock:
            self._busy -= 1
            if worker is not None:
                self._idle.append(worker)
            self._lock.notify()

    def invoke(self, event: Any, request_id: str | None = None) -> Invocation:
        request_id = request_id or str(uuid.uuid4())
        worker = self._acquire()
        started = time.perf_counter()
        deadline = started + self.spec.timeout_s
        cold_init = None
        try:
            if worker.init_ms is None:
                if not worker.connection.poll(self.spec.timeout_s):
                    raise TimeoutError
                worker.init_ms = cold_init = worker.connection.recv()["init_ms"]
            worker.connection.send({"event": event, "request_id": request_id})
            if not worker.connection.poll(max(0.0, deadline - time.perf_counter())):
                raise TimeoutError
            reply = worker.connection.recv()
        except TimeoutError:
            self._kill(worker)
            self._release(None)
            message = f"Task timed out after {self.spec.timeout_s:.2f} seconds"
            return Invocation(False, {"errorMessage": message, "errorType": "Sandbox.Timedout"},
                              (time.perf_counter() - started) * 1000, cold_init, request_id, timed_out=True)
        except (EOFError, OSError) as error:
            self._kill(worker)
            self._release(None)
            return Invocation(False, {"errorMessage": f"Runtime exited: {error}", "errorType": "Runtime.ExitError"},
                              (time.perf_counter() - started) * 1000, cold_init, request_id)
        worker.invocations += 1
        self._release(worker)
        return Invocation(reply["ok"], json.loads(reply["payload"]), (time.perf_counter() - started) * 1000,
                          cold_init, request_id)

    @staticmethod
    def _kill(worker: _Worker) -> None:
        worker.process.kill()
        worker.process.join(timeout=5)

    def close(self) -> None:
        with self._lock:
            workers, self._idle = self._idle, []
        for worker in workers:
            with contextlib.suppress(OSError):
                worker.connection.send(None)
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                self._kill(worker)
