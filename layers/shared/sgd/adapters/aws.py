"""boto3 clients, created once per process on first use and reused by warm invocations.

boto3 honours AWS_ENDPOINT_URL, which is how the local runtime points the functions at its moto server.
boto3 itself (~250 ms) is imported here, on first use, so that routes which never touch AWS (and the
HTTP cold start of every function) do not pay for it.
"""

from __future__ import annotations

import functools
from typing import Any

from sgd.observability import trace_library
from sgd.settings import get_settings


@functools.cache
def aws_client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    trace_library("botocore")
    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=10,
                    tcp_keepalive=True)
    return boto3.session.Session().client(service, region_name=get_settings().region, config=config)


def is_condition_failure(error: BaseException) -> bool:
    """True for DynamoDB's ConditionalCheckFailedException, recognised by its error code.

    Not `except client.exceptions.ConditionalCheckFailedException`: botocore builds a client's exception classes
    lazily, and threads that first touch them together can get different classes, so the `except` misses the
    one actually raised (seen as an intermittent 500 among 20 concurrent budget reservations).
    """
    response = getattr(error, "response", None)
    return isinstance(response, dict) and response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
