"""The critique service: measure designs against the project's current canon, add a vision model's findings when
one is configured, store annotated copies, and answer with the numbers behind every finding.

Per asset: its record and bytes, the pixel critic (sgd.critique.measure; always), then with a provider key the
gateway's critic task (the model may add findings, never clear a measured one; sgd.critique.merge), then the
annotated copy under critiques/{critique_id}/. Assets run in a small thread pool: decoding, numpy and encoding
release the GIL, and S3 round trips overlap.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sgd.adapters.clock import Deadline, monotonic_ms
from sgd.adapters.storage import ObjectStorage, is_missing_object
from sgd.brand.assets import BrandAssets
from sgd.contracts.common import Audit
from sgd.contracts.critique import AssetCritique, CritiqueResponse, Violation
from sgd.contracts.shapes import BrandCanon
from sgd.critique.policy import CritiquePolicy
from sgd.errors import NotFound, ValidationFailed
from sgd.guardrails import validate_contract
from sgd.model_gateway.port import CallRecord, GatewayResult, ImageInput, ModelGateway, audit_fields
from sgd.repositories.assets import AssetRecord, AssetRecords
from sgd.repositories.canon import CanonRepository
from sgd.tenancy import Tenant

if TYPE_CHECKING:  # Pillow and numpy load with the first critique, not at cold start
    from PIL import Image

    from sgd.critique.logo import PreparedLogo
    from sgd.critique.measure import Measurement

CRITIQUABLE_KINDS = ("render", "image", "logo")
MAX_VIOLATIONS, MAX_SUGGESTIONS = 200, 50  # guardrails/critique.json's limits
WORKERS = 4
# Logo asset ids are content hashes, so a prepared logo stays valid; the TTL only bounds how long a container
# keeps using a logo whose record was withdrawn.
LOGO_CACHE_SECONDS = 300
MODEL_MAX_SIDE, MODEL_MAX_BYTES = 1568, 4 * 1024 * 1024  # what a vision model is sent at most
# Measuring costs ~30 bytes of working memory per pixel and ~0.3 s per megapixel: within a 1024 MB, 28 s function a
# design may have at most the largest render's pixels, a request 40 MP, and designs in flight 20 MP together.
MAX_DESIGN_PIXELS = 16_777_216
MAX_REQUEST_PIXELS = 40_000_000
MAX_PIXELS_IN_FLIGHT = 20_000_000


@dataclass(frozen=True, slots=True)
class _Logos:
    primary: PreparedLogo | None
    versions: dict[str, PreparedLogo]  # asset id -> prepared


@dataclass(slots=True)
class _Assessed:
    record: AssetRecord
    data: bytes
    measurement: Measurement
    width: int
    height: int
    image: Image.Image | None  # the decoded design; None once no longer needed


class CritiqueService:
    def __init__(self, *, storage: ObjectStorage, assets: AssetRecords, canon: CanonRepository, brand: BrandAssets,
                 gateway: Callable[[], ModelGateway], policy: CritiquePolicy, presign_ttl_seconds: int) -> None:
        self._storage = storage
        self._assets = assets
        self._canon = canon
        self._gateway = gateway
        self._policy = policy
        self._brand = brand
        self._presign_ttl = presign_ttl_seconds
        # Decoding, numpy and encoding release the GIL, and S3 round trips overlap; threads start on first use.
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="critique")
        self._logos: dict[tuple[str, str], tuple[float, _Logos]] = {}  # (partition, logo ids) -> (expiry, prepared)

    async def critique(self, tenant: Tenant, asset_ids: list[str], *, deadline: Deadline,
                       trace_id: str) -> CritiqueResponse:
        started = monotonic_ms()
        # Independent reads, overlapped: the asset records (one BatchGetItem) and the canon.
        records, document = await asyncio.gather(
            asyncio.to_thread(self._records, tenant, list(dict.fromkeys(asset_ids))),
            asyncio.to_thread(self._canon.latest, tenant))
        if document is None:
            raise ValidationFailed(f"project {tenant.project!r} has no canon to critique against: derive one "
                                   "(POST /canon/derive) or PUT one first", code="canon_required")
        canon = document.canon
        _check_size(records)
        logo = await asyncio.to_thread(self._logo, tenant, canon)
        gateway = self._gateway()
        with_model = gateway.engine != "local"
        critique_id = uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        # Large designs are measured fewer at a time, so the pixels in memory together stay bounded.
        largest = max(_pixels(record) or MAX_DESIGN_PIXELS for record in records)
        gate = asyncio.Semaphore(max(1, min(WORKERS, MAX_PIXELS_IN_FLIGHT // largest)))

        async def in_pool(work: Callable[..., Any], *args: Any) -> Any:
            async with gate:
                return await loop.run_in_executor(self._pool, work, *args)

        model_results: list[GatewayResult] = []
        if with_model:
            # Measure every design, ask the model about each (concurrently), then merge and annotate.
            # The critic calls' worst case is held first: a batch the budget cannot hold is refused before any
            # design is measured or any provider is called.
            async with gateway.budget(tenant, {"critic": len(records)}):
                assessed = await asyncio.gather(*[in_pool(self._assess, record, canon, logo) for record in records])
                measured_call = _measured_call(started)
                model_results = list(await asyncio.gather(*[
                    self._ask_model(gateway, tenant, item, canon, deadline) for item in assessed]))
            critiques = await asyncio.gather(*[in_pool(self._finish, tenant, critique_id, item, result)
                                               for item, result in zip(assessed, model_results, strict=True)])
        else:
            # Offline: one job per design, so a decoded design is dropped as soon as its copy is stored.
            critiques = await asyncio.gather(*[in_pool(self._measure_and_finish, tenant, critique_id, record, canon,
                                                       logo) for record in records])
            measured_call = _measured_call(started)

        violations = [violation for asset in critiques for violation in asset.violations][:MAX_VIOLATIONS]
        suggestions = self._suggestions(critiques)
        score = min(asset.score for asset in critiques)
        validate_contract("critique.json", {
            "score": score, "violations": [violation.model_dump(mode="json", exclude_none=True)
                                           for violation in violations],
            "repair_suggestions": suggestions})
        audit = audit_fields(measured_call, *model_results)
        return CritiqueResponse(critique_id=critique_id, score=score, violations=violations,
                                repair_suggestions=suggestions, assets=critiques, canon_version=document.version,
                                audit=Audit(trace_id=trace_id, guardrails_ok=True, verified_by="none", **audit))

    # -- loading -------------------------------------------------------------------------------------------------
    def _records(self, tenant: Tenant, asset_ids: list[str]) -> list[AssetRecord]:
        found = self._assets.get_many(tenant, asset_ids)
        unknown = [asset_id for asset_id in asset_ids if asset_id not in found]
        if unknown:
            raise NotFound(f"unknown assets in project {tenant.project!r}: {', '.join(unknown)} (an upload id "
                           "counts once its file was ingested: GET /uploads/{upload_id})",
                           details={"unknown_asset_ids": unknown})
        records = [found[asset_id] for asset_id in asset_ids]
        unusable = [{"asset_id": record.asset_id, "kind": record.kind, "status": record.status}
                    for record in records if not record.admitted or record.kind not in CRITIQUABLE_KINDS]
        if unusable:
            raise ValidationFailed(
                "only rendered designs and ingested images can be critiqued: "
                + ", ".join(f"{item['asset_id']} is a {item['status']} {item['kind'] or 'file'}" for item in unusable),
                code="not_a_design", details={"assets": unusable})
        return records

    def _logo(self, tenant: Tenant, canon: BrandCanon) -> _Logos:
        """The canon's logo and its versions (light, dark), prepared for matching (sgd.critique.logo); kept per
        container for a while."""
        ids = [str(canon.get("logo_asset_id") or "")] + \
            [str(version["asset_id"]) for version in canon.get("logo_versions") or []]
        if not any(ids):
            return _Logos(None, {})
        key, now = (tenant.partition_key, " ".join(ids)), time.monotonic()
        cached = self._logos.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        from sgd.critique.logo import prepare_logo

        files = self._brand.load(tenant, canon, [])  # the logo (or the first version standing for it), versions
        versions = {version.asset_id: prepared for version in files.logo_versions
                    if (prepared := prepare_logo(version.data)) is not None}
        logos = _Logos(prepare_logo(files.logo) if files.logo is not None else None, versions)
        self._logos[key] = (now + LOGO_CACHE_SECONDS, logos)
        return logos

    def _design_bytes(self, record: AssetRecord) -> bytes:
        try:
            return self._storage.get(record.key)
        except Exception as error:
            if is_missing_object(error):
                raise NotFound(f"asset {record.asset_id} has no stored file any more; render or upload it again",
                               details={"asset_id": record.asset_id}) from None
            raise

    # -- per asset (worker threads) ------------------------------------------------------------------------------
    def _assess(self, record: AssetRecord, canon: BrandCanon, logo: _Logos) -> _Assessed:
        from sgd.critique.measure import decode_design, measure_design

        data = self._design_bytes(record)
        try:
            image = decode_design(data, max_pixels=MAX_DESIGN_PIXELS)
        except ValidationFailed as error:
            raise ValidationFailed(f"asset {record.asset_id}: {error.message}", code=error.code,
                                   details={"asset_id": record.asset_id, "reason": error.details}) from None
        expected = {name: getattr(record, name) for name in ("width", "height", "format") if getattr(record, name)}
        measurement = measure_design(image, canon, self._policy, layout=record.layout, logo=logo.primary,
                                     logo_versions=logo.versions,
                                     expected=expected or None)
        return _Assessed(record, data, measurement, image.width, image.height, image)

    def _measure_and_finish(self, tenant: Tenant, critique_id: str, record: AssetRecord,
                            canon: BrandCanon, logo: _Logos) -> AssetCritique:
        return self._finish(tenant, critique_id, self._assess(record, canon, logo), None)

    async def _ask_model(self, gateway: ModelGateway, tenant: Tenant, item: _Assessed, canon: BrandCanon,
                         deadline: Deadline) -> GatewayResult:
        """The critic task on the design (shrunk to MODEL_MAX_SIDE: vision models downscale anyway, and a 16 MP
        PNG as a data URL would be tens of MB); the model's boxes are scaled back to the design's pixels."""
        image, scale = await asyncio.to_thread(_model_view, item)
        item.image = None  # while models answer, keep only the encoded bytes (ten decoded designs can be ~1 GB)
        result = await gateway.critique(tenant=tenant, image=image, canon=canon.copy(), deadline=deadline)
        if scale != 1.0 and isinstance(result.output, dict):
            for violation in result.output.get("violations") or []:
                if violation.get("box") is not None:
                    violation["box"] = [round(value * scale) for value in violation["box"]]
        return result

    def _finish(self, tenant: Tenant, critique_id: str, item: _Assessed,
                model: GatewayResult | None) -> AssetCritique:
        from sgd.critique.annotate import EXTENSION, MIME, annotate
        from sgd.critique.measure import decode_design
        from sgd.critique.merge import merge_model_critique

        measurement, asset_id = item.measurement, item.record.asset_id
        merged = merge_model_critique(measurement.score, measurement.violations, measurement.repair_suggestions,
                                      model.output if model is not None else None, width=item.width,
                                      height=item.height, model_weight=self._policy.model_weight)
        image = item.image if item.image is not None else decode_design(item.data)
        key = tenant.critique_key(critique_id, asset_id, EXTENSION)
        self._storage.put(key, annotate(image, merged.violations), content_type=MIME)
        item.image = None
        checks = dict(measurement.checks)
        if model is not None:
            checks["model"] = {"score": model.output.get("score"), "route": model.model_route,
                               "findings_added": sum(1 for v in merged.violations if v["source"] == "model"),
                               "repeats_of_measured_dropped": merged.duplicates_dropped}
        return AssetCritique(
            asset_id=asset_id, score=merged.score, measured_score=measurement.score, checks=checks,
            annotated_url=self._storage.presign_get(key, ttl_seconds=self._presign_ttl),
            repair_suggestions=merged.repair_suggestions[:MAX_SUGGESTIONS],
            violations=[Violation(asset_id=asset_id, **violation) for violation in merged.violations])

    @staticmethod
    def _suggestions(critiques: list[AssetCritique]) -> list[str]:
        """Every asset's suggestions, once each; prefixed with the asset id when there are several assets."""
        multiple = len(critiques) > 1
        return list(dict.fromkeys((f"{asset.asset_id}: {text}" if multiple else text)[:500]
                                  for asset in critiques for text in asset.repair_suggestions))[:MAX_SUGGESTIONS]


def _pixels(record: AssetRecord) -> int | None:
    width, height = record.width, record.height
    return int(width) * int(height) if isinstance(width, int | float) and isinstance(height, int | float) else None


def _check_size(records: list[AssetRecord]) -> None:
    """422 before any work for designs (or a request) too large to measure within the function's memory and time."""
    large = [{"asset_id": record.asset_id, "pixels": _pixels(record)} for record in records
             if (_pixels(record) or 0) > MAX_DESIGN_PIXELS]
    if large:
        raise ValidationFailed(
            f"designs over {MAX_DESIGN_PIXELS:,} pixels cannot be critiqued: "
            + ", ".join(f"{item['asset_id']} has {item['pixels']:,}" for item in large)
            + "; critique a copy at most 4096x4096", code="design_too_large", details={"assets": large})
    total = sum(_pixels(record) or 0 for record in records)
    if total > MAX_REQUEST_PIXELS:
        raise ValidationFailed(f"these designs have {total:,} pixels together; one request critiques at most "
                               f"{MAX_REQUEST_PIXELS:,}: send fewer designs per request",
                               code="critique_too_large", details={"pixels": total, "limit": MAX_REQUEST_PIXELS})


def _measured_call(started_ms: float) -> GatewayResult:
    """The pixel critic as a call in the audit: local/critic, at no cost."""
    return GatewayResult(None, [CallRecord("local/critic", 1, monotonic_ms() - started_ms, 0, 0.0, "ok")])


def _model_view(item: _Assessed) -> tuple[ImageInput, float]:
    """What the vision model gets: the stored bytes when small enough, else a JPEG of at most MODEL_MAX_SIDE px
    (and the factor from its pixels back to the design's)."""
    longest = max(item.width, item.height)
    if longest <= MODEL_MAX_SIDE and len(item.data) <= MODEL_MAX_BYTES:
        return ImageInput(data=item.data, mime=item.record.content_type or "image/png"), 1.0
    import io

    scale = max(1.0, longest / MODEL_MAX_SIDE)
    size = (max(1, round(item.width / scale)), max(1, round(item.height / scale)))
    output = io.BytesIO()
    assert item.image is not None  # decoded until the model has its view (_ask_model drops it after)
    item.image.resize(size).save(output, format="JPEG", quality=90)
    return ImageInput(data=output.getvalue(), mime="image/jpeg"), scale
