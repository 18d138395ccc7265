"""Runs function handlers the way Lambda does: one process per instance, a cold start, then warm invokes.

Two ways to start an instance:
- plain (Lambda without SnapStart): a fresh interpreter imports the handler;
- primed (SnapStart): one process per function imports the handler and runs its before-snapshot hooks (the
  priming) once; each instance is a fork of it that runs the after-restore hooks, as a restored snapshot does.

Invocations wait for an instance in a bounded first-come-first-served queue, with the API Gateway integration's
deadline counted from when the request arrived; a request whose client went away is dropped before it starts.

Kept light on imports: every worker process imports this module before it imports its handler.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import multiprocessing
import os
import secrets
import signal
import sys
import tempfile
import threading
import time
import traceback
import types
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Client, Listener
from pathlib import Path
from typing import Any, Literal

from sgd_local.template import LOCAL_ACCOUNT, LOCAL_REGION, FunctionSpec

INIT_PHASE_LIMIT_S = 10.0  # Lambda's limit on an instance's init, apart from the function's timeout


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


def _redirect_output(log_path: str) -> None:
    if log_path:
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)


def _init(spec: FunctionSpec, environment: dict[str, str]) -> tuple[Any, dict[str, Any] | None]:
    try:
        return load_handler(spec, environment), None
    except BaseException as error:
        traceback.print_exc()
        return None, error_payload(error)


def _messages(connection: Any) -> Iterator[Any]:
    """What the runtime sends, until it says stop (None) or its end of the pipe closes."""
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        yield message


def _serve(connection: Any, handler: Any, spec: FunctionSpec, init_error: dict[str, Any] | None) -> None:
    """An instance's invoke loop, until told to stop (None) or its pipe closes."""
    for message in _messages(connection):
        if init_error:
            connection.send({"ok": False, "payload": json.dumps(init_error)})
            continue
        ok, payload = call_handler(handler, spec, message["event"], message["request_id"])
        sys.stdout.flush()
        connection.send({"ok": ok, "payload": payload})


def _worker_main(connection: Any, spec: FunctionSpec, environment: dict[str, str], log_path: str) -> None:
    """A plain instance: redirect output to its log, cold start, then serve invokes until told to stop."""
    _redirect_output(log_path)
    os.chdir(spec.code_dir)
    started = time.perf_counter()
    handler, init_error = _init(spec, environment)
    connection.send({"init_ms": (time.perf_counter() - started) * 1000, "init_error": init_error})
    _serve(connection, handler, spec, init_error)


# -- SnapStart: the runtime hooks, and a primed process that instances fork from ----------------------------------

class RuntimeHooks:
    """What Lambda's `snapshot_restore_py` module offers a function, here: hooks registered during init."""

    def __init__(self) -> None:
        self.before_snapshot: list[Callable[[], Any]] = []
        self.after_restore: list[Callable[[], Any]] = []

    def module(self) -> types.ModuleType:
        module = types.ModuleType("snapshot_restore_py")
        module.register_before_snapshot = self._register(self.before_snapshot)  # type: ignore[attr-defined]
        module.register_after_restore = self._register(self.after_restore)  # type: ignore[attr-defined]
        return module

    @staticmethod
    def _register(hooks: list[Callable[[], Any]]) -> Callable[..., Any]:
        def register(hook: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
            hooks.append(lambda: hook(*args, **kwargs))
            return hook

        return register

    @staticmethod
    def run(hooks: list[Callable[[], Any]]) -> None:
        for hook in hooks:
            hook()


def _primed_main(connection: Any, spec: FunctionSpec, environment: dict[str, str], log_path: str,
                 address: str, authkey: bytes) -> None:
    """The snapshot of one function: init and priming once, then a fork per instance on request."""
    _redirect_output(log_path)
    os.chdir(spec.code_dir)
    hooks = RuntimeHooks()
    sys.modules["snapshot_restore_py"] = hooks.module()
    started = time.perf_counter()
    handler, init_error = _init(spec, environment)
    init_ms = (time.perf_counter() - started) * 1000
    if init_error is None:
        try:
            RuntimeHooks.run(hooks.before_snapshot)
        except BaseException as error:
            traceback.print_exc()
            init_error = error_payload(error)
    sys.stdout.flush()
    connection.send({"init_ms": init_ms, "prime_ms": (time.perf_counter() - started) * 1000 - init_ms,
                     "init_error": init_error})
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # instances are reaped as they exit
    for _ in _messages(connection):  # each message asks for one more instance
        pid = os.fork()
        if pid:
            connection.send({"pid": pid})
            continue
        connection.close()  # the instance: restore, then report to the runtime and serve
        code = 0
        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            restored = time.perf_counter()
            RuntimeHooks.run(hooks.after_restore)
            instance = Client(address, authkey=authkey)
            instance.send({"pid": os.getpid(), "init_ms": (time.perf_counter() - restored) * 1000})
            _serve(instance, handler, spec, init_error)
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            os._exit(code)


@dataclass
class Invocation:
    ok: bool
    payload: Any
    duration_ms: float
    init_ms: float | None
    request_id: str
    timed_out: bool = False  # the function's own timeout (the instance is killed)
    # Why the gateway answered without a result: the queue was full, the integration's 30 s ran out (waiting
    # included), or the client went away before an instance was free (the work was dropped).
    rejected: Literal["queue_full", "integration_timeout", "client_gone"] | None = None
    queued_ms: float = 0.0


@dataclass
class _Worker:
    connection: Any
    process: Any = None  # a plain instance: its multiprocessing.Process
    pid: int = 0  # a forked instance: its pid
    init_ms: float | None = None
    invocations: int = 0


@dataclass
class _Waiter:
    granted: threading.Event = field(default_factory=threading.Event)
    worker: _Worker | None = None  # None with granted set: start a new instance


class _PrimedParent:
    """The primed process of one function and the socket its forked instances report to."""

    def __init__(self, spec: FunctionSpec, environment: dict[str, str], log_path: str):
        self._folder = tempfile.mkdtemp(prefix="sgd-snap-")
        self.authkey = secrets.token_bytes(16)
        self.listener = Listener(os.path.join(self._folder, "s"), family="AF_UNIX", authkey=self.authkey)
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_primed_main, args=(child, spec, environment, log_path, self.listener.address, self.authkey),
            name=f"snapshot-{spec.logical_id}", daemon=True)
        self.process.start()
        child.close()
        self.lock = threading.Lock()
        self.ready: dict[str, Any] | None = None

    def wait_ready(self, timeout_s: float) -> dict[str, Any]:
        with self.lock:
            if self.ready is None:
                if not self.connection.poll(timeout_s):
                    raise TimeoutError
                self.ready = dict(self.connection.recv())
            return self.ready

    def fork(self, timeout_s: float) -> _Worker:
        with self.lock:
            self.connection.send("fork")
            pid = self.connection.recv()["pid"]
            instance = self.listener.accept()
            if not instance.poll(timeout_s):
                raise TimeoutError
            hello = instance.recv()
            return _Worker(instance, pid=pid, init_ms=hello["init_ms"])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.send(None)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
        self.listener.close()
        with contextlib.suppress(OSError):
            os.rmdir(self._folder)


@dataclass
class FunctionPool:
    """Up to max_instances instances of one function; a request on a busy pool waits in a bounded FIFO queue.

    primed: instances fork from a primed process (SnapStart) instead of starting cold.
    warm: instances started before any request and kept (provisioned concurrency).
    """

    spec: FunctionSpec
    environment: dict[str, str]
    log_path: Path | None = None
    max_instances: int = 4
    max_queue: int = 64
    primed: bool = False
    warm: int = 0
    _idle: list[_Worker] = field(default_factory=list)
    _busy: int = 0
    _waiters: deque[_Waiter] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _parent: _PrimedParent | None = None
    snapshot: dict[str, Any] | None = None  # the primed process's init_ms and prime_ms, once it is ready

    @property
    def init_limit_s(self) -> float:
        """Lambda gives init (and a SnapStart restore) 10 s of its own, or the function's timeout when longer."""
        return max(INIT_PHASE_LIMIT_S, float(self.spec.timeout_s))

    def start(self) -> FunctionPool:
        """Takes the snapshot (when primed) and starts the warm instances. Requests may arrive meanwhile: a warm
        instance holds an instance slot while it starts, then goes to the longest waiter or the idle list."""
        if self.primed:
            self._snapshot()
        for _ in range(min(self.warm, self.max_instances)):
            with self._lock:
                if self._busy + len(self._idle) >= self.max_instances:
                    break
                self._busy += 1
            try:
                worker = self._start_worker()
                if worker.init_ms is None and worker.connection.poll(self.spec.timeout_s + 60):
                    worker.init_ms = worker.connection.recv()["init_ms"]
            except BaseException:
                self._release(None)
                raise
            worker.invocations = -1  # its init is not a cold start that any request pays for
            self._release(worker)
        return self

    def _snapshot(self) -> _PrimedParent | None:
        if self._parent is None:
            self._parent = _PrimedParent(self.spec, self.environment, str(self.log_path or ""))
        try:
            ready = self._parent.wait_ready(self.spec.timeout_s + 120)  # init + priming, like publishing a version
        except (TimeoutError, EOFError, OSError):
            ready = {"init_error": {"errorMessage": "the primed process did not start"}}
        if ready.get("init_error"):
            self.primed = False  # start plain instances: each reports the init error as Lambda does
            return None
        self.snapshot = {"init_ms": ready["init_ms"], "prime_ms": ready["prime_ms"]}
        return self._parent

    def _start_worker(self) -> _Worker:
        if self.primed and (parent := self._snapshot()) is not None:
            return parent.fork(self.init_limit_s)
        context = multiprocessing.get_context("spawn")
        parent_end, child = context.Pipe()
        process = context.Process(
            target=_worker_main, args=(child, self.spec, self.environment, str(self.log_path or "")),
            name=f"lambda-{self.spec.logical_id}", daemon=True,
        )
        process.start()
        child.close()
        return _Worker(parent_end, process=process)

    def _acquire(self, deadline: float) -> _Waiter | Literal["queue_full", "integration_timeout"]:
        waiter = _Waiter()
        with self._lock:
            if not self._waiters and (self._idle or self._busy < self.max_instances):
                self._busy += 1
                waiter.worker = self._idle.pop() if self._idle else None
                waiter.granted.set()
                return waiter
            if len(self._waiters) >= self.max_queue:
                return "queue_full"
            self._waiters.append(waiter)
        remaining = deadline - time.monotonic()
        if waiter.granted.wait(None if remaining == float("inf") else max(0.0, remaining)):
            return waiter
        with self._lock:
            if not waiter.granted.is_set():
                self._waiters.remove(waiter)
                return "integration_timeout"
        return waiter  # granted just as the wait ran out

    def _release(self, worker: _Worker | None) -> None:
        """Hands the instance (or, when it died, the right to start one) to the longest waiter, else idles it."""
        with self._lock:
            if self._waiters:
                waiter = self._waiters.popleft()
                waiter.worker = worker
                waiter.granted.set()
                return
            self._busy -= 1
            if worker is not None:
                self._idle.append(worker)

    def invoke(self, event: Any, request_id: str | None = None, *, deadline: float | None = None,
               client_gone: Callable[[], bool] | None = None) -> Invocation:
        """deadline: time.monotonic() by which the caller (API Gateway) stops waiting; client_gone: whether the
        caller went away while queued (its work is then dropped before it starts)."""
        request_id = request_id or str(uuid.uuid4())
        arrived = time.monotonic()
        acquired = self._acquire(deadline if deadline is not None else float("inf"))
        queued_ms = (time.monotonic() - arrived) * 1000
        if isinstance(acquired, str):
            return Invocation(False, {"errorMessage": acquired}, 0.0, None, request_id, rejected=acquired,
                              queued_ms=queued_ms)
        if client_gone is not None and client_gone():
            self._release(acquired.worker)
            return Invocation(False, {"errorMessage": "client_gone"}, 0.0, None, request_id, rejected="client_gone",
                              queued_ms=queued_ms)
        started = time.perf_counter()
        try:
            worker = acquired.worker or self._start_worker()
        except BaseException:
            self._release(None)
            raise
        result = self._run(worker, event, request_id, started, deadline)
        result.queued_ms = queued_ms
        return result

    def _run(self, worker: _Worker, event: Any, request_id: str, started: float,
             gateway_deadline: float | None) -> Invocation:
        cold_init = None
        try:
            if worker.init_ms is None:
                if not worker.connection.poll(self.init_limit_s):
                    raise TimeoutError
                worker.init_ms = worker.connection.recv()["init_ms"]
            deadline = time.perf_counter() + self.spec.timeout_s  # the function's timeout counts from its invoke
            if worker.invocations == 0:
                cold_init = worker.init_ms
            worker.connection.send({"event": event, "request_id": request_id})
            wait_until = deadline if gateway_deadline is None else min(
                deadline, time.perf_counter() + max(0.0, gateway_deadline - time.monotonic()))
            if not worker.connection.poll(max(0.0, wait_until - time.perf_counter())):
                if wait_until < deadline:  # the gateway gave up first: the instance finishes on its own
                    threading.Thread(target=self._finish_late, args=(worker, deadline), daemon=True).start()
                    return Invocation(False, {"errorMessage": "integration_timeout"},
                                      (time.perf_counter() - started) * 1000, cold_init, request_id,
                                      rejected="integration_timeout")
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
        worker.invocations = max(worker.invocations, 0) + 1
        self._release(worker)
        return Invocation(reply["ok"], json.loads(reply["payload"]), (time.perf_counter() - started) * 1000,
                          cold_init, request_id)

    def _finish_late(self, worker: _Worker, deadline: float) -> None:
        """An invocation the gateway stopped waiting for: Lambda still runs it to the end (or to its timeout)."""
        try:
            if worker.connection.poll(max(0.0, deadline - time.perf_counter())):
                worker.connection.recv()
                worker.invocations = max(worker.invocations, 0) + 1
                self._release(worker)
                return
        except (EOFError, OSError):
            pass
        self._kill(worker)
        self._release(None)

    @staticmethod
    def _kill(worker: _Worker) -> None:
        if worker.process is not None:
            worker.process.kill()
            worker.process.join(timeout=5)
        elif worker.pid:
            with contextlib.suppress(OSError):
                os.kill(worker.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            worker.connection.close()

    def close(self) -> None:
        with self._lock:
            workers, self._idle = self._idle, []
        for worker in workers:
            with contextlib.suppress(OSError):
                worker.connection.send(None)
            if worker.process is not None:
                worker.process.join(timeout=5)
                if worker.process.is_alive():
                    self._kill(worker)
            else:
                worker.connection.close()
        if self._parent is not None:
            self._parent.close()
            self._parent = None
