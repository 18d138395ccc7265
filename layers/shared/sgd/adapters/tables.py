"""DynamoDB tables behind a small item interface; keys always come from sgd.tenancy."""

from __future__ import annotations

import functools
import json
import time
from decimal import Decimal
from typing import Any, Protocol

from sgd.adapters.aws import aws_client, is_condition_failure


@functools.cache
def _codecs() -> tuple[Any, Any]:
    """boto3's (serializer, deserializer), imported with boto3 on first use: see sgd.adapters.aws."""
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def _to_dynamo(item: dict[str, Any]) -> dict[str, Any]:
    # DynamoDB numbers must be Decimal; a JSON round trip converts nested floats too.
    plain = json.loads(json.dumps(item, default=str), parse_float=Decimal)
    serializer, _ = _codecs()
    return {name: serializer.serialize(value) for name, value in plain.items()}


def _from_dynamo(item: dict[str, Any]) -> dict[str, Any]:
    _, deserializer = _codecs()

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, dict):
            return {key: plain(inner) for key, inner in value.items()}
        if isinstance(value, list | set):
            return [plain(inner) for inner in value]
        return value

    return {name: plain(deserializer.deserialize(value)) for name, value in item.items()}


class ItemTable(Protocol):
    def put(self, item: dict[str, Any], *, only_if_absent: bool = False) -> bool: ...
    def get(self, pk: str, sk: str | None = None) -> dict[str, Any] | None: ...
    def query(self, pk: str, *, sk_prefix: str = "", newest_first: bool = False,
              limit: int | None = None) -> list[dict[str, Any]]: ...
    def delete(self, pk: str, sk: str | None = None) -> None: ...
    def put_if_newer(self, item: dict[str, Any], *, version_attribute: str = "version") -> bool: ...
    def put_if(self, item: dict[str, Any], *, condition: str, names: dict[str, str] | None = None,
               values: dict[str, Any] | None = None) -> bool: ...
    def update_if(self, pk: str, sk: str | None, *, update: str, condition: str, names: dict[str, str] | None = None,
                  values: dict[str, Any] | None = None) -> dict[str, Any] | None: ...
    def get_many(self, keys: list[tuple[str, str | None]]) -> dict[tuple[str, str | None], dict[str, Any]]: ...


class DynamoItemTable:
    """A table keyed by pk (partition) and, except for the cache table, sk (sort); both strings."""

    def __init__(self, name: str, client: Any = None) -> None:
        self.name = name
        self._given_client = client

    @property
    def _client(self) -> Any:
        return self._given_client or aws_client("dynamodb")

    @staticmethod
    def _key(pk: str, sk: str | None) -> dict[str, Any]:
        return {"pk": {"S": pk}} | ({"sk": {"S": sk}} if sk is not None else {})

    def put(self, item: dict[str, Any], *, only_if_absent: bool = False) -> bool:
        """Writes the item; with only_if_absent, returns False instead of overwriting an existing one."""
        if only_if_absent:
            return self.put_if(item, condition="attribute_not_exists(pk)")
        self._client.put_item(TableName=self.name, Item=_to_dynamo(item))
        return True

    def put_if(self, item: dict[str, Any], *, condition: str, names: dict[str, str] | None = None,
               values: dict[str, Any] | None = None) -> bool:
        """Writes the item if the ConditionExpression holds (values are plain Python, like items); else False."""
        request = self._expression(names, values) | {"TableName": self.name, "Item": _to_dynamo(item),
                                                     "ConditionExpression": condition}
        try:
            self._client.put_item(**request)
        except Exception as error:
            if not is_condition_failure(error):
                raise
            return False
        return True

    def update_if(self, pk: str, sk: str | None, *, update: str, condition: str,
                  names: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Applies the UpdateExpression if the ConditionExpression holds: the item as updated, or None."""
        request = self._expression(names, values) | {
            "TableName": self.name, "Key": self._key(pk, sk), "UpdateExpression": update,
            "ConditionExpression": condition, "ReturnValues": "ALL_NEW"}
        try:
            response = self._client.update_item(**request)
        except Exception as error:
            if not is_condition_failure(error):
                raise
            return None
        return _from_dynamo(response["Attributes"])

    @staticmethod
    def _expression(names: dict[str, str] | None, values: dict[str, Any] | None) -> dict[str, Any]:
        return ({"ExpressionAttributeNames": names} if names else {}) | (
            {"ExpressionAttributeValues": _to_dynamo(values)} if values else {})

    def get(self, pk: str, sk: str | None = None) -> dict[str, Any] | None:
        response = self._client.get_item(TableName=self.name, Key=self._key(pk, sk), ConsistentRead=True)
        return _from_dynamo(response["Item"]) if "Item" in response else None

    def get_many(self, keys: list[tuple[str, str | None]]) -> dict[tuple[str, str | None], dict[str, Any]]:
        """Several items in one round trip (BatchGetItem, strongly consistent); missing keys are left out."""
        wanted = list(dict.fromkeys(keys))
        found: dict[tuple[str, str | None], dict[str, Any]] = {}
        for start in range(0, len(wanted), 100):  # BatchGetItem's limit per request
            request = {self.name: {"Keys": [self._key(pk, sk) for pk, sk in wanted[start:start + 100]],
                                   "ConsistentRead": True}}
            while request:
                response = self._client.batch_get_item(RequestItems=request)
                for raw in response.get("Responses", {}).get(self.name, []):
                    item = _from_dynamo(raw)
                    found[(item["pk"], item.get("sk"))] = item
                request = response.get("UnprocessedKeys") or {}
        return found

    def put_if_newer(self, item: dict[str, Any], *, version_attribute: str = "version") -> bool:
        """Writes the item unless the stored one has a higher version, or the same version and has not expired:
        a cache never goes back, and an expired entry (DynamoDB's TTL deletes lazily) is renewed."""
        condition = "attribute_not_exists(pk) OR #version < :version"
        values: dict[str, Any] = {":version": item[version_attribute]}
        if "expires_at" in item:
            condition += " OR (#version = :version AND expires_at < :now)"
            values[":now"] = int(time.time())
        return self.put_if(item, condition=condition, names={"#version": version_attribute}, values=values)

    def delete(self, pk: str, sk: str | None = None) -> None:
        self._client.delete_item(TableName=self.name, Key=self._key(pk, sk))

    def query(self, pk: str, *, sk_prefix: str = "", newest_first: bool = False,
              limit: int | None = None) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk" + (" AND begins_with(sk, :prefix)" if sk_prefix else ""),
            "ExpressionAttributeValues": {":pk": {"S": pk}} | ({":prefix": {"S": sk_prefix}} if sk_prefix else {}),
            "ScanIndexForward": not newest_first,
        }
        items: list[dict[str, Any]] = []
        while True:
            if limit is not None:
                request["Limit"] = limit - len(items)
            response = self._client.query(**request)
            items += [_from_dynamo(item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response or (limit is not None and len(items) >= limit):
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
