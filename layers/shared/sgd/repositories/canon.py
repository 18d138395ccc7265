"""The versioned canon: one item per version in the canon table, the latest cached in the cache table.

    canon table   pk tenant, sk version#{n:08d}   one version: its document as one JSON string, and its summary
                                                  (version, created_at, created_by, source) as attributes
    cache table   pk canon#{org}#{project}        the latest version's document as one JSON string, its version
                                                  (1 h TTL): what renders read in one batch with other cache items

Versions are append-only. A new version is a conditional put of `version#{n}`, so two concurrent writers can
never both create version n; an edit that names the version it started from (If-Match) gets 412 when another
version was written meanwhile. The cache is written with "only if newer", so a slow reader can never put an
older version back after a writer moved it forward.

A read of the latest version on its own (GET /canon, an edit) is one newest-first query of the versions, found
or not; the cache serves readers that fetch it in a batch anyway. A document is stored as a JSON string rather
than a nested map because decoding a map of a canon with its provenance costs ~5x the call itself. Versions
written before that (a nested map per field) still read.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from dataclasses import dataclass
from typing import Any, Literal

from sgd.adapters.clock import Clock
from sgd.adapters.tables import Item, ItemTable, absent
from sgd.contracts.shapes import BrandCanon
from sgd.errors import PreconditionFailed, ServiceUnavailable
from sgd.repositories.records import from_item, to_item
from sgd.repositories.versioned import only_if_newer
from sgd.tenancy import Tenant

VERSION_PREFIX = "version#"
CACHE_TTL_SECONDS = 3600
_WRITE_ATTEMPTS = 10  # concurrent writers each lose at most once per winner; then 503 with Retry-After


@dataclass(frozen=True, slots=True)
class CanonVersion:
    """One version of a project's canon (see sgd.contracts.canon.CanonDocument, its shape in replies)."""

    project_id: str
    version: int
    canon: BrandCanon  # valid against guardrails/canon.json
    provenance: list[dict[str, Any]]
    created_at: str
    created_by: str
    source: Literal["derived", "manual"]

    def as_document(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class CanonSummary:
    version: int
    created_at: str
    created_by: str
    source: Literal["derived", "manual"]


def version_key(version: int) -> str:
    return f"{VERSION_PREFIX}{version:08d}"


@dataclass(frozen=True, slots=True)
class VersionPrecondition:
    """What a write's If-Match requires of the latest version: one of `versions`, or (`any_existing`, If-Match: *)
    that a version exists at all."""

    versions: frozenset[int] = frozenset()
    any_existing: bool = False

    def holds(self, current: int) -> bool:
        return current > 0 if self.any_existing else current in self.versions

    def describe(self) -> str:
        if self.any_existing:
            return "*"
        return ", ".join(f'"{version}"' for version in sorted(self.versions)) or "(no strong version)"


class CanonRepository:
    def __init__(self, versions: ItemTable, cache: ItemTable, clock: Clock) -> None:
        self._versions = versions
        self._cache = cache
        self._clock = clock

    @staticmethod
    def cache_key(tenant: Tenant) -> tuple[str, None]:
        """The latest version's cache item, for callers that read it in one batch with other cache items."""
        return f"canon#{tenant.org}#{tenant.project}", None

    def from_cache_item(self, item: Item | None) -> CanonVersion | None:
        """The cached latest version, unless missing or expired (DynamoDB's TTL deletes lazily)."""
        if item is None or item.get("expires_at", 0) <= self._clock.now().timestamp():
            return None
        return _version_of(item)

    def latest(self, tenant: Tenant, *, cached: Item | None = None, cache_read: bool = False) -> CanonVersion | None:
        """The newest version, or None before the first: one query of the versions. Pass the cache item as
        `cached` with cache_read=True when it was already read in a batch with others (None: it was not found);
        on a miss the version read is cached for the next batch."""
        if not cache_read:
            return self._newest(tenant)
        document = self.from_cache_item(cached)
        if document is not None:
            return document
        newest = self._newest(tenant)
        if newest is not None:
            self._remember(tenant, newest)
        return newest

    def _newest(self, tenant: Tenant) -> CanonVersion | None:
        items = self._versions.query(tenant.partition_key, sk_prefix=VERSION_PREFIX, newest_first=True, limit=1)
        return _version_of(items[0]) if items else None

    def version(self, tenant: Tenant, version: int) -> CanonVersion | None:
        item = self._versions.get(tenant.partition_key, version_key(version))
        return _version_of(item) if item else None

    def versions(self, tenant: Tenant) -> list[CanonSummary]:
        """Every version's summary, newest first."""
        items = self._versions.query(tenant.partition_key, sk_prefix=VERSION_PREFIX, newest_first=True)
        return [from_item(CanonSummary, item) for item in items]

    def create(self, tenant: Tenant, canon: BrandCanon, *, provenance: list[dict[str, Any]],
               source: Literal["derived", "manual"], created_by: str,
               expected_version: int | VersionPrecondition | None = None) -> CanonVersion:
        """Appends a version. With expected_version (If-Match), the latest must still be that version, or one of
        the versions of a VersionPrecondition (else 412)."""
        expected = VersionPrecondition(frozenset({expected_version})) if isinstance(expected_version, int) \
            else expected_version
        for _ in range(_WRITE_ATTEMPTS):
            newest = self._newest(tenant)
            current = newest.version if newest else 0
            if expected is not None and not expected.holds(current):
                raise PreconditionFailed(
                    f"the canon is at version {current}, not {expected.describe()}: re-read it and apply your edit "
                    "to the current version",
                    details={"current_version": current, "if_match": expected.describe()})
            document = CanonVersion(project_id=tenant.project, version=current + 1, canon=canon,
                                    provenance=provenance, created_at=self._clock.now().isoformat(),
                                    created_by=created_by, source=source)
            item = _version_item(document) | {"pk": tenant.partition_key, "sk": version_key(current + 1),
                                              "org": tenant.org}
            if self._versions.put(item, when=absent("pk")):
                self._remember(tenant, document)
                return document
            if expected is not None and not expected.any_existing:  # someone else wrote version current+1 first
                raise PreconditionFailed(
                    f"the canon changed while you edited it (now version {current + 1}); re-read it and retry",
                    details={"current_version": current + 1, "if_match": expected.describe()})
            time.sleep(random.uniform(0.005, 0.03))  # noqa: S311 - jitter, not security: spread the retries
        raise ServiceUnavailable("the canon is being written by many requests at once; retry shortly",
                                 headers={"Retry-After": "1"})

    def _remember(self, tenant: Tenant, document: CanonVersion) -> None:
        now = int(self._clock.now().timestamp())
        item = {"pk": self.cache_key(tenant)[0], "version": document.version, "expires_at": now + CACHE_TTL_SECONDS,
                "document": _document_json(document)}
        self._cache.put(item, when=only_if_newer(document.version, now=now))


def _document_json(document: CanonVersion) -> str:
    return json.dumps(document.as_document(), separators=(",", ":"))


def _version_item(document: CanonVersion) -> Item:
    """A version's item (without its key): the summary's attributes, and the whole document as one string."""
    summary = CanonSummary(version=document.version, created_at=document.created_at,
                           created_by=document.created_by, source=document.source)
    return to_item(summary) | {"document": _document_json(document)}


def _version_of(item: Item) -> CanonVersion:
    if "document" in item:
        return CanonVersion(**json.loads(item["document"]))
    return from_item(CanonVersion, item)  # written before documents were strings: one attribute per field
