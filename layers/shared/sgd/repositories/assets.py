"""The project's files and what was read from them, in the assets table under the tenant's partition:

    asset#{asset_id}        AssetRecord     a stored file (upload, fetched URL or render) and its admission status
    imagery#{asset_id}      ImageryRecord   an admitted image whose purpose is brand imagery (renders draw on it)
    evidence#{evidence_id}  EvidenceRecord  one asset's extraction summary (the full JSON is in S3)
    font#{family_key}       FontRecord      an uploaded font the design engine can use

The upload ledger (upload#) shares the table: sgd.repositories.uploads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sgd.adapters.tables import ItemTable, absent
from sgd.repositories.records import from_item, to_item
from sgd.repositories.uploads import is_upload_id, upload_item_key
from sgd.tenancy import Tenant

ASSET_PREFIX = "asset#"
EVIDENCE_PREFIX = "evidence#"
FONT_PREFIX = "font#"
IMAGERY_PREFIX = "imagery#"

AssetStatus = Literal["quarantined", "admitted", "rejected"]


@dataclass(frozen=True, slots=True)
class AssetRecord:
    org: str
    project: str
    asset_id: str
    key: str  # where the bytes are: quarantine/ until admitted, then assets/ (renders: org/.../renders/)
    status: AssetStatus
    created_at: str
    kind: str | None = None  # pdf, image, logo, font, text, render
    source: str | None = None  # the file name or URL it came from
    filename: str | None = None
    size: int | None = None
    sha256: str | None = None
    content_type: str | None = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    pages: int | None = None
    evidence_id: str | None = None
    upload_key: str | None = None  # the uploads/ key it came from
    etag: str | None = None  # an upload rejected unread: what S3 reported
    code: str | None = None  # the rejection code
    reason: str | None = None
    admitted_at: str | None = None
    rejected_at: str | None = None
    purpose: str | None = None  # guideline, logo, font, imagery or example (sgd.contracts.ingest.AssetPurpose)
    render_id: str | None = None
    layout: dict[str, Any] | None = None  # renders: sgd.contracts.render.AssetLayout as JSON
    critique: dict[str, Any] | None = None  # renders: sgd.contracts.render.AssetCritiqueSummary as JSON

    @property
    def tenant(self) -> Tenant:
        return Tenant(self.org, self.project)

    @property
    def admitted(self) -> bool:
        return self.status == "admitted"


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    org: str
    project: str
    evidence_id: str
    asset_id: str
    kind: str
    source: str
    evidence_key: str
    created_at: str
    points: int = 0
    embedding_model: str | None = None
    colors: tuple[str, ...] | list[str] = ()
    fonts: tuple[str, ...] | list[str] = ()
    palette: tuple[str, ...] | list[str] = ()
    logo: dict[str, Any] | None = None
    font_family: str | None = None


@dataclass(frozen=True, slots=True)
class FontRecord:
    org: str
    project: str
    family: str
    asset_id: str
    key: str  # a TTF/OTF in S3
    created_at: str
    style: str | None = None


@dataclass(frozen=True, slots=True)
class ImageryRecord:
    org: str
    project: str
    asset_id: str
    key: str  # the image in S3
    created_at: str
    width: int | None = None
    height: int | None = None


def family_key(family: str) -> str:
    """The font# sort-key suffix of a family: lower case, spaces removed ("Open Sans" -> "opensans")."""
    return "".join(family.lower().split())


class AssetRecords:
    def __init__(self, table: ItemTable) -> None:
        self._table = table

    # -- assets ---------------------------------------------------------------------------------------------------
    def get(self, tenant: Tenant, asset_id: str) -> AssetRecord | None:
        """An asset's record by its id, or by the upload id it was uploaded under (once the file was read)."""
        return self.get_many(tenant, [asset_id]).get(asset_id)

    def asset_ids(self, tenant: Tenant, ids: Sequence[str]) -> dict[str, str]:
        """Each id as an asset id: an asset id stays, an upload id (up-...) becomes the asset its file became, and
        an upload whose file was not read yet (or that does not exist) is left out."""
        uploads = [value for value in ids if is_upload_id(value)]
        entries = self._table.get_many([upload_item_key(tenant, upload_id) for upload_id in uploads]) \
            if uploads else {}
        resolved: dict[str, str] = {}
        for value in ids:
            if not is_upload_id(value):
                resolved[value] = value
                continue
            asset_id = (entries.get(upload_item_key(tenant, value)) or {}).get("asset_id")
            if asset_id:
                resolved[value] = str(asset_id)
        return resolved

    def get_many(self, tenant: Tenant, asset_ids: Sequence[str]) -> dict[str, AssetRecord]:
        """The records found among asset_ids (asset ids or upload ids; two BatchGetItems at most), by the id asked
        for; unknown ids are left out."""
        resolved = self.asset_ids(tenant, asset_ids)
        wanted = list(dict.fromkeys(resolved.values()))
        found = self._table.get_many([(tenant.partition_key, f"{ASSET_PREFIX}{asset_id}") for asset_id in wanted]) \
            if wanted else {}
        records = {record.asset_id: record for record in (self._asset(tenant, item) for item in found.values())}
        return {asked: records[asset_id] for asked, asset_id in resolved.items() if asset_id in records}

    def add(self, record: AssetRecord) -> bool:
        """Writes a new asset's first record; False when the asset already has one (the same bytes again)."""
        return self._table.put(self._item(record), when=absent("pk"))

    def save(self, record: AssetRecord) -> None:
        """Writes the asset's record as it is now (admitted, rejected, or a render)."""
        self._table.put(self._item(record))

    @staticmethod
    def _asset(tenant: Tenant, item: dict[str, Any]) -> AssetRecord:
        return from_item(AssetRecord, item, org=tenant.org, project=tenant.project)  # the partition names them

    @staticmethod
    def _item(record: AssetRecord) -> dict[str, Any]:
        return to_item(record, pk=record.tenant.partition_key, sk=f"{ASSET_PREFIX}{record.asset_id}")

    # -- evidence -------------------------------------------------------------------------------------------------
    def add_evidence(self, record: EvidenceRecord) -> bool:
        return self._table.put(to_item(record, pk=Tenant(record.org, record.project).partition_key,
                                       sk=f"{EVIDENCE_PREFIX}{record.evidence_id}"), when=absent("pk"))

    def evidence(self, tenant: Tenant, evidence_id: str) -> EvidenceRecord | None:
        item = self._table.get(tenant.partition_key, f"{EVIDENCE_PREFIX}{evidence_id}")
        return from_item(EvidenceRecord, item, org=tenant.org, project=tenant.project) if item is not None else None

    def all_evidence(self, tenant: Tenant) -> list[EvidenceRecord]:
        """Every evidence record of the project, oldest first."""
        items = self._table.query(tenant.partition_key, sk_prefix=EVIDENCE_PREFIX)
        records = (from_item(EvidenceRecord, item, org=tenant.org, project=tenant.project) for item in items)
        return sorted(records, key=lambda record: record.created_at)

    # -- brand imagery --------------------------------------------------------------------------------------------
    def add_imagery(self, record: AssetRecord) -> None:
        self._table.put(to_item(ImageryRecord(record.org, record.project, record.asset_id, record.key,
                                              record.created_at, record.width, record.height),
                                pk=record.tenant.partition_key, sk=f"{IMAGERY_PREFIX}{record.asset_id}"))

    def imagery(self, tenant: Tenant) -> list[ImageryRecord]:
        """The project's brand imagery, oldest first."""
        items = self._table.query(tenant.partition_key, sk_prefix=IMAGERY_PREFIX)
        records = (from_item(ImageryRecord, item, org=tenant.org, project=tenant.project) for item in items)
        return sorted(records, key=lambda record: (record.created_at, record.asset_id))

    # -- fonts ----------------------------------------------------------------------------------------------------
    def save_font(self, record: FontRecord) -> None:
        self._table.put(to_item(record, pk=Tenant(record.org, record.project).partition_key,
                                sk=f"{FONT_PREFIX}{family_key(record.family)}"))

    def fonts(self, tenant: Tenant) -> list[FontRecord]:
        items = self._table.query(tenant.partition_key, sk_prefix=FONT_PREFIX)
        return [from_item(FontRecord, item, org=tenant.org, project=tenant.project) for item in items
                if item.get("family") and item.get("key")]
