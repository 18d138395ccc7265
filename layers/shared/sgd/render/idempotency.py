"""Idempotency-Key for POST /render, on Powertools idempotency (DynamoDB table: key `id`, TTL `expiration`).

The record key hashes the caller's org with the header value, so two orgs' keys never collide; the payload
validated against the stored record is the normalised body, so a reused key with a different body is refused
(422 idempotency_key_reused) instead of replaying an unrelated response. A duplicate arriving while the first
request still runs gets 409 request_in_progress. Failed requests (any error) are not recorded: retry freely.

Powertools' decorator is synchronous; the pipeline is async on the invocation's event loop. The decorated
function therefore runs in a worker thread and hands the pipeline back to that loop, which stays free while it
waits: one loop per process, as Mangum and the gateway's connection pool expect.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from sgd.errors import Conflict, ServiceUnavailable, ValidationFailed

EXPIRES_AFTER_SECONDS = 24 * 3600
KEY_PREFIX = "render"  # fixed, so records do not depend on the function's deployed name
Produce = Callable[[], Coroutine[Any, Any, dict[str, Any]]]


def _mark_replayed(response: dict[str, Any], idempotent_data: Any) -> dict[str, Any]:
    return response | {"replayed": True}


def idempotency_config() -> Any:
    """Records are keyed on [org, key] and validated against body (see idempotency_payload)."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(event_key_jmespath="[org, key]", payload_validation_jmespath="body",
                             raise_on_no_idempotency_key=True, expires_after_seconds=EXPIRES_AFTER_SECONDS,
                             response_hook=_mark_replayed)


def idempotency_payload(org: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    """What the record is keyed on (org and key) and validated against (body)."""
    return {"org": org, "key": key, "body": body}


class IdempotentRuns:
    """produce() once per (org, Idempotency-Key); later calls with the same body get its stored result (+ replayed).

    `persistence` builds the Powertools persistence layer (sgd.adapters.idempotency) on the first keyed request,
    so requests without a key never load Powertools' idempotency or boto3."""

    def __init__(self, persistence: Callable[[], Any]) -> None:
        self._persistence = persistence
        self._decorated: tuple[Any, Callable[..., dict[str, Any]]] | None = None
        self._lock = threading.Lock()

    def _function(self) -> tuple[Any, Callable[..., dict[str, Any]]]:
        """(config, the decorated producer), built once."""
        with self._lock:
            if self._decorated is None:
                from aws_lambda_powertools.utilities.idempotency import idempotent_function

                config = idempotency_config()

                def produce_response(*, request: dict[str, Any], produce: Produce,
                                     loop: asyncio.AbstractEventLoop) -> dict[str, Any]:
                    return asyncio.run_coroutine_threadsafe(produce(), loop).result()

                self._decorated = config, idempotent_function(
                    produce_response, data_keyword_argument="request", persistence_store=self._persistence(),
                    config=config, key_prefix=KEY_PREFIX)
            return self._decorated

    async def run(self, org: str, key: str, body: dict[str, Any], produce: Produce,
                  lambda_context: Any = None) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyPersistenceLayerError,
            IdempotencyValidationError,
        )

        config, function = await asyncio.to_thread(self._function)
        if lambda_context is not None and callable(getattr(lambda_context, "get_remaining_time_in_millis", None)):
            config.register_lambda_context(lambda_context)
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.to_thread(function, request=idempotency_payload(org, key, body), produce=produce,
                                           loop=loop)
        except IdempotencyValidationError:
            raise ValidationFailed("this Idempotency-Key was already used with a different request body; use a "
                                   "new key for a new request", code="idempotency_key_reused",
                                   details={"idempotency_key": key}) from None
        except IdempotencyAlreadyInProgressError:
            raise Conflict("a request with this Idempotency-Key is still in progress; retry shortly to get its "
                           "result", code="request_in_progress", details={"idempotency_key": key},
                           headers={"Retry-After": "1"}) from None
        except IdempotencyPersistenceLayerError:
            raise ServiceUnavailable("the idempotency store is unavailable; retry shortly",
                                     headers={"Retry-After": "1"}) from None
