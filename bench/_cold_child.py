"""One cold start, in a fresh process: import a function's handler, invoke it once, print the timings.

Run by bench/cold_start.py, never by hand, with the Lambda runtime's interpreter in isolated mode and no
site-packages (`python3.12 -I -S`): the import path is exactly what Lambda gives a function — its code
(/var/task), its layers (/opt/python) and the runtime's own boto3 — taken from `sam build`'s output.
Standard library only: like Lambda's bootstrap, this adds nothing the function would not load itself.
The job arrives as JSON on stdin; the result is the only thing written to stdout.

With "snapstart" in the job, the child is SnapStart's snapshot instead: it imports the handler with Lambda's
hook module (`snapshot_restore_py`, a stand-in here) present, runs the before-snapshot hooks (the priming), then
forks; the fork stands for an instance restored from the snapshot: it runs the after-restore hooks and the
first invoke, and reports restore + first invoke. The restore itself (Lambda loading the snapshot's memory) is
not modelled: a fork copies page tables, so this is the part of a restored start SGD's code decides.
"""

import time

started = time.perf_counter()  # before every other import: the clock covers all of them
started_cpu = time.process_time()  # steadier than wall time when other work competes for the cores

import importlib  # noqa: E402 - imported after the clock starts, on purpose
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import types  # noqa: E402


class LambdaContext:
    def __init__(self, job: dict) -> None:
        self.function_name = job["function"]
        self.memory_limit_in_mb = job["memory_mb"]
        self.aws_request_id = job["request_id"]
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{job['function']}"
        self.function_version = "$LATEST"
        self.log_group_name = f"/aws/lambda/{job['function']}"
        self.log_stream_name = "bench"
        self._deadline = time.time() + job["timeout_s"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def mark_phase(name: str) -> None:
    """A stderr marker, so `-X importtime` rows (also on stderr) can be told apart by phase."""
    print(f"bench-phase: {name}", file=sys.stderr, flush=True)


def snapshot_hooks() -> dict:
    """A stand-in for Lambda's snapshot_restore_py: records the hooks the handler's module registers."""
    hooks = {"before": [], "after": []}
    module = types.ModuleType("snapshot_restore_py")
    module.register_before_snapshot = lambda hook, *a, **k: hooks["before"].append(lambda: hook(*a, **k))
    module.register_after_restore = lambda hook, *a, **k: hooks["after"].append(lambda: hook(*a, **k))
    sys.modules["snapshot_restore_py"] = module
    return hooks


def invoke(handler, job: dict) -> tuple:
    try:
        return handler(job["event"], LambdaContext(job)), True
    except Exception as error:  # reported, not hidden: a cold start that raises is a failed measurement
        return {"errorType": type(error).__name__, "errorMessage": str(error)}, False


def status_of(response, ok: bool):
    status_code = response.get("statusCode") if isinstance(response, dict) else None
    return ("ok" if ok else "error") if status_code is None else status_code  # S3 notification: returned/raised


def restored_start(job: dict, handler, hooks: dict, result_stream) -> None:
    """Priming, then a fork standing for an instance restored from the snapshot."""
    primed_at = time.perf_counter()
    mark_phase("before-snapshot")
    for hook in hooks["before"]:
        hook()
    primed = time.perf_counter()
    sys.stdout.flush()
    sys.stderr.flush()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        restoring = time.perf_counter()
        restoring_cpu = time.process_time()
        for hook in hooks["after"]:
            hook()
        restored = time.perf_counter()
        response, ok = invoke(handler, job)
        finished = time.perf_counter()
        result = {"prime_ms": (primed - primed_at) * 1000, "hooks": len(hooks["before"]),
                  "restore_hooks_ms": (restored - restoring) * 1000, "first_invoke_ms": (finished - restored) * 1000,
                  "total_ms": (finished - restoring) * 1000, "cpu_ms": (time.process_time() - restoring_cpu) * 1000,
                  "status_code": status_of(response, ok), "ok": ok}
        if not ok:
            result["error"] = response
        os.write(writer, json.dumps(result, default=str).encode())
        os._exit(0)
    os.close(writer)
    chunks = []
    while chunk := os.read(reader, 65536):
        chunks.append(chunk)
    os.waitpid(pid, 0)
    result_stream.write(b"".join(chunks).decode() + "\n")
    result_stream.flush()


def main() -> None:
    job = json.loads(sys.stdin.read())
    hooks = snapshot_hooks() if job.get("snapstart") else None
    sys.path[:0] = job["paths"]
    os.environ.update(job["environment"])
    os.chdir(job["paths"][0])  # Lambda's working directory is the task root
    # The handler logs to stdout (Powertools); keep the real stdout for the result alone.
    result_stream = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)

    bootstrapped = time.perf_counter()
    mark_phase("handler-import")
    module_name, _, attribute = job["handler"].rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    imported = time.perf_counter()
    if hooks is not None:
        restored_start(job, handler, hooks, result_stream)
        return
    mark_phase("first-invoke")
    response, ok = invoke(handler, job)
    finished = time.perf_counter()
    finished_cpu = time.process_time()

    status_code = status_of(response, ok)
    result = {
        "host_ms": (bootstrapped - started) * 1000,
        "import_ms": (imported - bootstrapped) * 1000,
        "first_invoke_ms": (finished - imported) * 1000,
        "total_ms": (finished - started) * 1000,
        "cpu_ms": (finished_cpu - started_cpu) * 1000,
        "status_code": status_code,
        "ok": ok,
    }
    if not ok:
        result["error"] = response
    result_stream.write(json.dumps(result, default=str) + "\n")
    result_stream.flush()


if __name__ == "__main__":
    main()
