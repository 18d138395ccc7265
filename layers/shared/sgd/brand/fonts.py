"""The project's uploaded fonts: font records in the assets table (sgd.repositories.assets), summarised in one
cache item.

Every render needs the font list (it is part of the render cache key). Reading one summary item in the same
BatchGetItem as the canon and the cache entry keeps a cached replay to a single DynamoDB round trip, instead of
a query over a partition that also holds every rendered asset.
"""

from __future__ import annotations

from sgd.repositories.assets import AssetRecords
from sgd.repositories.caches import FontRef, FontsSummary
from sgd.tenancy import Tenant


class ProjectFonts:
    def __init__(self, assets: AssetRecords, summary: FontsSummary) -> None:
        self._assets = assets
        self._summary = summary

    def fonts(self, tenant: Tenant, *, summary: list[FontRef] | None = None) -> list[FontRef]:
        """The project's fonts. Pass `summary` when it was already read (sgd.repositories.caches.read_render_inputs)."""
        if summary is None:
            summary = self._summary.get(tenant)
        return summary if summary is not None else self.refresh(tenant)

    def refresh(self, tenant: Tenant) -> list[FontRef]:
        """Re-reads the font records and publishes the summary; ingest calls it after writing a font."""
        version = FontsSummary.version_now()  # taken after the caller's own font write, before listing
        fonts = [FontRef(record.family, record.key) for record in self._assets.fonts(tenant)]
        self._summary.publish(tenant, fonts, version=version)
        return fonts
