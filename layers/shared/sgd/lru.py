"""The one least-recently-used cache: thread-safe, bounded by entries or by total size.

Warm Lambda containers keep decoded logos, font faces and brand files between invocations; every such cache is an
LruCache, so each is bounded the same way and safe under the render and critique thread pools.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_ABSENT = object()


class LruCache(Generic[K, V]):
    """At most `max_entries` entries and, with `weigh`, at most `max_weight` in total (a value heavier than that
    alone is never kept)."""

    def __init__(self, max_entries: int, *, max_weight: int | None = None,
                 weigh: Callable[[V], int] | None = None) -> None:
        if (max_weight is None) != (weigh is None):
            raise ValueError("give both max_weight and weigh, or neither")
        self._max_entries = max_entries
        self._max_weight = max_weight
        self._weigh = weigh
        self._items: OrderedDict[K, V] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key, _ABSENT)
            if value is _ABSENT:
                return None
            self._items.move_to_end(key)
            return value  # type: ignore[return-value]

    def __contains__(self, key: K) -> bool:
        with self._lock:
            return key in self._items

    def put(self, key: K, value: V) -> None:
        weight = self._weigh(value) if self._weigh is not None else 0
        if self._max_weight is not None and weight > self._max_weight:
            return
        with self._lock:
            if key in self._items:
                self._weight -= self._weigh(self._items[key]) if self._weigh is not None else 0
            self._items[key] = value
            self._items.move_to_end(key)
            self._weight += weight
            while len(self._items) > self._max_entries or (
                    self._max_weight is not None and self._weight > self._max_weight):
                _, evicted = self._items.popitem(last=False)
                self._weight -= self._weigh(evicted) if self._weigh is not None else 0

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The cached value, or make() (outside the lock: two threads may both make it; one is kept)."""
        with self._lock:
            value = self._items.get(key, _ABSENT)
            if value is not _ABSENT:
                self._items.move_to_end(key)
                return value  # type: ignore[return-value]
        made = make()
        self.put(key, made)
        return made

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._weight = 0
