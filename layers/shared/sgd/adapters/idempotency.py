"""Powertools idempotency's DynamoDB persistence layer (table key `id`, TTL `expiration`)."""

from __future__ import annotations

from typing import Any

from sgd.adapters.aws import ClientSource


def dynamodb_persistence(table_name: str, clients: ClientSource) -> Any:
    """The persistence layer over the idempotency table; imports Powertools' idempotency and boto3 when called."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=table_name, key_attr="id", expiry_attr="expiration",
                                    boto3_client=clients("dynamodb"))
