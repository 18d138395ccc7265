"""The brand files a render composites: the canon's logo and the project's uploaded fonts.

Assets are content-addressed (their S3 keys carry the asset id, a content hash), so their bytes never change
under a key: a small per-container cache keeps them across warm invocations.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sgd.adapters.storage import ObjectStorage
from sgd.adapters.tables import ItemTable
from sgd.tenancy import Tenant

ASSET_PREFIX = "asset#"


class BytesCache:
    """A least-recently-used cache of object bytes, bounded by total size."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
            return data

    def put(self, key: str, data: bytes) -> None:
        if len(data) > self._max_bytes:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = data
            self._size += len(data)
            while self._size > self._max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._size -= len(evicted)


_CONTAINER_CACHE = BytesCache()


@dataclass(frozen=True, slots=True)
class BrandFiles:
    logo: bytes | None
    fonts: dict[str, bytes]  # family -> TTF/OTF bytes
    notes: tuple[str, ...] = ()


class BrandAssets:
    def __init__(self, assets: ItemTable, storage: ObjectStorage, cache: BytesCache | None = None) -> None:
        self._assets = assets
        self._storage = storage
        self._cache = cache or _CONTAINER_CACHE

    @staticmethod
    def fingerprint(font_items: list[dict[str, Any]]) -> list[str]:
        """What identifies the project's fonts for the plan cache: family and content-addressed key."""
        return [f"{item['family']}={item['key']}" for item in font_items]

    def load(self, tenant: Tenant, canon: dict[str, Any] | None, font_items: list[dict[str, Any]]) -> BrandFiles:
        notes: list[str] = []
        fonts: dict[str, bytes] = {}
        for item in font_items:
            data = self._object(item["key"])
            if data is None:
                notes.append(f"uploaded font {item['family']} is missing from storage; not used")
            else:
                fonts.setdefault(str(item["family"]), data)
        logo = None
        logo_id = (canon or {}).get("logo_asset_id")
        if logo_id:
            item = self._assets.get(tenant.partition_key, f"{ASSET_PREFIX}{logo_id}")
            usable = item is not None and item.get("key") and item.get("status") == "admitted"  # never quarantine
            logo = self._object(item["key"]) if usable else None
            if logo is None:
                notes.append(f"the canon's logo asset {logo_id} was not found; rendered without a logo")
        return BrandFiles(logo, fonts, tuple(notes))

    def _object(self, key: str) -> bytes | None:
        data = self._cache.get(key)
        if data is not None:
            return data
        if self._storage.head(key) is None:
            return None
        data = self._storage.get(key)
        self._cache.put(key, data)
        return data
