"""DynamoDB tables behind a small item interface (the ItemTable port).

Conditions and updates are small values (`Condition`, `Update`) rather than expression strings: repositories say
what must hold and what changes, the DynamoDB adapter compiles that into DynamoDB's expression syntax, and the
in-memory fake the tests use evaluates the very same values. Nothing outside this module writes an expression.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol

from sgd.adapters.aws import ClientSource, is_condition_failure

Item = dict[str, Any]  # an item as plain JSON values; repositories turn items into typed records
Key = tuple[str, str | None]  # (pk, sk); sk is None in the cache table, which has no sort key
Comparator = Literal["=", "<>", "<", "<=", ">", ">="]


@dataclass(frozen=True, slots=True)
class Condition:
    """What must hold of the stored item for a write to happen. Build with exists(), absent(), eq(), lt(), ...
    and combine with &, | and ~."""

    op: Literal["exists", "absent", "compare", "in", "and", "or", "not"]
    attribute: str = ""
    comparator: Comparator = "="
    values: tuple[Any, ...] = ()
    parts: tuple[Condition, ...] = ()

    def __and__(self, other: Condition) -> Condition:
        return Condition("and", parts=(self, other))

    def __or__(self, other: Condition) -> Condition:
        return Condition("or", parts=(self, other))

    def __invert__(self) -> Condition:
        return Condition("not", parts=(self,))


def exists(attribute: str) -> Condition:
    return Condition("exists", attribute)


def absent(attribute: str) -> Condition:
    return Condition("absent", attribute)


def compare(attribute: str, comparator: Comparator, value: Any) -> Condition:
    return Condition("compare", attribute, comparator, (value,))


def eq(attribute: str, value: Any) -> Condition:
    return compare(attribute, "=", value)


def lt(attribute: str, value: Any) -> Condition:
    return compare(attribute, "<", value)


def le(attribute: str, value: Any) -> Condition:
    return compare(attribute, "<=", value)


def one_of(attribute: str, values: Sequence[Any]) -> Condition:
    if not values:
        raise ValueError("one_of needs at least one value")
    return Condition("in", attribute, values=tuple(values))


@dataclass(frozen=True, slots=True)
class Update:
    """An item change: `set` values, `set_if_absent` (kept when the attribute exists) and `add` (numbers, atomic)."""

    set: Mapping[str, Any] = field(default_factory=dict)
    set_if_absent: Mapping[str, Any] = field(default_factory=dict)
    add: Mapping[str, int | float] = field(default_factory=dict)


class ItemTable(Protocol):
    def get(self, pk: str, sk: str | None = None) -> Item | None: ...
    def get_many(self, keys: Sequence[Key]) -> dict[Key, Item]: ...
    def query(self, pk: str, *, sk_prefix: str = "", newest_first: bool = False,
              limit: int | None = None) -> list[Item]: ...
    def put(self, item: Item, *, when: Condition | None = None) -> bool: ...
    def update(self, pk: str, sk: str | None, change: Update, *, when: Condition | None = None) -> Item | None: ...
    def delete(self, pk: str, sk: str | None = None) -> None: ...


# -- the DynamoDB adapter ---------------------------------------------------------------------------------------------


@functools.cache
def _codecs() -> tuple[Any, Any]:
    """boto3's (serializer, deserializer), imported with boto3 on first use: see sgd.adapters.aws."""
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


_DYNAMO_SMALLEST = Decimal("1e-130")  # DynamoDB's smallest positive number; anything smaller cannot be stored


def _dynamo_number(text: str) -> Decimal:
    """A JSON float as a DynamoDB number: a magnitude below 1e-130 (a subnormal, say) is stored as 0, which is what
    it is to DynamoDB's 38 digits, rather than failing the write."""
    value = Decimal(text)
    return Decimal(0) if value and abs(value) < _DYNAMO_SMALLEST else value


def _plain_json(value: Any) -> Any:
    # DynamoDB numbers must be Decimal; a JSON round trip converts nested floats too.
    return json.loads(json.dumps(value, default=str), parse_float=_dynamo_number)


def _to_dynamo(values: Mapping[str, Any]) -> dict[str, Any]:
    serializer, _ = _codecs()
    return {name: serializer.serialize(value) for name, value in _plain_json(dict(values)).items()}


def _from_dynamo(item: Mapping[str, Any]) -> Item:
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


class _Expression:
    """Placeholders (#n0, :v0) for the names and values one request's expressions use."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        for placeholder, known in self.names.items():
            if known == attribute:
                return placeholder
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def condition(self, condition: Condition) -> str:
        match condition.op:
            case "exists":
                return f"attribute_exists({self.name(condition.attribute)})"
            case "absent":
                return f"attribute_not_exists({self.name(condition.attribute)})"
            case "compare":
                return f"{self.name(condition.attribute)} {condition.comparator} {self.value(condition.values[0])}"
            case "in":
                listed = ", ".join(self.value(value) for value in condition.values)
                return f"{self.name(condition.attribute)} IN ({listed})"
            case "and" | "or":
                left, right = (self.condition(part) for part in condition.parts)
                return f"({left}) {condition.op.upper()} ({right})"
            case "not":
                return f"NOT ({self.condition(condition.parts[0])})"
        raise ValueError(f"unknown condition {condition.op!r}")

    def update(self, change: Update) -> str:
        assignments = [f"{self.name(name)} = {self.value(value)}" for name, value in change.set.items()]
        assignments += [f"{self.name(name)} = if_not_exists({self.name(name)}, {self.value(value)})"
                        for name, value in change.set_if_absent.items()]
        clauses = ["SET " + ", ".join(assignments)] if assignments else []
        if change.add:
            clauses.append("ADD " + ", ".join(f"{self.name(name)} {self.value(amount)}"
                                              for name, amount in change.add.items()))
        if not clauses:
            raise ValueError("an update must change something")
        return " ".join(clauses)

    def request(self) -> dict[str, Any]:
        return ({"ExpressionAttributeNames": self.names} if self.names else {}) | (
            {"ExpressionAttributeValues": _to_dynamo(self.values)} if self.values else {})


class DynamoItemTable:
    """A table keyed by pk (partition) and, except for the cache table, sk (sort); both strings."""

    def __init__(self, name: str, clients: ClientSource) -> None:
        self.name = name
        self._clients = clients

    @property
    def _client(self) -> Any:
        return self._clients("dynamodb")

    @staticmethod
    def _key(pk: str, sk: str | None) -> dict[str, Any]:
        return {"pk": {"S": pk}} | ({"sk": {"S": sk}} if sk is not None else {})

    def put(self, item: Item, *, when: Condition | None = None) -> bool:
        """Writes the item; with `when`, only if the stored item satisfies it (else False, nothing written)."""
        request: dict[str, Any] = {"TableName": self.name, "Item": _to_dynamo(item)}
        if when is not None:
            expression = _Expression()
            request |= {"ConditionExpression": expression.condition(when)} | expression.request()
        return self._conditional(self._client.put_item, request) is not None

    def update(self, pk: str, sk: str | None, change: Update, *, when: Condition | None = None) -> Item | None:
        """Applies the change (creating the item if needed) and returns the item as updated; None when `when`
        does not hold."""
        expression = _Expression()
        request: dict[str, Any] = {"TableName": self.name, "Key": self._key(pk, sk),
                                   "UpdateExpression": expression.update(change), "ReturnValues": "ALL_NEW"}
        if when is not None:
            request["ConditionExpression"] = expression.condition(when)
        response = self._conditional(self._client.update_item, request | expression.request())
        return None if response is None else _from_dynamo(response["Attributes"])

    @staticmethod
    def _conditional(call: Any, request: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return call(**request)
        except Exception as error:
            if not is_condition_failure(error):
                raise
            return None

    def get(self, pk: str, sk: str | None = None) -> Item | None:
        response = self._client.get_item(TableName=self.name, Key=self._key(pk, sk), ConsistentRead=True)
        return _from_dynamo(response["Item"]) if "Item" in response else None

    def get_many(self, keys: Sequence[Key]) -> dict[Key, Item]:
        """Several items in one round trip (BatchGetItem, strongly consistent); missing keys are left out."""
        wanted = list(dict.fromkeys(keys))
        found: dict[Key, Item] = {}
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

    def delete(self, pk: str, sk: str | None = None) -> None:
        self._client.delete_item(TableName=self.name, Key=self._key(pk, sk))

    def query(self, pk: str, *, sk_prefix: str = "", newest_first: bool = False,
              limit: int | None = None) -> list[Item]:
        return list(self._query(pk, sk_prefix=sk_prefix, newest_first=newest_first, limit=limit))

    def _query(self, pk: str, *, sk_prefix: str, newest_first: bool, limit: int | None) -> Iterator[Item]:
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk" + (" AND begins_with(sk, :prefix)" if sk_prefix else ""),
            "ExpressionAttributeValues": {":pk": {"S": pk}} | ({":prefix": {"S": sk_prefix}} if sk_prefix else {}),
            "ScanIndexForward": not newest_first,
        }
        returned = 0
        while True:
            if limit is not None:
                request["Limit"] = limit - returned
            response = self._client.query(**request)
            for raw in response.get("Items", []):
                returned += 1
                yield _from_dynamo(raw)
            if "LastEvaluatedKey" not in response or (limit is not None and returned >= limit):
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
