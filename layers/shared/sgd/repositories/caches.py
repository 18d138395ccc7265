"""The cache table (pk only, TTL `expires_at`), which replaces Redis:

    plan#{sha256}                    PlanCacheEntry   a render's plan and, once rendered, its stored assets (24 h)
    fonts#{org}#{project}            the project's fonts [{family, key}], versioned by a ns timestamp (no TTL)
    embed#{org}#{model}#{sha256}     a dense embedding of one text chunk (30 days)
    canon#{org}#{project}            the latest canon version: sgd.repositories.canon
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sgd.adapters.clock import Clock, epoch_seconds
from sgd.adapters.tables import Item, ItemTable
from sgd.contracts.shapes import OutputFormat, RenderPlan
from sgd.repositories.canon import CanonRepository
from sgd.repositories.versioned import only_if_newer
from sgd.tenancy import Tenant

PLAN_TTL_SECONDS = 24 * 3600
EMBED_CACHE_TTL_SECONDS = 30 * 24 * 3600


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class StoredAsset:
    """A rendered asset as stored: what a cached replay answers with, without re-rendering."""

    id: str
    key: str
    width: int
    height: int
    format: OutputFormat
    layout: dict[str, Any]  # sgd.contracts.render.AssetLayout as JSON
    font_substitutions: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    critique: dict[str, Any] | None = None  # sgd.contracts.render.AssetCritiqueSummary as JSON

    def as_cached(self) -> dict[str, Any]:
        return {"id": self.id, "key": self.key, "width": self.width, "height": self.height, "format": self.format,
                "layout": self.layout, "font_substitutions": self.font_substitutions, "notes": self.notes,
                "critique": self.critique}


@dataclass(frozen=True, slots=True)
class CachedRender:
    render_id: str
    assets: list[StoredAsset]
    notes: list[str]
    repairs: list[dict[str, Any]]  # sgd.contracts.render.RepairAttempt as JSON


@dataclass(frozen=True, slots=True)
class PlanCacheEntry:
    plan: RenderPlan  # valid against guardrails/render_plan.json
    plan_audit: dict[str, Any]  # the planner call's audit fields (model_route, cost_usd, calls)
    result: CachedRender | None = None


class PlanCache:
    def __init__(self, table: ItemTable, clock: Clock) -> None:
        self._table = table
        self._clock = clock

    @staticmethod
    def key(material: dict[str, Any]) -> str:
        """The entry's key: a hash of everything that changes what a request renders (sgd.render.cache)."""
        return "plan#" + hashlib.sha256(canonical_json(material).encode()).hexdigest()

    def get(self, key: str) -> PlanCacheEntry | None:
        return self.from_item(self._table.get(key))

    def from_item(self, item: Item | None) -> PlanCacheEntry | None:
        """The entry unless it expired (DynamoDB's TTL deletes lazily, so expiry is checked here too)."""
        if item is None or item.get("expires_at", 0) <= epoch_seconds(self._clock):
            return None
        entry = json.loads(item["entry"])
        result = entry.get("result")
        return PlanCacheEntry(entry["plan"], entry.get("plan_audit") or {}, CachedRender(
            result["render_id"], [StoredAsset(**asset) for asset in result["assets"]], list(result.get("notes") or []),
            list(result.get("repairs") or [])) if result else None)

    def put(self, key: str, entry: PlanCacheEntry) -> None:
        stored: dict[str, Any] = {"plan": entry.plan, "plan_audit": entry.plan_audit}
        if entry.result is not None:
            stored["result"] = {"render_id": entry.result.render_id, "notes": entry.result.notes,
                                "repairs": entry.result.repairs,
                                "assets": [asset.as_cached() for asset in entry.result.assets]}
        # One JSON string, not a nested map: DynamoDB (and moto far more) decodes deep maps item by item, which
        # made reading a cached six-asset layout ~6x slower than the one string.
        self._table.put({"pk": key, "entry": canonical_json(stored),
                         "expires_at": epoch_seconds(self._clock) + PLAN_TTL_SECONDS})


@dataclass(frozen=True, slots=True)
class FontRef:
    family: str
    key: str


class FontsSummary:
    """The project's uploaded fonts as one cache item, so a render reads them in its one BatchGetItem.

    The version is a nanosecond timestamp taken after the writer's own font write and before it lists the fonts:
    the summary with the highest version therefore saw every font written before it, and only_if_newer never
    lets a slower writer replace it with an older list.
    """

    def __init__(self, table: ItemTable) -> None:
        self._table = table

    @staticmethod
    def key(tenant: Tenant) -> tuple[str, None]:
        return f"fonts#{tenant.org}#{tenant.project}", None

    @staticmethod
    def from_item(item: Item | None) -> list[FontRef] | None:
        return [FontRef(str(font["family"]), str(font["key"])) for font in item["fonts"]] if item else None

    def get(self, tenant: Tenant) -> list[FontRef] | None:
        return self.from_item(self._table.get(*self.key(tenant)))

    @staticmethod
    def version_now() -> int:
        return time.time_ns()

    def publish(self, tenant: Tenant, fonts: list[FontRef], *, version: int) -> None:
        self._table.put({"pk": self.key(tenant)[0], "version": version,
                         "fonts": [{"family": font.family, "key": font.key} for font in fonts]},
                        when=only_if_newer(version))


@dataclass(frozen=True, slots=True)
class RenderInputs:
    """What a render reads from the cache table before it plans: each None when not cached."""

    canon_item: Item | None
    fonts: list[FontRef] | None
    plan_item: Item | None


class RenderCacheReads:
    """What a render reads from the cache table before it plans, in one BatchGetItem: the latest canon, the
    project's fonts and (when the caller can guess its key) the plan entry."""

    def __init__(self, table: ItemTable) -> None:
        self._table = table

    def read(self, tenant: Tenant, plan_key: str | None) -> RenderInputs:
        canon_key, fonts_key = CanonRepository.cache_key(tenant), FontsSummary.key(tenant)
        plan = (plan_key, None) if plan_key else None
        found = self._table.get_many([canon_key, fonts_key] + ([plan] if plan else []))
        return RenderInputs(found.get(canon_key), FontsSummary.from_item(found.get(fonts_key)),
                            found.get(plan) if plan else None)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class EmbeddingCache:
    """Dense embeddings by content hash, scoped by org like every other key: one org's cache hits say nothing
    about another org's text."""

    def __init__(self, table: ItemTable, now: Callable[[], float] = time.time) -> None:
        self._table = table
        self._now = now

    @staticmethod
    def _key(org: str, model: str, text: str) -> str:
        return f"embed#{org}#{model}#{content_hash(text)}"

    def get(self, org: str, model: str, text: str) -> list[float] | None:
        item = self._table.get(self._key(org, model, text))
        if item is None or item.get("expires_at", 0) <= self._now():
            return None
        return [float(value) for value in item["vector"]]

    def put(self, org: str, model: str, text: str, vector: list[float]) -> None:
        self._table.put({"pk": self._key(org, model, text), "model": model, "vector": vector,
                         "expires_at": int(self._now()) + EMBED_CACHE_TTL_SECONDS})

