"""The local Lambda host behaves like Lambda: cold then warm instances, deadlines, errors, timeouts."""

import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
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
time.sleep(float(os.environ.get("INIT_SLEEP_S", "0")))
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


def test_an_init_longer_than_the_timeout_has_lambdas_own_init_limit(tmp_path: Path) -> None:
    pool = FunctionPool(spec_for(tmp_path, timeout_s=1), environment={"INIT_SLEEP_S": "1.5"})
    try:
        first = pool.invoke({})
        assert first.ok, first.payload  # init has 10 s apart from the 1 s the invoke gets
        assert first.init_ms is not None
        assert first.init_ms >= 1500
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


PRIMED_HANDLERS = '''
import os
INIT_PID = os.getpid()
state = {"primed": 0, "restored": 0}
try:
    from snapshot_restore_py import register_after_restore, register_before_snapshot
except ImportError:  # plain Lambda, or a local run without SnapStart
    register_before_snapshot = register_after_restore = None

def prime():
    state["primed"] += 1

def restore():
    state["restored"] += 1

if register_before_snapshot:
    register_before_snapshot(prime)
    register_after_restore(restore)

def handler(event, context):
    if event.get("sleep"):
        import time
        time.sleep(event["sleep"])
    return {"instance": os.getpid(), "init_pid": INIT_PID, **state}
'''


def primed_spec(tmp_path: Path, timeout_s: int = 5) -> FunctionSpec:
    (tmp_path / "primed_app.py").write_text(textwrap.dedent(PRIMED_HANDLERS))
    return FunctionSpec(logical_id="PrimedFunction", code_dir=tmp_path, handler="primed_app.handler", layer_dirs=[],
                        environment={}, timeout_s=timeout_s, memory_mb=256, snap_start=True)


def test_primed_instances_fork_from_one_snapshot_and_run_the_restore_hooks(tmp_path: Path) -> None:
    pool = FunctionPool(primed_spec(tmp_path), environment={}, primed=True, max_instances=2).start()
    try:
        assert pool.snapshot is not None
        assert pool.snapshot["init_ms"] > 0
        first = pool.invoke({})
        assert first.ok, first.payload
        assert first.init_ms is not None  # the restore: the first invoke of an instance still reports it
        # The instance is a fork of the primed process: it was initialised once, elsewhere, and primed there.
        assert first.payload["instance"] != first.payload["init_pid"]
        assert (first.payload["primed"], first.payload["restored"]) == (1, 1)
        # Two at once need two instances: both forks of the same snapshot.
        with ThreadPoolExecutor(2) as executor:
            both = list(executor.map(lambda _: pool.invoke({"sleep": 0.5}), range(2)))
        assert {r.payload["init_pid"] for r in both} == {first.payload["init_pid"]}
        assert len({r.payload["instance"] for r in both}) == 2
        assert all(r.payload["primed"] == 1 for r in both)
    finally:
        pool.close()


def test_without_snapstart_the_hooks_module_is_absent(tmp_path: Path) -> None:
    pool = FunctionPool(primed_spec(tmp_path), environment={})
    try:
        result = pool.invoke({})
        assert result.payload["instance"] == result.payload["init_pid"]
        assert (result.payload["primed"], result.payload["restored"]) == (0, 0)
    finally:
        pool.close()


def test_warm_instances_start_before_any_request(tmp_path: Path) -> None:
    pool = FunctionPool(spec_for(tmp_path), environment={}, warm=1).start()
    try:
        result = pool.invoke({})
        assert result.ok
        assert result.init_ms is None  # no request paid for a cold start
    finally:
        pool.close()


def test_the_queue_is_bounded_first_come_first_served_and_counts_toward_the_deadline(tmp_path: Path) -> None:
    pool = FunctionPool(spec_for(tmp_path, timeout_s=10), environment={}, max_instances=1, max_queue=2)
    try:
        assert pool.invoke({}).ok  # one warm instance
        order: list[int] = []

        def call(index: int, sleep: float = 0.0, deadline: float | None = None) -> Any:
            result = pool.invoke({"sleep": sleep}, deadline=deadline)
            order.append(index)
            return result

        with ThreadPoolExecutor(6) as executor:
            busy = executor.submit(call, 0, 1.5)
            time.sleep(0.3)
            queued = []
            for index in (1, 2):
                queued.append(executor.submit(call, index))
                time.sleep(0.1)  # arrival order
            overflow = call(3)
            assert overflow.rejected == "queue_full"
            assert busy.result().ok
            assert [f.result().ok for f in queued] == [True, True]
        assert order[:1] == [3]
        assert order[1:] == [0, 1, 2]
        with ThreadPoolExecutor(2) as executor:
            executor.submit(pool.invoke, {"sleep": 1.0})
            time.sleep(0.2)
            late = pool.invoke({}, deadline=time.monotonic() + 0.3)  # gives up while queued
        assert late.rejected == "integration_timeout"
        assert late.queued_ms >= 250
        running_late = pool.invoke({"sleep": 1.0}, deadline=time.monotonic() + 0.3)  # gives up while it runs
        assert running_late.rejected == "integration_timeout"
        assert pool.invoke({}).ok  # the instance finished that request on its own and came back
    finally:
        pool.close()


def test_work_for_a_client_that_went_away_is_dropped_before_it_starts(tmp_path: Path) -> None:
    pool = FunctionPool(spec_for(tmp_path), environment={}, max_instances=1)
    try:
        assert pool.invoke({}).ok
        dropped = pool.invoke({"raise": "must not run"}, client_gone=lambda: True)
        assert dropped.rejected == "client_gone"
        assert dropped.duration_ms == 0.0
        assert pool.invoke({}).ok
    finally:
        pool.close()
