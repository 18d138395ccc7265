"""An in-memory ObjectStorage (tests only): the S3 port over a dict."""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from sgd.adapters.storage import StoredObject


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
        return StoredObject(key, len(data), content_type, hashlib.md5(data).hexdigest(), metadata)

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
