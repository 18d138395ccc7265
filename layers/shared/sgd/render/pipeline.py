"""The render pipeline: content policy, canon constraints, plan (cached), imagery, design, storage, response.

prepare() does everything that can refuse a request (content policy, references, canon conflicts) and is
cheap, so POST /render can answer 4xx before accepting an async job; run() does the rest. An async job runs
both again in the worker, so a canon that changed meanwhile is still enforced.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hashlib
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sgd.adapters.clock import Clock, Deadline, SystemClock
from sgd.adapters.model_gateway import GatewayResult, ModelGateway, audit_fields
from sgd.adapters.storage import ObjectStorage
from sgd.adapters.tables import ItemTable
from sgd.canon.store import CanonStore
from sgd.canon.store import cache_key as canon_cache_key
from sgd.contracts.render import AssetLayout, FontSubstitution, RenderAudit, RenderedAsset, RenderResponse, SynthId
from sgd.errors import ValidationFailed
from sgd.project_fonts import ProjectFonts
from sgd.project_fonts import summary_key as fonts_summary_key
from sgd.render.brand import ASSET_PREFIX, BrandAssets, BrandFiles
from sgd.render.cache import PlanCache, plan_cache_key
from sgd.render.constraints import ResolvedConstraints, resolve_constraints
from sgd.render.content_policy import content_policy
from sgd.render.references import References
from sgd.tenancy import Tenant

# Should an image model paint the picture, it is asked to leave these areas alone.
CALM_AREAS = ("Leave the areas for the headline, the call to action and the logo calm and uncluttered; "
              "the exact text and logo are composited afterwards.")


class JobCancelled(Exception):
    """The job was cancelled between two assets; what was stored so far stays, nothing more is rendered."""


@dataclass(frozen=True, slots=True)
class Prepared:
    tenant: Tenant
    request: dict[str, Any]  # sgd.render.cache.normalised_request
    canon: dict[str, Any] | None  # the canon document (version, canon, ...) or None
    constraints: ResolvedConstraints
    font_items: tuple[dict[str, Any], ...] = ()  # the project's uploaded fonts (font# items)
    notes: tuple[str, ...] = ()
    cache_key: str = ""
    cache_entry: dict[str, Any] | None = None  # the plan cache's entry, when prepare() looked it up
    cache_looked_up: bool = False


@dataclass(frozen=True, slots=True)
class StoredAsset:
    id: str
    key: str
    width: int
    height: int
    format: str
    layout: dict[str, Any]
    font_substitutions: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_cached(self) -> dict[str, Any]:
        return {"id": self.id, "key": self.key, "width": self.width, "height": self.height, "format": self.format,
                "layout": self.layout, "font_substitutions": self.font_substitutions, "notes": self.notes}


@dataclass(frozen=True, slots=True)
class RenderOutcome:
    response: RenderResponse
    keys: dict[str, str]  # asset id -> S3 key, to presign again later (job reads, idempotent replays)


def render_key(tenant: Tenant, render_id: str, index: int, extension: str) -> str:
    return f"org/{tenant.org}/projects/{tenant.project}/renders/{render_id}/{index}.{extension}"


def trace_id_or(request_id: str) -> str:
    """The X-Ray trace root of this invocation (Lambda sets _X_AMZN_TRACE_ID), else the request id."""
    header = os.environ.get("_X_AMZN_TRACE_ID", "")
    for part in header.split(";"):
        name, _, value = part.partition("=")
        if name.strip() == "Root" and value.strip():
            return value.strip()
    return request_id


@functools.cache
def _render_pool() -> concurrent.futures.ThreadPoolExecutor:
    # Pillow releases the GIL while drawing and encoding, and S3 puts wait on the network: threads overlap both.
    return concurrent.futures.ThreadPoolExecutor(max_workers=max(2, min(6, (os.cpu_count() or 2) * 2)),
                                                 thread_name_prefix="render")


class RenderPipeline:
    def __init__(self, *, storage: ObjectStorage, assets: ItemTable, cache: PlanCache, canon: CanonStore,
                 gateway: ModelGateway, references: References, presign_ttl_seconds: int,
                 clock: Clock | None = None) -> None:
        self._storage = storage
        self._assets = assets
        self._cache = cache
        self._canon = canon
        self._gateway = gateway
        self._references = references
        self._brand = BrandAssets(assets, storage)
        self._fonts = ProjectFonts(assets, cache.table)
        self._presign_ttl = presign_ttl_seconds
        self._clock = clock or SystemClock()
        # Per container: the canon version and fonts each project had last time, so the plan-cache read can go
        # out together with the canon and font reads. A guess only: used when it matches what was read.
        self._last_seen: dict[str, tuple[int | None, tuple[str, ...]]] = {}

    # -- prepare: everything that can refuse the request --------------------------------------------------
    def prepare(self, tenant: Tenant, request: dict[str, Any], *, lookup_cache: bool = True) -> Prepared:
        prompts = request["prompts"]
        verdict = content_policy().check(prompts["instruction"])
        if verdict.blocked:
            first = verdict.blocked[0]
            raise ValidationFailed(
                f"the instruction is blocked by content policy rule {first.rule_id} (matched \u201c{first.term}\u201d)",
                code="content_blocked",
                details={"rule_id": first.rule_id, "term": first.term,
                         "matches": [match.as_details() for match in verdict.blocked]})
        if prompts["task"] in ("edit", "variations") and not prompts["references"]:
            raise ValidationFailed(f"task {prompts['task']} needs at least one reference image",
                                   code="reference_required",
                                   details=[{"field": "body.prompts.references",
                                             "message": f"{prompts['task']} works on a reference image"}])
        self._references.check(tenant, prompts["references"])
        # The canon, the fonts and (speculatively) the cache entry are all cache-table items: one BatchGetItem.
        guess = self._last_seen.get(tenant.partition_key)
        guessed_key = self._cache_key(tenant, request, *guess) if guess and lookup_cache else None
        canon_item, fonts_item = (canon_cache_key(tenant), None), (fonts_summary_key(tenant), None)
        found = self._cache.table.get_many([canon_item, fonts_item] + ([(guessed_key, None)] if guessed_key else []))
        document = self._canon.latest(tenant, cached=found.get(canon_item))
        font_items = tuple(self._fonts.items(tenant, summary=found.get(fonts_item)))
        version = document["version"] if document else None
        fingerprint = tuple(BrandAssets.fingerprint(list(font_items)))
        self._last_seen[tenant.partition_key] = (version, fingerprint)
        key = self._cache_key(tenant, request, version, fingerprint)
        entry = None
        if lookup_cache:
            entry = self._cache.live(found.get((key, None))) if key == guessed_key else self._cache.get(key)

        resolved = resolve_constraints(document["canon"] if document else None, request.get("constraints"))
        if resolved.blocking:
            raise ValidationFailed(
                "the request's constraints conflict with the brand canon; fix them or set constraints.override",
                code="canon_conflict",
                details={"canon_version": version,
                         "conflicts": [conflict.as_details() for conflict in resolved.conflicts]})
        return Prepared(tenant, request, document, resolved, font_items, tuple(verdict.review_notes()), key, entry,
                        lookup_cache)

    def _cache_key(self, tenant: Tenant, request: dict[str, Any], version: int | None,
                   fingerprint: tuple[str, ...]) -> str:
        return plan_cache_key(tenant, version, self._gateway.engine, request, list(fingerprint))

    # -- run: plan, imagery, design, store ----------------------------------------------------------------
    async def run(self, prepared: Prepared, *, deadline: Deadline, trace_id: str,
                  on_asset: Callable[[int, int], bool] | None = None) -> RenderOutcome:
        """Renders and stores every asset. on_asset(done, total) returning False cancels (JobCancelled)."""
        tenant, request = prepared.tenant, prepared.request
        canon = prepared.canon["canon"] if prepared.canon else None
        font_items = list(prepared.font_items)
        key = prepared.cache_key
        entry = prepared.cache_entry if prepared.cache_looked_up else self._cache.get(key)
        if entry is not None and entry.get("result"):
            return self._replay(prepared, entry, trace_id)

        results: list[GatewayResult] = []
        if entry is not None:
            plan, cache_state = entry["plan"], "hit"
        else:
            planned = await self._gateway.plan(tenant=tenant, instruction=request["prompts"]["instruction"],
                                               canon=canon, request=request, deadline=deadline)
            results.append(planned)
            plan, cache_state = planned.output, "miss"
            self._cache.put(key, plan=plan, plan_audit=audit_fields(planned))

        imagery, imagery_results, imagery_notes = await self._imagery(prepared, plan, deadline)
        results += imagery_results
        brand = self._brand.load(tenant, canon, font_items)
        render_id = uuid.uuid4().hex
        stored = await self._render_all(prepared, plan, brand, imagery, render_id, on_asset)

        cached_result = {"render_id": render_id, "assets": [asset.as_cached() for asset in stored],
                         "notes": list(brand.notes) + imagery_notes}
        self._cache.put(key, plan=plan, plan_audit=(entry or {}).get("plan_audit") or audit_fields(*results[:1]),
                        result=cached_result)
        notes = list(prepared.constraints.notes) + list(prepared.notes) + cached_result["notes"]
        if cache_state == "hit":
            notes.append("plan from the plan cache: no planning model call")
        return self._respond(render_id, stored, plan, cache_state, trace_id, notes, audit_fields(*results))

    async def _imagery(self, prepared: Prepared, plan: dict[str, Any],
                       deadline: Deadline) -> tuple[bytes | None, list[GatewayResult], list[str]]:
        request = prepared.request
        task, references = request["prompts"]["task"], request["prompts"]["references"]
        if task in ("edit", "variations"):
            reference = await asyncio.to_thread(self._references.load_image, prepared.tenant, references[0])
            return reference.data, [], [f"imagery: the first reference ({reference.source})"]
        width, height = (int(side) for side in request["outputs"]["dimensions"].split("x"))
        prompt = " ".join(filter(None, [(plan.get("layout") or {}).get("imagery_prompt"), CALM_AREAS]))
        generated = await self._gateway.generate_image(tenant=prepared.tenant, prompt=prompt, width=width,
                                                       height=height, deadline=deadline)
        image = generated.output
        return (image.data if image is not None else None), [generated], []

    async def _render_all(self, prepared: Prepared, plan: dict[str, Any], brand: BrandFiles, imagery: bytes | None,
                          render_id: str, on_asset: Callable[[int, int], bool] | None) -> list[StoredAsset]:
        count = int(prepared.request["outputs"]["count"])
        loop = asyncio.get_running_loop()
        pending = [loop.run_in_executor(_render_pool(), self._render_one, prepared, plan, brand, imagery, render_id,
                                        index) for index in range(count)]
        stored: list[StoredAsset] = []
        try:
            for finished in asyncio.as_completed(pending):
                stored.append(await finished)
                if on_asset is not None and not await asyncio.to_thread(on_asset, len(stored), count):
                    raise JobCancelled
        finally:
            for future in pending:
                future.cancel()  # those not started yet never run; running ones finish and are recorded
        return sorted(stored, key=lambda asset: int(asset.key.rsplit("/", 1)[1].split(".")[0]))

    def _render_one(self, prepared: Prepared, plan: dict[str, Any], brand: BrandFiles, imagery: bytes | None,
                    render_id: str, index: int) -> StoredAsset:
        from sgd.design.engine import DesignRequest, render_design  # numpy and Pillow: only where rendering

        request, constraints, tenant = prepared.request, prepared.constraints, prepared.tenant
        width, height = (int(side) for side in request["outputs"]["dimensions"].split("x"))
        design = render_design(DesignRequest(
            plan=plan, width=width, height=height, format=request["outputs"]["format"],
            palette=constraints.palette, fonts=constraints.fonts, logo=brand.logo,
            logo_safe_zone_pct=constraints.logo_safe_zone_pct, seed=index, imagery=imagery,
            project_fonts=brand.fonts))
        key = render_key(tenant, render_id, index, design.format)
        self._storage.put(key, design.data, content_type=design.mime)
        asset_id = f"{render_id}-{index}"
        self._assets.put({
            "pk": tenant.partition_key, "sk": f"{ASSET_PREFIX}{asset_id}", "asset_id": asset_id, "kind": "render",
            "key": key, "content_type": design.mime, "format": design.format, "size": len(design.data),
            "width": design.width, "height": design.height, "render_id": render_id, "layout": design.layout,
            "sha256": hashlib.sha256(design.data).hexdigest(), "status": "admitted",
            "created_at": self._clock.now().isoformat(),
        })
        return StoredAsset(asset_id, key, design.width, design.height, design.format, design.layout,
                           design.font_substitutions, design.notes)

    # -- responses ----------------------------------------------------------------------------------------
    def _replay(self, prepared: Prepared, entry: dict[str, Any], trace_id: str) -> RenderOutcome:
        result = entry["result"]
        stored = [StoredAsset(**asset) for asset in result["assets"]]
        planned_by = ", ".join((entry.get("plan_audit") or {}).get("model_route") or []) or "unknown"
        notes = list(prepared.constraints.notes) + list(prepared.notes) + list(result.get("notes") or [])
        notes.append(f"served from the render cache: no model calls and no re-render (planned by {planned_by})")
        return self._respond(result["render_id"], stored, entry["plan"], "hit", trace_id, notes, audit_fields())

    def _respond(self, render_id: str, stored: list[StoredAsset], plan: dict[str, Any], cache_state: str,
                 trace_id: str, notes: list[str], audit: dict[str, Any]) -> RenderOutcome:
        substitutions: dict[tuple[str, str], dict[str, str]] = {}
        for asset in stored:
            notes += asset.notes
            for substitution in asset.font_substitutions:
                substitutions.setdefault((substitution["requested"], substitution["used"]), substitution)
        assets = [RenderedAsset(id=asset.id, url=self.presign(asset.key), width=asset.width, height=asset.height,
                                format=asset.format, synthid=SynthId(present=False, payload=None),
                                layout=AssetLayout.model_validate(asset.layout)) for asset in stored]
        response = RenderResponse(render_id=render_id, assets=assets, audit=RenderAudit(
            trace_id=trace_id, guardrails_ok=True, verified_by="none", cache=cache_state, plan=plan,
            font_substitutions=[FontSubstitution.model_validate(s) for s in substitutions.values()],
            notes=list(dict.fromkeys(notes)), **audit))
        return RenderOutcome(response, {asset.id: asset.key for asset in stored})

    def presign(self, key: str) -> str:
        return self._storage.presign_get(key, ttl_seconds=self._presign_ttl)
