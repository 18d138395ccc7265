"""The SQS consumer of RenderJobsQueue: one message per job, partial batch failures reported to Lambda.

A message that raises (a crash with attempts left, or an unreadable job store) is returned in
batchItemFailures, so SQS redelivers it after its visibility timeout and moves it to the dead-letter queue after
maxReceiveCount receives. Everything else, including a failed render, is a final job state and consumes it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sgd.observability import logger
from sgd.render.service import RenderService
from sgd.repositories.jobs import RenderJobQueue


def _loop() -> asyncio.AbstractEventLoop:
    """The process's event loop (Mangum's): the gateway's connection pool is bound to it."""
    try:
        return asyncio.get_event_loop()
    except RuntimeError:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        return loop


def _receive_count(record: dict[str, Any]) -> int:
    """The message's ApproximateReceiveCount: which attempt this is (1 when SQS did not say)."""
    try:
        return max(1, int((record.get("attributes") or {}).get("ApproximateReceiveCount", "1")))
    except (TypeError, ValueError):
        return 1


def handle_job_messages(service: RenderService, event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event.get("Records") or []:
        try:
            message = RenderJobQueue.parse(record["body"])
        except (KeyError, ValueError):
            logger.error("unreadable render job message; dropped", extra={"message_id": record.get("messageId")})
            continue
        org, job_id = message.org, message.job_id
        attempt = _receive_count(record)
        logger.append_keys(org=org, job_id=job_id)
        try:
            _loop().run_until_complete(service.run_job(org, job_id, attempt=attempt, lambda_context=context))
        except Exception:
            logger.exception("render job message failed; SQS will redeliver it", extra={"attempt": attempt})
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
