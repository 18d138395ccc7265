"""The canon service: derive a canon from a project's evidence, read it, list its versions, edit it by hand.

Derivation loads the evidence documents ingest stored in S3 and runs the deterministic derivation
(sgd.canon.derive). The model gateway's canon task runs too: with a provider key it is a model call on compact
evidence, merged into the deterministic canon (disagreements recorded in the provenance); with the offline
local engine it is the registered deterministic extractor (audit route local/extractor). The result must
satisfy guardrails/canon.json; it is stored as a new version through CanonRepository (which also refreshes the
latest-version cache).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sgd.adapters.clock import Deadline
from sgd.adapters.storage import ObjectStorage
from sgd.contracts.shapes import BrandCanon, UsageRuleFields
from sgd.errors import NotFound, PreconditionFailed, ValidationFailed
from sgd.model_gateway.local import LocalEngine
from sgd.model_gateway.port import GatewayResult, ModelGateway, audit_fields
from sgd.repositories.assets import AssetRecords, EvidenceRecord
from sgd.repositories.canon import CanonRepository, CanonSummary, CanonVersion, VersionPrecondition
from sgd.tenancy import Tenant

if TYPE_CHECKING:  # the derivation loads on the first POST /canon/derive, not at cold start
    from sgd.canon.derive import DerivedCanon

LOAD_WORKERS = 8
MODEL_TEXT_CHARS = 8_000  # per evidence document sent to a model; the rules sit in the first pages
MODEL_EVIDENCE_FIELDS = ("evidence_id", "asset_id", "kind", "source", "fonts", "palette", "logo", "font",
                         "statements")
CANON_FIELDS = ("palette_hex", "forbidden_hex", "fonts", "voice", "logo_safe_zone_pct", "logo_asset_id",
                "logo_versions", "color_roles", "usage_rules", "personality", "logo_min_width_px", "logo_plate")


class CanonIncomplete(ValidationFailed):
    code = "canon_incomplete"


def local_canon_extractor(evidence: list[dict[str, Any]]) -> BrandCanon:
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


_ENTITY_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)|\s*([0-9]{1,12})\s*(?:,|$)')


def parse_if_match(value: str | None) -> VersionPrecondition | None:
    """If-Match as RFC 9110 (13.1.1) reads it, for a write: None when absent; `*` matches any current version (412
    when there is none); otherwise a list of entity tags, matching when any member strongly matches the current
    version ('"3"'; a bare 3 is read as "3" too). A weak tag (W/"3") never matches a strong comparison, so a list
    of weak tags only gets 412. A member that is not a version (or malformed) is 412 with what to send."""
    if value is None:
        return None
    if value.strip() == "*":
        return VersionPrecondition(any_existing=True)
    versions: set[int] = set()
    position, text = 0, value.strip()
    while position < len(text):
        found = _ENTITY_TAG.match(text, position)
        if found is None or found.end() == position:
            raise PreconditionFailed("If-Match must carry the canon version you edited as an entity tag, e.g. "
                                     "If-Match: \"3\" (or a list: \"3\", \"4\"; or *)", details={"if_match": value})
        weak, tag, bare = found.group(1), found.group(2), found.group(3)
        if bare is not None:
            versions.add(int(bare))
        elif not re.fullmatch(r"[0-9]{1,12}", tag):  # ASCII digits only ('³' is a digit to str.isdigit), bounded
            raise PreconditionFailed(f"If-Match entity tag {tag!r} is not a canon version; send the ETag of "
                                     "GET /canon/{project_id}, e.g. If-Match: \"3\"", details={"if_match": value})
        elif not weak:
            versions.add(int(tag))
        position = found.end()
    return VersionPrecondition(frozenset(versions))


@dataclass(frozen=True)
class Derivation:
    document: CanonVersion
    audit: dict[str, Any]


class CanonService:
    def __init__(self, store: CanonRepository, assets: AssetRecords, storage: ObjectStorage,
                 gateway: Callable[[], ModelGateway]) -> None:
        self.store = store
        self._assets = assets
        self._storage = storage
        self._gateway = gateway

    # reading -------------------------------------------------------------------------------------------------
    def latest(self, tenant: Tenant) -> CanonVersion:
        document = self.store.latest(tenant)
        if document is None:
            raise NotFound(f"project {tenant.project!r} has no canon yet: POST /canon/derive after ingesting "
                           "its brand guidelines, or PUT one")
        return document

    def versions(self, tenant: Tenant) -> list[CanonSummary]:
        versions = self.store.versions(tenant)
        if not versions:
            raise NotFound(f"project {tenant.project!r} has no canon versions yet")
        return versions

    # deriving ------------------------------------------------------------------------------------------------
    def load_evidence(self, tenant: Tenant, evidence_ids: list[str]) -> list[dict[str, Any]]:
        """The evidence documents (all of the project's when evidence_ids is empty), in a stable order."""
        if evidence_ids:
            wanted = list(dict.fromkeys(evidence_ids))
            records = {evidence_id: self._assets.evidence(tenant, evidence_id) for evidence_id in wanted}
            unknown = [evidence_id for evidence_id, record in records.items() if record is None]
            if unknown:
                raise NotFound(f"unknown evidence in project {tenant.project!r}: {', '.join(unknown)}",
                               details={"unknown_evidence_ids": unknown})
            items = [record for record in records.values() if record is not None]
        else:
            items = self._assets.all_evidence(tenant)
            if not items:
                raise ValidationFailed(f"project {tenant.project!r} has no evidence yet: ingest its brand "
                                       "guidelines, logo or fonts first (POST /uploads or POST /ingest)",
                                       code="no_evidence")

        def load(record: EvidenceRecord) -> dict[str, Any]:
            document = json.loads(self._storage.get(record.evidence_key))
            return document | {"evidence_id": record.evidence_id, "asset_id": record.asset_id}

        if len(items) == 1:
            return [load(items[0])]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(len(items), LOAD_WORKERS)) as pool:  # S3 round trips overlap
            return list(pool.map(load, items))

    async def derive(self, tenant: Tenant, evidence_ids: list[str], *, created_by: str,
                     deadline: Deadline, use_model: bool = True) -> Derivation:
        """A new canon version from the evidence. use_model=False derives from the documents alone on purpose
        (POST /canon/derive {"model": "off"}): no model call, even with a provider key; the audit says so."""
        from sgd.canon.derive import MISSING_HINTS, derive_canon, merge_model_canon

        evidence = self.load_evidence(tenant, evidence_ids)
        derived = derive_canon(evidence)
        gateway = self._gateway() if use_model else LocalEngine(canon_extractor=local_canon_extractor)
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
        notes = list(derived.notes)
        if not use_model:
            notes.append("derived from the documents alone, as asked (model: off): no model call was made")
        derived_from = "documents_and_model" if gateway.engine != "local" else "documents"
        return Derivation(document, audit_fields(*results) | {"notes": notes, "derived_from": derived_from})

    @staticmethod
    def _require_complete(derived: DerivedCanon, hints: dict[str, str]) -> None:
        if derived.missing:
            upload = [hints.get(name, name) for name in derived.missing]
            raise CanonIncomplete(
                "the evidence does not support a complete brand canon (missing: "
                f"{', '.join(derived.missing)}): upload {'; '.join(upload)}, or PUT the canon by hand",
                details={"missing": derived.missing, "upload": upload, "partial": derived.canon,
                         "notes": derived.notes})

    # editing -------------------------------------------------------------------------------------------------
    def _require_usable_logo(self, tenant: Tenant, asset_id: str | None,
                             field_name: str = "body.logo_asset_id") -> str | None:
        """A logo must be an admitted image of this project: never a rejected file still in quarantine. An upload
        id names the asset its file became; returns the asset id to store."""
        if not asset_id:
            return None
        record = self._assets.get(tenant, asset_id)
        if record is None:
            raise NotFound(f"logo asset {asset_id} not found in project {tenant.project}",
                           details={"field": field_name, "asset_id": asset_id})
        if not record.admitted or record.kind not in ("logo", "image"):
            raise ValidationFailed(f"asset {asset_id} cannot be the logo: it is a {record.status} "
                                   f"{record.kind or 'file'}; upload the logo as a PNG with transparency",
                                   details={"field": field_name, "asset_id": asset_id,
                                            "status": record.status, "kind": record.kind})
        return record.asset_id


    def edit(self, tenant: Tenant, canon: BrandCanon, *, created_by: str,
             expected_version: VersionPrecondition | int | None) -> CanonVersion:
        """A manual edit: a new version; fields that changed are attributed to the editor, the others keep the
        provenance they had."""
        canon = validated_canon(canon)
        logo_id = self._require_usable_logo(tenant, canon.get("logo_asset_id"))
        if logo_id is not None:
            canon["logo_asset_id"] = logo_id
        versions = canon.get("logo_versions") or []
        for index, version in enumerate(versions):
            version["asset_id"] = str(self._require_usable_logo(tenant, version["asset_id"],
                                                                f"body.logo_versions.{index}.asset_id"))
        ids = [version["asset_id"] for version in versions]
        repeated = sorted({asset_id for asset_id in ids if ids.count(asset_id) > 1})
        if repeated:
            raise ValidationFailed(f"logo version {', '.join(repeated)} is listed more than once: list each "
                                   "uploaded version once", code="duplicate_logo_version",
                                   details={"field": "body.logo_versions", "asset_ids": repeated})
        previous = self.store.latest(tenant)
        old_canon = previous.canon if previous else {}
        old_provenance = previous.provenance if previous else []
        changed = {name for name in CANON_FIELDS if _stated(canon.get(name)) != _stated(old_canon.get(name))}
        provenance = [entry for entry in old_provenance if entry["field"].split(".")[0] not in changed]
        provenance += [{"field": name, "value": json.dumps(canon.get(name), ensure_ascii=False), "evidence_ids": [],
                        "source": "manual", "note": f"edited by {created_by or 'an API caller'}"}
                       for name in CANON_FIELDS if name in changed]
        return self.store.create(tenant, canon, provenance=provenance, source="manual", created_by=created_by,
                                 expected_version=expected_version)


def _stated(value: object) -> object:
    """A field's value for telling an edit apart: absent, None, False, [] and {} all mean "not stated"."""
    return None if value is None or value is False or value == [] or value == {} else value


def validated_canon(canon: BrandCanon) -> BrandCanon:
    """The canon as stored: guardrails/canon.json holds, and no colour is both in the palette and forbidden."""
    from sgd.guardrails import GuardrailsError, contract_errors

    errors = contract_errors("canon.json", canon)
    if errors:
        raise GuardrailsError("the canon does not satisfy guardrails/canon.json", details={"errors": errors})
    palette = {value.upper() for value in canon.get("palette_hex", [])}
    clashes = sorted(value for value in canon.get("forbidden_hex", []) if value.upper() in palette)
    if clashes:
        raise ValidationFailed(f"{', '.join(clashes)} cannot be both in the palette and forbidden: remove it from "
                               "one of them", code="forbidden_in_palette", details={"colors": clashes})
    ruled = [*canon.get("color_roles", {}), *(rule.get("hex", "") for rule in canon.get("usage_rules", []))]
    outside = sorted({value for value in ruled if value.upper() not in palette})
    if outside:
        raise ValidationFailed(f"{', '.join(outside)} has a role or usage rule but is not in the palette: add it to "
                               "palette_hex or remove its role and rules", code="rule_outside_palette",
                               details={"colors": outside})
    def unusable_proportion(rule: UsageRuleFields) -> bool:
        low, high = rule.get("min_pct"), rule.get("max_pct")
        if low is None and high is None:
            return True
        return (low if low is not None else 0.0) > (high if high is not None else 100.0)

    inverted = [rule for rule in canon.get("usage_rules", [])
                if rule.get("kind") == "proportion" and unusable_proportion(rule)]
    if inverted:
        raise ValidationFailed("a proportion rule needs min_pct and/or max_pct, with min_pct <= max_pct",
                               code="invalid_proportion", details={"rules": inverted})
    return canon
