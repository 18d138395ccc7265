"""The Lambda entry point shared by every function: Powertools context, tracing, metrics, then dispatch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from mangum import Mangum

from sgd.observability import logger, metrics

LambdaHandler = Callable[[dict[str, Any], Any], Any]


def is_s3_notification(event: dict[str, Any]) -> bool:
    records = event.get("Records")
    return bool(records) and all(record.get("eventSource") == "aws:s3" for record in records)


def is_sqs_batch(event: dict[str, Any]) -> bool:
    records = event.get("Records")
    return bool(records) and all(record.get("eventSource") == "aws:sqs" for record in records)


def without_stage_prefix(event: dict[str, Any]) -> dict[str, Any]:
    """On a named stage, API Gateway puts '/{stage}' in front of the path; the app's routes don't have it."""
    context = event.get("requestContext") or {}
    stage, http = context.get("stage"), context.get("http") or {}
    path = http.get("path", "")
    if not stage or stage == "$default" or not path.startswith(f"/{stage}/"):
        return event
    return event | {"requestContext": context | {"http": http | {"path": path[len(stage) + 1 :]}}}


def lambda_entry(app: Any, *, on_s3_event: LambdaHandler | None = None,
                 on_sqs_event: LambdaHandler | None = None) -> LambdaHandler:
    """Wraps a FastAPI app (through Mangum) and, per function, an S3 notification or SQS batch handler."""
    asgi = Mangum(app, lifespan="off")

    # No tracer.capture_lambda_handler: Lambda's own tracing records each invocation, and the decorator
    # would load the X-Ray SDK (~300 ms) on every cold start; see sgd.observability.
    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: Any) -> Any:
        if on_s3_event is not None and is_s3_notification(event):
            return on_s3_event(event, context)
        if on_sqs_event is not None and is_sqs_batch(event):
            return on_sqs_event(event, context)
        return asgi(without_stage_prefix(event), context)

    return handler
