"""The brand files a render composites and a critique matches against: the canon's logo and the project's fonts.

Assets are content-addressed (their S3 keys carry the asset id, a content hash), so their bytes never change
under a key: a per-container cache keeps them across warm invocations.
"""

from __future__ import annotations

from dataclasses import dataclass

from sgd.adapters.storage import ObjectStorage
from sgd.contracts.shapes import BrandCanon
from sgd.lru import LruCache
from sgd.repositories.assets import AssetRecords
from sgd.repositories.caches import FontRef
from sgd.tenancy import Tenant

BRAND_FILES_MAX_BYTES = 64 * 1024 * 1024
_CONTAINER_CACHE: LruCache[str, bytes] = LruCache(4096, max_weight=BRAND_FILES_MAX_BYTES, weigh=len)


@dataclass(frozen=True, slots=True)
class LogoFile:
    """One uploaded version of the logo: its bytes, and the backgrounds it is made for (the canon's logo_versions)."""

    asset_id: str
    use_on: str  # light, dark or any
    data: bytes


@dataclass(frozen=True, slots=True)
class BrandFiles:
    logo: bytes | None
    fonts: dict[str, bytes]  # family -> TTF/OTF bytes
    notes: tuple[str, ...] = ()
    logo_versions: tuple[LogoFile, ...] = ()


def fonts_fingerprint(fonts: list[FontRef]) -> list[str]:
    """What identifies the project's fonts for the plan cache: family and content-addressed key."""
    return [f"{font.family}={font.key}" for font in fonts]


class BrandAssets:
    def __init__(self, assets: AssetRecords, storage: ObjectStorage,
                 cache: LruCache[str, bytes] | None = None) -> None:
        self._assets = assets
        self._storage = storage
        self._cache = cache if cache is not None else _CONTAINER_CACHE

    def load(self, tenant: Tenant, canon: BrandCanon | None, fonts: list[FontRef]) -> BrandFiles:
        notes: list[str] = []
        font_files: dict[str, bytes] = {}
        for font in fonts:
            data = self._object(font.key)
            if data is None:
                notes.append(f"uploaded font {font.family} is missing from storage; not used")
            else:
                font_files.setdefault(font.family, data)
        logo = self.logo(tenant, canon)
        logo_id = (canon or {}).get("logo_asset_id")
        if logo_id and logo is None:
            notes.append(f"the canon's logo asset {logo_id} was not found; rendered without a logo")
        versions = []
        for version in (canon or {}).get("logo_versions") or []:
            data = self._logo_file(tenant, version["asset_id"])
            if data is None:
                notes.append(f"the canon's logo version {version['asset_id']} was not found; not used")
            else:
                versions.append(LogoFile(version["asset_id"], version["use_on"], data))
        if logo is None and versions and not logo_id:
            logo = versions[0].data  # versions but no primary logo: the first version stands for it
        return BrandFiles(logo, font_files, tuple(notes), tuple(versions))

    def logo(self, tenant: Tenant, canon: BrandCanon | None) -> bytes | None:
        """The canon's logo file, or None (no logo, or its asset is gone or was never admitted)."""
        logo_id = (canon or {}).get("logo_asset_id")
        return self._logo_file(tenant, str(logo_id)) if logo_id else None

    def _logo_file(self, tenant: Tenant, asset_id: str) -> bytes | None:
        record = self._assets.get(tenant, asset_id)
        if record is None or not record.key or not record.admitted:  # never a file still in quarantine
            return None
        return self._object(record.key)

    def _object(self, key: str) -> bytes | None:
        data = self._cache.get(key)
        if data is not None:
            return data
        if self._storage.head(key) is None:
            return None
        data = self._storage.get(key)
        self._cache.put(key, data)
        return data
