"""The local Lambda host behaves like Lambda: cold then warm instances, deadlines, errors, timeouts."""

import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from sgd_local import lambda_host
from sgd_local.lambda_host import FunctionPool, make_context
from sgd_local.template import FunctionSpec

pytestmark = [pytest.mark.integration, pytest.mark.slow]
HANDLERS = '''
import os, time
INSTANCE = os.getpid()
if os.environ.get("FAIL_AT_INIT"):
    raise RuntimeError("bad configuration at cold start")

def handler(event, context):
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("raise"):
        raise ValueError(event["raise"])
    return {"instance": INSTANCE, "remaining_ms": context.get_remaining_time_in_millis(),
            "request_id": context.aws_request_id, "function": context.function_name}
'''


def spec_for(tmp_path: Path, timeout_s: int = 2) -> FunctionSpec:
    (tmp_path / "probe_app.py").write_text(textwrap.dedent(HANDLERS))
    return FunctionSpec(logical_id="ProbeFunction", code_dir=tmp_path, handler="probe_app.handler", layer_dirs=[],
                        environment={}, timeout_s=timeout_s, memory_mb=256)


class Clock:
    """time.time for sgd_local.lambda_host, moved by hand; everything else of the time module as it is."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def test_context_counts_down_from_the_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(1_700_000_000.0)
    monkeypatch.setattr(lambda_host, "time", clock)
    context = make_context(spec_for(tmp_path, timeout_s=3))
    assert context.get_remaining_time_in_millis() == 3000
    clock.now += 1.25
    assert context.get_remaining_time_in_millis() == 1750
    clock.now += 5
    assert context.get_remaining_time_in_millis() == 0
    assert context.invoked_function_arn.endswith(":function:ProbeFunction")


def test_warm_instances_are_reused_and_errors_are_lambda_shaped(tmp_path: Path) -> None:
    pool = FunctionPool(spec_for(tmp_path), environment={})
    try:
        first = pool.invoke({}, request_id="r-1")
        second = pool.invoke({})
        assert first.ok
        assert first.init_ms is not None
        assert second.init_ms is None
        assert second.payload["instance"] == first.payload["instance"]
        assert first.payload["request_id"] == "r-1"
        assert first.payload["function"] == "ProbeFunction"
        assert 1000 < first.payload["remaining_ms"] <= 2000
        failed = pool.invoke({"raise": "no such brand"})
        assert not failed.ok
        assert (failed.payload["errorType"], failed.payload["errorMessage"]) == ("ValueError", "no such brand")
    finally:
        pool.close()


def test_a_timed_out_instance_is_killed_and_replaced(tmp_path: Path) -> None:
    pool = FunctionPool(spec_for(tmp_path, timeout_s=1), environment={})
    try:
        warm = pool.invoke({})
        late = pool.invoke({"sleep": 5})
        assert late.timed_out  # after the function's 1 s, not the handler's 5 s: bench/timing_budgets.py times it
        assert late.payload == {"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out after 1.00 seconds"}
        fresh = pool.invoke({})
        assert fresh.ok
        assert fresh.payload["instance"] != warm.payload["instance"]
    finally:
        pool.close()


def test_init_errors_are_reported_on_every_invoke(tmp_path: Path) -> None:
    pool = FunctionPool(spec_for(tmp_path), environment={"FAIL_AT_INIT": "1"})
    try:
        for _ in range(2):
            result = pool.invoke({})
            assert not result.ok
            assert result.payload["errorMessage"] == "bad configuration at cold start"
    finally:
        pool.close()
