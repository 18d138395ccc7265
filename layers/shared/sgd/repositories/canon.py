"""The versioned canon store: one item per version in the canon table, the latest cached in the cache table.

Versions are append-only. A new version is a conditional put of `version#{n}`, so two concurrent writers can
never both create version n; an edit that names the version it started from (If-Match) gets 412 when another
version was written meanwhile. The cache is written with "only if newer", so a slow reader can never put an
older version back after a writer moved it forward.
"""

from __future__ import annotations

import json
import random
import re
import time
from datetime import datetime
from typing import Any, Literal

from sgd.adapters.clock import Clock, SystemClock
from sgd.adapters.tables import ItemTable
from sgd.errors import PreconditionFailed, ServiceUnavailable
from sgd.tenancy import Tenant

VERSION_PREFIX = "version#"
CACHE_TTL_SECONDS = 3600
_WRITE_ATTEMPTS = 10  # concurrent writers each lose at most once per winner; then 503 with Retry-After
_UNREAD: Any = object()


def version_key(version: int) -> str:
    return f"{VERSION_PREFIX}{version:08d}"


def cache_key(tenant: Tenant) -> str:
    return f"canon#{tenant.org}#{tenant.project}"


def parse_if_match(value: str | None) -> int | None:
    """If-Match carries the version an edit started from: '3', '"3"' or 'W/"3"'. None when absent or '*'."""
    if value is None or value.strip() == "*":
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not re.fullmatch(r"[0-9]{1,12}", text):  # ASCII digits only: str.isdigit() also accepts '³'; and bounded
        raise PreconditionFailed("If-Match must carry the canon version you edited, e.g. If-Match: \"3\"",
                                 details={"if_match": value})
    return int(text)


class CanonStore:
    def __init__(self, versions: ItemTable, cache: ItemTable, clock: Clock | None = None) -> None:
        self._versions = versions
        self._cache = cache
        self._clock = clock or SystemClock()

    def latest(self, tenant: Tenant, *, cached: dict[str, Any] | None = _UNREAD) -> dict[str, Any] | None:
        """The newest version's document (see sgd.contracts.canon.CanonDocument), or None before the first.

        Pass `cached` when the cache item was already read in a batch with others (None: it was not found)."""
        if cached is _UNREAD:
            cached = self._cache.get(cache_key(tenant))
        if cached is not None and cached.get("expires_at", 0) > self._clock.now().timestamp():
            return json.loads(cached["document"])
        items = self._versions.query(tenant.partition_key, sk_prefix=VERSION_PREFIX, newest_first=True, limit=1)
        if not items:
            return None
        document = _document(items[0])
        self._remember(tenant, document)
        return document

    def version(self, tenant: Tenant, version: int) -> dict[str, Any] | None:
        item = self._versions.get(tenant.partition_key, version_key(version))
        return _document(item) if item else None

    def versions(self, tenant: Tenant) -> list[dict[str, Any]]:
        """Every version's summary, newest first."""
        items = self._versions.query(tenant.partition_key, sk_prefix=VERSION_PREFIX, newest_first=True)
        return [{name: item[name] for name in ("version", "created_at", "created_by", "source")} for item in items]

    def create(self, tenant: Tenant, canon: dict[str, Any], *, provenance: list[dict[str, Any]],
               source: Literal["derived", "manual"], created_by: str,
               expected_version: int | None = None) -> dict[str, Any]:
        """Appends a version. With expected_version (If-Match), the latest must still be that version (else 412)."""
        for _ in range(_WRITE_ATTEMPTS):
            newest = self._versions.query(tenant.partition_key, sk_prefix=VERSION_PREFIX, newest_first=True,
                                          limit=1)
            current = newest[0]["version"] if newest else 0
            if expected_version is not None and expected_version != current:
                raise PreconditionFailed(
                    f"the canon is at version {current}, not {expected_version}: re-read it and apply your edit "
                    "to the current version",
                    details={"current_version": current, "if_match": expected_version})
            document = {
                "project_id": tenant.project, "version": current + 1, "canon": canon, "provenance": provenance,
                "created_at": self._clock.now().isoformat(), "created_by": created_by, "source": source,
            }
            item = {"pk": tenant.partition_key, "sk": version_key(current + 1), "org": tenant.org} | document
            if self._versions.put(item, only_if_absent=True):
                self._remember(tenant, document)
                return document
            if expected_version is not None:  # someone else wrote version current+1 first
                raise PreconditionFailed(
                    f"the canon changed while you edited it (now version {current + 1}); re-read it and retry",
                    details={"current_version": current + 1, "if_match": expected_version})
            time.sleep(random.uniform(0.005, 0.03))  # noqa: S311 - jitter, not security: spread the retries
        raise ServiceUnavailable("the canon is being written by many requests at once; retry shortly",
                                 headers={"Retry-After": "1"})

    def _remember(self, tenant: Tenant, document: dict[str, Any]) -> None:
        expires_at = int(self._clock.now().timestamp()) + CACHE_TTL_SECONDS
        # A JSON string rather than a nested map: one attribute to decode on the hot path of every render.
        self._cache.put_if_newer({"pk": cache_key(tenant), "version": document["version"],
                                  "document": json.dumps(document, separators=(",", ":")), "expires_at": expires_at})


def _document(item: dict[str, Any]) -> dict[str, Any]:
    return {name: item[name] for name in
            ("project_id", "version", "canon", "provenance", "created_at", "created_by", "source")}


def created_at(document: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(document["created_at"])
