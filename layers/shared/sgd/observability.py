"""Logger, Tracer and Metrics, created once per process (service name from POWERTOOLS_SERVICE_NAME).

The X-Ray SDK costs ~300 ms at import (it builds a botocore client for sampling), so the Tracer gets it
lazily: a cold start pays for it only on a path that traces something. Lambda's own tracing
(Tracing: Active) records every invocation regardless; Powertools adds subsegments for AWS SDK calls
(patched when the first client is created, see trace_library) and for model calls.
"""

from __future__ import annotations

import contextlib
import functools
import numbers
from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.tracing.base import BaseProvider


class LazyXRayProvider(BaseProvider):
    """Powertools' default X-Ray provider, imported on first use instead of at cold start."""

    @functools.cached_property
    def _recorder(self) -> Any:
        from aws_xray_sdk.core import xray_recorder

        xray_recorder.configure(streaming_threshold=0)  # as Powertools does: send subsegments one by one
        return xray_recorder

    def in_subsegment(self, name=None, **kwargs):  # type: ignore[no-untyped-def]
        return self._recorder.in_subsegment(name=name, **kwargs)

    def in_subsegment_async(self, name=None, **kwargs):  # type: ignore[no-untyped-def]
        return self._recorder.in_subsegment_async(name=name, **kwargs)

    def put_annotation(self, key: str, value: str | numbers.Number | bool) -> None:
        self._recorder.put_annotation(key=key, value=value)

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self._recorder.put_metadata(key=key, value=value, namespace=namespace)

    def patch(self, modules: Sequence[str]) -> None:
        from aws_xray_sdk.core import patch

        self._recorder  # noqa: B018 - configure the recorder before anything it patches records
        patch(modules)

    def patch_all(self) -> None:
        from aws_xray_sdk.core import patch_all

        self._recorder  # noqa: B018
        patch_all()


logger = Logger()
tracer = Tracer(provider=LazyXRayProvider(), auto_patch=False)
metrics = Metrics()


@functools.cache
def trace_library(name: str) -> None:
    """X-Ray-patches a client library (botocore, httpx) the first time a code path is about to use it."""
    tracer.patch([name])


@contextlib.asynccontextmanager
async def traced(name: str, *, annotations: dict[str, str | float | bool]) -> AsyncIterator[None]:
    """An X-Ray subsegment around an awaited call (nothing when tracing is off, as it is locally)."""
    if tracer.disabled:
        yield
        return
    async with tracer.provider.in_subsegment_async(name=name) as subsegment:
        for key, value in annotations.items():
            subsegment.put_annotation(key, cast(Any, value))  # X-Ray takes str, numbers and bool
        yield


def model_call_metrics(task: str, model: str, *, latency_ms: float | None = None, cost_usd: float | None = None,
                       failure_reason: str | None = None, fallback_used: bool = False) -> None:
    """One EMF record per model call, with task and model as dimensions (the handler's Metrics has none)."""
    record = EphemeralMetrics(namespace=metrics.namespace, service=metrics.service)
    record.add_dimension(name="task", value=task)
    record.add_dimension(name="model", value=model)
    if latency_ms is not None:
        record.add_metric(name="ModelCallLatency", unit=MetricUnit.Milliseconds, value=latency_ms)
    if cost_usd is not None:
        record.add_metric(name="ModelCallCostUSD", unit=MetricUnit.NoUnit, value=cost_usd)
    if failure_reason is not None:
        record.add_metric(name=f"ModelCallFailed_{failure_reason}", unit=MetricUnit.Count, value=1)
    if fallback_used:
        record.add_metric(name="ModelFallbackUsed", unit=MetricUnit.Count, value=1)
    record.flush_metrics()


def trace_id_or(request_id: str) -> str:
    """The X-Ray trace root of this invocation (Lambda sets _X_AMZN_TRACE_ID), else the request id."""
    import os

    header = os.environ.get("_X_AMZN_TRACE_ID", "")
    for part in header.split(";"):
        name, _, value = part.partition("=")
        if name.strip() == "Root" and value.strip():
            return value.strip()
    return request_id
