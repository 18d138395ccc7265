"""boto3 clients, created once per process and reused by warm invocations.

boto3 honours AWS_ENDPOINT_URL, which is how the local runtime points the functions at its moto server.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

from sgd.settings import get_settings

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=10,
    tcp_keepalive=True,
)


@functools.cache
def aws_client(service: str) -> Any:
    return boto3.session.Session().client(service, region_name=get_settings().region, config=_CONFIG)
