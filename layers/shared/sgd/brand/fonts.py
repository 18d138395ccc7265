"""The project's uploaded fonts: `font#` items in the assets table, summarised in one cache-table item.

Every render needs the font list (it is part of the render cache key). Reading one summary item in the same
BatchGetItem as the canon and the cache entry keeps a cached replay to a single DynamoDB round trip, instead of
a query over a partition that also holds every rendered asset.

The summary's version is a nanosecond timestamp taken after the writer's own font write and before it queries:
the summary with the highest version therefore saw every font written before it, and put_if_newer never lets a
slower writer replace it with an older list.
"""

from __future__ import annotations

import time
from typing import Any

from sgd.adapters.tables import ItemTable
from sgd.tenancy import Tenant

FONT_PREFIX = "font#"
_UNREAD: Any = object()


def summary_key(tenant: Tenant) -> str:
    return f"fonts#{tenant.org}#{tenant.project}"


def family_key(family: str) -> str:
    """The font# sort-key suffix of a family: lower case, spaces removed ("Open Sans" -> "opensans")."""
    return "".join(family.lower().split())


class ProjectFonts:
    def __init__(self, assets: ItemTable, cache: ItemTable) -> None:
        self._assets = assets
        self._cache = cache

    def items(self, tenant: Tenant, *, summary: dict[str, Any] | None = _UNREAD) -> list[dict[str, str]]:
        """[{family, key}] of the project's fonts. Pass `summary` when it was already read (None: not found)."""
        if summary is _UNREAD:
            summary = self._cache.get(summary_key(tenant))
        if summary is not None:
            return list(summary["fonts"])
        return self.refresh(tenant)

    def refresh(self, tenant: Tenant) -> list[dict[str, str]]:
        """Re-reads the font# items and publishes the summary; ingest calls it after writing a font."""
        version = time.time_ns()
        fonts = [{"family": str(item["family"]), "key": str(item["key"])}
                 for item in self._assets.query(tenant.partition_key, sk_prefix=FONT_PREFIX)
                 if item.get("family") and item.get("key")]
        self._cache.put_if_newer({"pk": summary_key(tenant), "version": version, "fonts": fonts})
        return fonts
