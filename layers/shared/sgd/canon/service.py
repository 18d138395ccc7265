"""The canon service: derive a canon from a project's evidence, read it, list its versions, edit it by hand.

Derivation loads the evidence documents ingest stored in S3 and runs the deterministic derivation
(sgd.canon.derive). The model gateway's canon task runs too: with a provider key it is a model call on compact
evidence, merged into the deterministic canon (disagreements recorded in the provenance); with the offline
local engine it is the registered deterministic extractor (audit route local/extractor). The result must
satisfy guardrails/canon.json; it is stored as a new version through CanonStore (which also refreshes the
latest-version cache).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sgd.adapters.clock import Deadline
from sgd.adapters.storage import ObjectStorage
from sgd.adapters.tables import ItemTable
from sgd.errors import NotFound, ValidationFailed
from sgd.model_gateway.port import GatewayResult, ModelGateway, audit_fields
from sgd.repositories.canon import CanonStore
from sgd.tenancy import Tenant

EVIDENCE_PREFIX = "evidence#"
LOAD_WORKERS = 8
MODEL_TEXT_CHARS = 8_000  # per evidence document sent to a model; the rules sit in the first pages
MODEL_EVIDENCE_FIELDS = ("evidence_id", "asset_id", "kind", "source", "fonts", "palette", "logo", "font",
                         "statements")
CANON_FIELDS = ("palette_hex", "forbidden_hex", "fonts", "voice", "logo_safe_zone_pct", "logo_asset_id")


class CanonIncomplete(ValidationFailed):
    code = "canon_incomplete"


def local_canon_extractor(evidence: list[dict[str, Any]]) -> dict[str, Any]:
    """The local engine's canon hook, importing the derivation on first use (not at cold start)."""
    from sgd.canon.derive import canon_extractor

    return canon_extractor(evidence)


def compact_evidence(evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a model sees: text excerpts, the colour specifications (incidental colours dropped), fonts, palette."""
    compact = []
    for document in evidence:
        item = {name: document.get(name) for name in MODEL_EVIDENCE_FIELDS if document.get(name)}
        item["text"] = (document.get("text") or "")[:MODEL_TEXT_CHARS]
        item["colors"] = [{key: color.get(key) for key in ("hex", "name", "role", "context", "notations")}
                          for color in document.get("colors", []) if color.get("role") != "incidental"]
        compact.append(item)
    return compact


@dataclass(frozen=True)
class Derivation:
    document: dict[str, Any]
    audit: dict[str, Any]


class CanonService:
    def __init__(self, store: CanonStore, assets: ItemTable, storage: ObjectStorage,
                 gateway: Callable[[], ModelGateway]) -> None:
        self.store = store
        self._assets = assets
        self._storage = storage
        self._gateway = gateway

    # reading -------------------------------------------------------------------------------------------------
    def latest(self, tenant: Tenant) -> dict[str, Any]:
        document = self.store.latest(tenant)
        if document is None:
            raise NotFound(f"project {tenant.project!r} has no canon yet: POST /canon/derive after ingesting "
                           "its brand guidelines, or PUT one")
        return document

    def versions(self, tenant: Tenant) -> list[dict[str, Any]]:
        versions = self.store.versions(tenant)
        if not versions:
            raise NotFound(f"project {tenant.project!r} has no canon versions yet")
        return versions

    # deriving ------------------------------------------------------------------------------------------------
    def load_evidence(self, tenant: Tenant, evidence_ids: list[str]) -> list[dict[str, Any]]:
        """The evidence documents (all of the project's when evidence_ids is empty), in a stable order."""
        pk = tenant.partition_key
        if evidence_ids:
            wanted = list(dict.fromkeys(evidence_ids))
            records = {evidence_id: self._assets.get(pk, f"{EVIDENCE_PREFIX}{evidence_id}") for evidence_id in wanted}
            unknown = [evidence_id for evidence_id, record in records.items() if record is None]
            if unknown:
                raise NotFound(f"unknown evidence in project {tenant.project!r}: {', '.join(unknown)}",
                               details={"unknown_evidence_ids": unknown})
            items = [record for record in records.values() if record is not None]
        else:
            items = sorted(self._assets.query(pk, sk_prefix=EVIDENCE_PREFIX), key=lambda item: item["created_at"])
            if not items:
                raise ValidationFailed(f"project {tenant.project!r} has no evidence yet: ingest its brand "
                                       "guidelines, logo or fonts first (POST /uploads or POST /ingest)",
                                       code="no_evidence")
        def load(item: dict[str, Any]) -> dict[str, Any]:
            document = json.loads(self._storage.get(item["evidence_key"]))
            return document | {"evidence_id": item["evidence_id"], "asset_id": item["asset_id"]}

        if len(items) == 1:
            return [load(items[0])]
        with ThreadPoolExecutor(max_workers=min(len(items), LOAD_WORKERS)) as pool:  # S3 round trips overlap
            return list(pool.map(load, items))

    async def derive(self, tenant: Tenant, evidence_ids: list[str], *, created_by: str,
                     deadline: Deadline) -> Derivation:
        from sgd.canon.derive import MISSING_HINTS, derive_canon, merge_model_canon

        evidence = self.load_evidence(tenant, evidence_ids)
        derived = derive_canon(evidence)
        gateway = self._gateway()
        results: list[GatewayResult] = []
        if gateway.engine == "local":
            self._require_complete(derived, MISSING_HINTS)
            # The local engine's canon task is the same deterministic extractor: it serves as the audited call.
            results.append(await gateway.extract_canon(tenant=tenant, evidence=evidence, deadline=deadline))
        else:
            result = await gateway.extract_canon(tenant=tenant, evidence=compact_evidence(evidence),
                                                 deadline=deadline)
            results.append(result)
            model = result.model_route[0] if result.model_route else "model"
            derived = merge_model_canon(derived, result.output if isinstance(result.output, dict) else {},
                                        model=model)
            self._require_complete(derived, MISSING_HINTS)
        canon = validated_canon(derived.canon)
        document = self.store.create(tenant, canon, provenance=derived.provenance, source="derived",
                                     created_by=created_by)
        return Derivation(document, audit_fields(*results) | {"notes": derived.notes})

    @staticmethod
    def _require_complete(derived: Any, hints: dict[str, str]) -> None:
        if derived.missing:
            upload = [hints.get(name, name) for name in derived.missing]
            raise CanonIncomplete(
                "the evidence does not support a complete brand canon (missing: "
                f"{', '.join(derived.missing)}): upload {'; '.join(upload)}, or PUT the canon by hand",
                details={"missing": derived.missing, "upload": upload, "partial": derived.canon,
                         "notes": derived.notes})

    # editing -------------------------------------------------------------------------------------------------
    def _require_usable_logo(self, tenant: Tenant, asset_id: str | None) -> None:
        """A logo must be an admitted image of this project: never a rejected file still in quarantine."""
        if not asset_id:
            return
        item = self._assets.get(tenant.partition_key, f"asset#{asset_id}")
        if item is None:
            raise NotFound(f"logo asset {asset_id} not found in project {tenant.project}",
                           details={"field": "body.logo_asset_id", "asset_id": asset_id})
        if item.get("status") != "admitted" or item.get("kind") not in ("logo", "image"):
            raise ValidationFailed(f"asset {asset_id} cannot be the logo: it is a {item.get('status')} "
                                   f"{item.get('kind') or 'file'}; upload the logo as a PNG with transparency",
                                   details={"field": "body.logo_asset_id", "asset_id": asset_id,
                                            "status": item.get("status"), "kind": item.get("kind")})


    def edit(self, tenant: Tenant, canon: dict[str, Any], *, created_by: str,
             expected_version: int | None) -> dict[str, Any]:
        """A manual edit: a new version; fields that changed are attributed to the editor, the others keep the
        provenance they had."""
        canon = validated_canon(canon)
        self._require_usable_logo(tenant, canon.get("logo_asset_id"))
        previous = self.store.latest(tenant)
        old_canon = previous["canon"] if previous else {}
        old_provenance = previous["provenance"] if previous else []
        changed = {name for name in CANON_FIELDS if canon.get(name) != old_canon.get(name)}
        provenance = [entry for entry in old_provenance if entry["field"].split(".")[0] not in changed]
        provenance += [{"field": name, "value": json.dumps(canon.get(name), ensure_ascii=False), "evidence_ids": [],
                        "source": "manual", "note": f"edited by {created_by or 'an API caller'}"}
                       for name in CANON_FIELDS if name in changed]
        return self.store.create(tenant, canon, provenance=provenance, source="manual", created_by=created_by,
                                 expected_version=expected_version)


def validated_canon(canon: dict[str, Any]) -> dict[str, Any]:
    """The canon as stored: guardrails/canon.json holds, and no colour is both in the palette and forbidden."""
    from sgd.guardrails import GuardrailsError, contract_errors

    errors = contract_errors("canon.json", canon)
    if errors:
        raise GuardrailsError("the canon does not satisfy guardrails/canon.json", details={"errors": errors})
    palette = {value.upper() for value in canon["palette_hex"]}
    clashes = sorted(value for value in canon.get("forbidden_hex", []) if value.upper() in palette)
    if clashes:
        raise ValidationFailed(f"{', '.join(clashes)} cannot be both in the palette and forbidden: remove it from "
                               "one of them", code="forbidden_in_palette", details={"colors": clashes})
    return canon
