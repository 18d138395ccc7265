"""One cold start, in a fresh process: import a function's handler, invoke it once, print the timings.

Run by bench/cold_start.py, never by hand, with the Lambda runtime's interpreter in isolated mode and no
site-packages (`python3.12 -I -S`): the import path is exactly what Lambda gives a function — its code
(/var/task), its layers (/opt/python) and the runtime's own boto3 — taken from `sam build`'s output.
Standard library only: like Lambda's bootstrap, this adds nothing the function would not load itself.
The job arrives as JSON on stdin; the result is the only thing written to stdout.
"""

import time

started = time.perf_counter()  # before every other import: the clock covers all of them
started_cpu = time.process_time()  # steadier than wall time when other work competes for the cores

import importlib  # noqa: E402 - imported after the clock starts, on purpose
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402


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


def main() -> None:
    job = json.loads(sys.stdin.read())
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
    mark_phase("first-invoke")
    try:
        response, ok = handler(job["event"], LambdaContext(job)), True
    except Exception as error:  # reported, not hidden: a cold start that raises is a failed measurement
        response, ok = {"errorType": type(error).__name__, "errorMessage": str(error)}, False
    finished = time.perf_counter()
    finished_cpu = time.process_time()

    status_code = response.get("statusCode") if isinstance(response, dict) else None
    if status_code is None:  # not an HTTP invocation (S3 notification): did it return or raise?
        status_code = "ok" if ok else "error"
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
