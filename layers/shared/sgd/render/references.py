"""References of a render request: asset ids of the same org and project, or https URLs behind the SSRF guard.

Checked at request time (an unknown asset is 404, a refused URL 422), loaded when the pipeline needs the image
(edit and variations use the first reference as imagery).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sgd.adapters.storage import ObjectStorage
from sgd.contracts.common import is_url
from sgd.errors import NotFound, ValidationFailed
from sgd.net.outbound import OutboundPolicy
from sgd.repositories.assets import AssetRecord, AssetRecords
from sgd.tenancy import Tenant

UNUSABLE_STATUSES = ("quarantined", "rejected")


@dataclass(frozen=True, slots=True)
class ReferenceImage:
    source: str
    data: bytes
    content_type: str


class References:
    def __init__(self, assets: AssetRecords, storage: ObjectStorage, outbound: OutboundPolicy) -> None:
        self._assets = assets
        self._storage = storage
        self._outbound = outbound

    def check(self, tenant: Tenant, references: list[str]) -> None:
        """Every reference exists in this tenant (404) and every URL passes the SSRF guard (422)."""
        for index, reference in enumerate(references):
            if is_url(reference):
                self._check_url(index, reference)
            else:
                self._asset(tenant, index, reference)

    def load_image(self, tenant: Tenant, reference: str, index: int = 0) -> ReferenceImage:
        if is_url(reference):
            from sgd.net.outbound import OutboundFailed, OutboundRefused, fetch

            try:
                fetched = fetch(reference, self._outbound)
            except OutboundRefused as refused:
                raise _refused(index, reference, refused) from None
            except OutboundFailed as failed:
                raise ValidationFailed(f"reference {reference} could not be fetched: {failed.reason}",
                                       code="reference_unreachable",
                                       details={"field": f"body.prompts.references.{index}", "reference": reference,
                                                "reason": failed.reason, "status": failed.status}) from None
            data, content_type = _admitted_image(index, reference, fetched.data)
        else:
            record = self._asset(tenant, index, reference)
            data = self._storage.get(record.key)
            content_type = record.content_type or ""
        if not content_type.startswith("image/"):
            raise ValidationFailed(f"reference {reference} is not an image ({content_type or 'unknown type'}); "
                                   "edit and variations need an image reference", code="reference_not_image",
                                   details={"field": f"body.prompts.references.{index}", "reference": reference,
                                            "content_type": content_type})
        return ReferenceImage(reference, data, content_type)

    def _check_url(self, index: int, url: str) -> None:
        from sgd.net.outbound import OutboundFailed, OutboundRefused, check_url

        try:
            check_url(url, self._outbound)
        except OutboundRefused as refused:
            raise _refused(index, url, refused) from None
        except OutboundFailed as failed:  # e.g. a host that does not resolve
            raise ValidationFailed(f"reference {url} could not be reached: {failed.reason}",
                                   code="reference_unreachable",
                                   details={"field": f"body.prompts.references.{index}", "reference": url,
                                            "reason": failed.reason}) from None

    def _asset(self, tenant: Tenant, index: int, asset_id: str) -> AssetRecord:
        record = self._assets.get(tenant, asset_id)
        if record is None or not record.key:
            raise NotFound(f"reference asset {asset_id} not found in project {tenant.project}",
                           details={"field": f"body.prompts.references.{index}", "asset_id": asset_id})
        if record.status in UNUSABLE_STATUSES:
            raise ValidationFailed(f"reference asset {asset_id} is {record.status} and cannot be used",
                                   code="reference_not_usable",
                                   details={"field": f"body.prompts.references.{index}", "asset_id": asset_id,
                                            "status": record.status, "reason": record.reason})
        return record


def _refused(index: int, url: str, refused: Any) -> ValidationFailed:
    return ValidationFailed(f"reference {url} was refused: {refused.reason}", code="reference_refused",
                            details={"field": f"body.prompts.references.{index}", "reference": url,
                                     "code": refused.code, "reason": refused.reason})


def _admitted_image(index: int, url: str, data: bytes) -> tuple[bytes, str]:
    """A fetched reference passes the same admission as an upload (type from bytes, pixel limit read from the
    header before decoding, bombs refused): the design engine decodes it, and an oversized one would exhaust memory."""
    from sgd.ingest.admission import AdmissionRejected, admit

    try:
        admitted = admit(data, max_bytes=len(data) + 1)
    except AdmissionRejected as rejected:
        raise ValidationFailed(f"reference {url} was not accepted: {rejected.reason}", code="reference_not_usable",
                               details={"field": f"body.prompts.references.{index}", "reference": url,
                                        "code": rejected.code, "reason": rejected.reason}) from None
    if admitted.kind not in ("image", "logo"):
        raise ValidationFailed(f"reference {url} is not an image ({admitted.mime}); edit and variations need an "
                               "image reference", code="reference_not_image",
                               details={"field": f"body.prompts.references.{index}", "reference": url,
                                        "content_type": admitted.mime})
    return admitted.data, admitted.mime
