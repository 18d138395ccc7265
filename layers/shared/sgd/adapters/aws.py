"""boto3 clients of one process, made on first use and reused by warm invocations.

boto3 honours AWS_ENDPOINT_URL, which is how the local runtime points the functions at its moto server.
boto3 itself (~250 ms) is imported on the first client, so routes that never touch AWS (and the HTTP cold start
of every function) do not pay for it. The composition root makes one AwsClients per process; every adapter
takes its `client(service)` as a ClientSource, so tests hand adapters the local runtime's clients instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sgd.observability import trace_library

ClientSource = Callable[[str], Any]  # service name ("s3", "dynamodb", ...) -> a boto3 client


class AwsClients:
    def __init__(self, region: str) -> None:
        self.region = region
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        """The process's client for `service`; threads asking together get the same one."""
        existing = self._clients.get(service)
        if existing is not None:
            return existing
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._new_client(service)
            return self._clients[service]

    def _new_client(self, service: str) -> Any:
        from boto3.session import Session
        from botocore.config import Config

        trace_library("botocore")
        config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=10,
                        tcp_keepalive=True)
        return Session().client(service, region_name=self.region, config=config)


def error_code(error: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError ("ConditionalCheckFailedException", "NoSuchKey", ...)."""
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def is_condition_failure(error: BaseException) -> bool:
    """True for DynamoDB's ConditionalCheckFailedException, recognised by its error code.

    Not `except client.exceptions.ConditionalCheckFailedException`: botocore builds a client's exception classes
    lazily, and threads that first touch them together can get different classes, so the `except` misses the
    one actually raised (seen as an intermittent 500 among 20 concurrent budget reservations).
    """
    return error_code(error) == "ConditionalCheckFailedException"
