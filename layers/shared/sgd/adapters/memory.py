"""In-memory adapters: the ItemTable and ObjectStorage ports over dicts, honouring conditions and updates as
DynamoDB does.

Two users: the tests (unit tests run services over them; tests/integration/test_table_contract.py runs one suite
against MemoryTable and the moto-backed DynamoItemTable, so a test on the fake sees what the real table would do),
and SnapStart priming (sgd.snapstart), which serves one representative request per function before the snapshot
without reaching anything outside the process.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Sequence
from typing import Any

from sgd.adapters.storage import StoredObject
from sgd.adapters.tables import Condition, Item, Key, Update

_ORDER = {"=": lambda a, b: a == b, "<>": lambda a, b: a != b, "<": lambda a, b: a < b,
          "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _stored(value: Any) -> Any:
    """What DynamoDB hands back: a JSON-shaped copy (tuples become lists, the caller's objects are not shared)."""
    return json.loads(json.dumps(value, default=str))


def _comparable(left: Any, right: Any) -> bool:
    numbers = (int, float)
    return (isinstance(left, numbers) and isinstance(right, numbers) and not isinstance(left, bool)) or \
        type(left) is type(right)


def holds(condition: Condition, item: Item | None) -> bool:
    """Evaluates a condition against the stored item (None: no item), with DynamoDB's semantics: a comparison
    with a missing attribute, or between different types, is false."""
    stored = item or {}
    match condition.op:
        case "exists":
            return condition.attribute in stored
        case "absent":
            return condition.attribute not in stored
        case "compare":
            if condition.attribute not in stored:
                return False
            left, right = stored[condition.attribute], _stored(condition.values[0])
            if condition.comparator in ("=", "<>"):
                return (left == right) == (condition.comparator == "=")
            return _comparable(left, right) and _ORDER[condition.comparator](left, right)
        case "in":
            return condition.attribute in stored and stored[condition.attribute] in _stored(list(condition.values))
        case "and":
            return all(holds(part, item) for part in condition.parts)
        case "or":
            return any(holds(part, item) for part in condition.parts)
        case "not":
            return not holds(condition.parts[0], item)
    raise ValueError(f"unknown condition {condition.op!r}")


class MemoryTable:
    """The ItemTable port over a dict; every write is atomic (one lock), as DynamoDB's item writes are."""

    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self.items: dict[Key, Item] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(pk: str, sk: str | None) -> Key:
        return (pk, sk)

    def get(self, pk: str, sk: str | None = None) -> Item | None:
        with self._lock:
            item = self.items.get(self._key(pk, sk))
            return copy.deepcopy(item) if item is not None else None

    def get_many(self, keys: Sequence[Key]) -> dict[Key, Item]:
        with self._lock:
            return {key: copy.deepcopy(self.items[key]) for key in dict.fromkeys(keys) if key in self.items}

    def query(self, pk: str, *, sk_prefix: str = "", newest_first: bool = False,
              limit: int | None = None) -> list[Item]:
        with self._lock:
            found = sorted((key[1] or "", item) for key, item in self.items.items()
                           if key[0] == pk and (key[1] or "").startswith(sk_prefix))
        ordered = [copy.deepcopy(item) for _, item in (reversed(found) if newest_first else found)]
        return ordered[:limit] if limit is not None else ordered

    def put(self, item: Item, *, when: Condition | None = None) -> bool:
        key = self._key(item["pk"], item.get("sk"))
        with self._lock:
            if when is not None and not holds(when, self.items.get(key)):
                return False
            self.items[key] = _stored(item)
            return True

    def update(self, pk: str, sk: str | None, change: Update, *, when: Condition | None = None) -> Item | None:
        key = self._key(pk, sk)
        with self._lock:
            current = self.items.get(key)
            if when is not None and not holds(when, current):
                return None
            updated = copy.deepcopy(current) if current is not None else \
                {"pk": pk} | ({"sk": sk} if sk is not None else {})
            updated |= _stored(dict(change.set))
            for name, value in change.set_if_absent.items():
                updated.setdefault(name, _stored(value))
            for name, amount in change.add.items():
                updated[name] = updated.get(name, 0) + amount
            self.items[key] = updated
            return copy.deepcopy(updated)

    def delete(self, pk: str, sk: str | None = None) -> None:
        with self._lock:
            self.items.pop(self._key(pk, sk), None)


class MissingObject(Exception):
    """What S3 raises for a missing key, with the same error code the adapters recognise."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no object {key}")
        self.response = {"Error": {"Code": "NoSuchKey"}}


class MemoryStorage:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def put(self, key: str, body: bytes, *, content_type: str, metadata: dict[str, str] | None = None) -> None:
        with self._lock:
            self.objects[key] = (bytes(body), content_type, dict(metadata or {}))

    def get(self, key: str) -> bytes:
        with self._lock:
            if key not in self.objects:
                raise MissingObject(key)
            return self.objects[key][0]

    def head(self, key: str) -> StoredObject | None:
        with self._lock:
            found = self.objects.get(key)
        if found is None:
            return None
        data, content_type, metadata = found
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()  # S3's ETag of a single-part object
        return StoredObject(key, len(data), content_type, etag, metadata)

    def move(self, source_key: str, target_key: str) -> None:
        with self._lock:
            self.objects[target_key] = self.objects.pop(source_key)

    def delete(self, key: str) -> None:
        with self._lock:
            self.objects.pop(key, None)

    def presign_get(self, key: str, *, ttl_seconds: int) -> str:
        return f"https://storage.invalid/{key}?ttl={ttl_seconds}"

    def presign_post(self, key: str, *, content_type: str, max_bytes: int, ttl_seconds: int) -> dict[str, Any]:
        return {"url": "https://storage.invalid/", "fields": {"key": key, "Content-Type": content_type}}
