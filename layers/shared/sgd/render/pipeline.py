"""The render pipeline: content policy, canon constraints, plan (cached), imagery, design, storage, response.

prepare() does everything that can refuse a request (content policy, references, canon conflicts) and is
cheap, so POST /render can answer 4xx before accepting an async job; run() does the rest. An async job runs
both again in the worker, so a canon that changed meanwhile is still enforced.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sgd.adapters.clock import Clock, Deadline
from sgd.adapters.storage import ObjectStorage
from sgd.brand.assets import BrandAssets, BrandFiles, fonts_fingerprint
from sgd.brand.fonts import ProjectFonts
from sgd.contracts.render import (
    AssetCritiqueSummary,
    AssetLayout,
    CritiqueFinding,
    FontSubstitution,
    RenderAudit,
    RenderedAsset,
    RenderResponse,
    RepairAttempt,
    SynthId,
)
from sgd.contracts.shapes import BrandCanon, CacheState, NormalisedRequest, OutputFormat, RenderPlan, RepairRequest
from sgd.critique.policy import CritiquePolicy
from sgd.errors import ApiError, ValidationFailed
from sgd.model_gateway.port import GatewayResult, ModelGateway, Task, audit_fields
from sgd.observability import logger
from sgd.render.cache import plan_cache_key
from sgd.render.constraints import ResolvedConstraints, resolve_constraints
from sgd.render.content_policy import ContentPolicy
from sgd.render.references import References
from sgd.repositories.assets import AssetRecord, AssetRecords
from sgd.repositories.caches import (
    CachedRender,
    FontRef,
    PlanCache,
    PlanCacheEntry,
    RenderCacheReads,
    StoredAsset,
)
from sgd.repositories.canon import CanonRepository, CanonVersion
from sgd.tenancy import Tenant

if TYPE_CHECKING:  # numpy and Pillow: imported where rendering, not at cold start
    from PIL import Image

    from sgd.critique.logo import PreparedLogo
    from sgd.critique.measure import Measurement
    from sgd.design.request import Design

# Should an image model paint the picture, it is asked to leave these areas alone.
CALM_AREAS = ("Leave the areas for the headline, the call to action and the logo calm and uncluttered; "
              "the exact text and logo are composited afterwards.")
# A repair attempt is a plan call and a render: not started with less time left before the function's deadline.
REPAIR_MIN_REMAINING_MS = 5_000
# Plan fields whose change a repair attempt reports, in this order (imagery_treatment unset means as_is).
REPAIR_PLAN_FIELDS = ("template", "logo_position", "imagery_treatment", "background_hex", "text_hex", "accent_hex",
                      "headline", "subline", "cta", "imagery_prompt")


class JobCancelled(Exception):
    """The job was cancelled between two assets; what was stored so far stays, nothing more is rendered."""


@dataclass(frozen=True, slots=True)
class Prepared:
    tenant: Tenant
    request: NormalisedRequest
    canon: CanonVersion | None
    constraints: ResolvedConstraints
    fonts: tuple[FontRef, ...] = ()  # the project's uploaded fonts
    notes: tuple[str, ...] = ()
    cache_key: str = ""
    cache_entry: PlanCacheEntry | None = None  # the plan cache's entry, when prepare() looked it up
    cache_looked_up: bool = False

    @property
    def canon_fields(self) -> BrandCanon | None:
        return self.canon.canon if self.canon is not None else None


@dataclass(frozen=True, slots=True)
class RenderOutcome:
    response: RenderResponse
    keys: dict[str, str]  # asset id -> S3 key, to presign again later (job reads, idempotent replays)


# -- the critique of rendered assets --------------------------------------------------------------------------------


def critique_canon(canon: BrandCanon | None, constraints: ResolvedConstraints) -> BrandCanon:
    """What a render is measured against: the palette, fonts and logo clear space it was rendered under (the
    canon narrowed by the request, or the request's own under override), plus the canon's forbidden colours."""
    canon = canon or {}
    return {"palette_hex": list(constraints.palette), "forbidden_hex": list(canon.get("forbidden_hex") or []),
            "fonts": list(constraints.fonts), "voice": canon.get("voice", {}).copy(),
            "logo_safe_zone_pct": constraints.logo_safe_zone_pct, "logo_asset_id": canon.get("logo_asset_id")}



def _box(box: Sequence[float] | None) -> tuple[int, int, int, int] | None:
    if box is None:
        return None
    x, y, width, height = (int(value) for value in box)
    return x, y, width, height

def critique_summary(measurement: Measurement, policy: CritiquePolicy) -> dict[str, Any]:
    """A measurement as the asset's AssetCritiqueSummary, in JSON form."""
    violations = [CritiqueFinding(kind=finding["kind"], message=finding["message"], severity=finding["severity"],
                                  box=_box(finding.get("box"))) for finding in measurement.violations]
    score = float(measurement.score)
    return AssetCritiqueSummary(score=score, passed=score >= policy.repair_threshold, violations=violations,
                                source="measured").model_dump(mode="json")


@dataclass(frozen=True, slots=True)
class AssetCritic:
    """Measures rendered designs against the canon the render used, with the critique policy's thresholds."""

    canon: BrandCanon
    policy: CritiquePolicy
    logo: PreparedLogo | None = None  # the brand's logo, prepared for matching

    @classmethod
    def for_render(cls, canon: BrandCanon | None, constraints: ResolvedConstraints, logo_png: bytes | None,
                   policy: CritiquePolicy) -> AssetCritic:
        from sgd.critique.logo import prepare_logo  # numpy and Pillow: only where rendering

        return cls(critique_canon(canon, constraints), policy, prepare_logo(logo_png) if logo_png else None)

    def measure(self, design: Design) -> dict[str, Any]:
        """The critique summary of a design (sgd.design.engine.Design) as delivered: a lossless PNG is measured on
        the engine's own pixels, a JPEG or WebP decoded, compression noise and all."""
        from sgd.critique.measure import measure_design

        measurement = measure_design(delivered_pixels(design), self.canon, self.policy, layout=design.layout,
                                     logo=self.logo, expected={"width": design.width, "height": design.height,
                                                               "format": design.format})
        return critique_summary(measurement, self.policy)


def delivered_pixels(design: Design) -> Image.Image:
    """The RGB image a client of `design` gets: a lossless PNG is the engine's own pixels (no decode), a JPEG or WebP
    is decoded, compression noise and all. `format` is set as the critic's format check reads it."""
    if design.image is not None and design.format == "png":
        pixels = design.image.copy() if design.image.mode == "RGB" else design.image.convert("RGB")
        pixels.format = "PNG"
        return pixels
    from sgd.critique.measure import decode_design

    return decode_design(design.data)


def plan_changes(before: RenderPlan, after: RenderPlan) -> list[str]:
    """How a repair attempt's plan differs from the one before it, e.g. "imagery_treatment: as_is -> palette"."""
    old: Mapping[str, Any] = before.get("layout") or {}
    new: Mapping[str, Any] = after.get("layout") or {}
    changes = []
    for name in REPAIR_PLAN_FIELDS:
        default = "as_is" if name == "imagery_treatment" else None
        was, now = old.get(name, default), new.get(name, default)
        if was == now:
            continue
        changes.append(f"{name} changed" if name == "imagery_prompt" else
                       f"{name}: {was or 'unset'} -> {now or 'unset'}")
    return changes


# (canon, resolved constraints, the brand's logo PNG) -> the critic of a render's assets
CriticFactory = Callable[[BrandCanon | None, ResolvedConstraints, bytes | None], AssetCritic | None]


@dataclass(slots=True)
class _Attempt:
    number: int
    plan: RenderPlan
    design: Design
    critique: dict[str, Any] | None
    changes: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return float(self.critique["score"]) if self.critique else 0.0


@dataclass(slots=True)
class _RenderRun:
    """One render's shared inputs, and what its assets' repair loops add to the response."""

    prepared: Prepared
    plan: RenderPlan
    brand: BrandFiles
    imagery: bytes | None
    render_id: str
    critic: AssetCritic | None
    auto_repair: bool
    deadline: Deadline
    results: list[GatewayResult] = field(default_factory=list)  # the re-plans' gateway calls
    repairs: list[dict[str, Any]] = field(default_factory=list)  # RepairAttempt records
    notes: list[str] = field(default_factory=list)


class RenderPipeline:
    def __init__(self, *, storage: ObjectStorage, assets: AssetRecords, plans: PlanCache,
                 cache_reads: RenderCacheReads, canon: CanonRepository, fonts: ProjectFonts, brand: BrandAssets,
                 gateway: ModelGateway, references: References, content_policy: ContentPolicy,
                 critique_policy: CritiquePolicy, presign_ttl_seconds: int, clock: Clock,
                 critic_for: CriticFactory | None = None) -> None:
        self._storage = storage
        self._assets = assets
        self._plans = plans
        self._cache_reads = cache_reads
        self._canon = canon
        self._fonts = fonts
        self._brand = brand
        self._gateway = gateway
        self._references = references
        self._content_policy = content_policy
        self.critique_policy = critique_policy
        self._critic_for = critic_for or self._measured_critic
        self._presign_ttl = presign_ttl_seconds
        self._clock = clock
        # Pillow releases the GIL while drawing and encoding, and S3 puts wait on the network: threads overlap both.
        # They start on first use.
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(2, min(6, (os.cpu_count() or 2) * 2)),
                                                           thread_name_prefix="render")
        # Per container: the canon version and fonts each project had last time, so the plan-cache read can go
        # out together with the canon and font reads. A guess only: used when it matches what was read.
        self._last_seen: dict[str, tuple[int | None, tuple[str, ...]]] = {}

    def _measured_critic(self, canon: BrandCanon | None, constraints: ResolvedConstraints,
                         logo_png: bytes | None) -> AssetCritic:
        return AssetCritic.for_render(canon, constraints, logo_png, self.critique_policy)

    # -- prepare: everything that can refuse the request --------------------------------------------------
    def prepare(self, tenant: Tenant, request: NormalisedRequest, *, lookup_cache: bool = True) -> Prepared:
        prompts = request["prompts"]
        verdict = self._content_policy.check(prompts["instruction"])
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
        inputs = self._cache_reads.read(tenant, guessed_key)
        document = self._canon.latest(tenant, cached=inputs.canon_item, cache_read=True)
        fonts = tuple(self._fonts.fonts(tenant, summary=inputs.fonts))
        version = document.version if document else None
        fingerprint = tuple(fonts_fingerprint(list(fonts)))
        self._last_seen[tenant.partition_key] = (version, fingerprint)
        key = self._cache_key(tenant, request, version, fingerprint)
        entry = None
        if lookup_cache:
            entry = self._plans.from_item(inputs.plan_item) if key == guessed_key else self._plans.get(key)

        resolved = resolve_constraints(document.canon if document else None, request.get("constraints"))
        if resolved.blocking:
            raise ValidationFailed(
                "the request's constraints conflict with the brand canon; fix them or set constraints.override",
                code="canon_conflict",
                details={"canon_version": version,
                         "conflicts": [conflict.as_details() for conflict in resolved.conflicts]})
        return Prepared(tenant, request, document, resolved, fonts, tuple(verdict.review_notes()), key, entry,
                        lookup_cache)

    def _cache_key(self, tenant: Tenant, request: NormalisedRequest, version: int | None,
                   fingerprint: tuple[str, ...]) -> str:
        return plan_cache_key(tenant, version, self._gateway.engine, request, list(fingerprint),
                              self.critique_policy.fingerprint)

    # -- run: plan, imagery, design, store ----------------------------------------------------------------
    async def run(self, prepared: Prepared, *, deadline: Deadline, trace_id: str,
                  on_asset: Callable[[int, int], bool] | None = None) -> RenderOutcome:
        """Renders and stores every asset. on_asset(done, total) returning False cancels (JobCancelled)."""
        tenant, request = prepared.tenant, prepared.request
        entry = prepared.cache_entry if prepared.cache_looked_up else self._plans.get(prepared.cache_key)
        if entry is not None and entry.result is not None:
            return self._replay(prepared, entry, entry.result, trace_id)

        auto_repair = request.get("auto_repair")
        repairing = auto_repair if isinstance(auto_repair, bool) else self.critique_policy.auto_repair_default
        # The render's worst case is held before its first paid call: a render the org's budget cannot hold is
        # refused (429) before any provider is called, never after paying for its plan.
        async with self._gateway.budget(tenant, self.model_calls(request, planned=entry is not None,
                                                                 repairing=repairing)):
            return await self._run(prepared, entry, repairing, deadline=deadline, trace_id=trace_id,
                                   on_asset=on_asset)

    def model_calls(self, request: NormalisedRequest, *, planned: bool, repairing: bool) -> dict[Task, int]:
        """The model calls a render makes at most: its plan (unless cached), its imagery (unless it edits a
        reference), and a re-plan per repair attempt of each asset. Its critique is measured, not a model call."""
        count = int(request["outputs"]["count"])
        repairs = count * self.critique_policy.max_repair_attempts if repairing else 0
        imagery = request["prompts"]["task"] not in ("edit", "variations")
        return {"planner": (0 if planned else 1) + repairs, "image": 1 if imagery else 0}

    async def _run(self, prepared: Prepared, entry: PlanCacheEntry | None, auto_repair: bool, *, deadline: Deadline,
                   trace_id: str, on_asset: Callable[[int, int], bool] | None) -> RenderOutcome:
        tenant, request = prepared.tenant, prepared.request
        canon = prepared.canon_fields
        key = prepared.cache_key
        results: list[GatewayResult] = []
        cache_state: CacheState
        if entry is not None:
            plan, cache_state = entry.plan, "hit"
        else:
            planned = await self._gateway.plan(tenant=tenant, instruction=request["prompts"]["instruction"],
                                               canon=canon, request=request, deadline=deadline)
            results.append(planned)
            plan, cache_state = planned.output, "miss"
            self._plans.put(key, PlanCacheEntry(plan, audit_fields(planned)))

        imagery, imagery_results, imagery_notes = await self._imagery(prepared, plan, deadline)
        results += imagery_results
        brand = await asyncio.to_thread(self._brand.load, tenant, canon, list(prepared.fonts))
        render = _RenderRun(prepared, plan, brand, imagery, uuid.uuid4().hex,
                            await asyncio.to_thread(self._critic_for, canon, prepared.constraints, brand.logo),
                            auto_repair, deadline)
        stored = await self._render_all(render, on_asset)
        results += render.results

        cached = CachedRender(render.render_id, stored, list(brand.notes) + imagery_notes + render.notes,
                              render.repairs)
        plan_audit = entry.plan_audit if entry is not None and entry.plan_audit else audit_fields(*results[:1])
        self._plans.put(key, PlanCacheEntry(plan, plan_audit, cached))
        notes = list(prepared.constraints.notes) + list(prepared.notes) + cached.notes
        if cache_state == "hit":
            notes.append("plan from the plan cache: no planning model call")
        return self._respond(render.render_id, stored, plan, cache_state, trace_id, notes, audit_fields(*results),
                             render.repairs)

    async def _imagery(self, prepared: Prepared, plan: RenderPlan,
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
        if image is not None:
            return image.data, [generated], []
        brand = await asyncio.to_thread(self._brand_imagery, prepared)
        return (brand[0], [generated], [brand[1]]) if brand is not None else (None, [generated], [])

    def _brand_imagery(self, prepared: Prepared) -> tuple[bytes, str] | None:
        """Without generated imagery (no model key), the brand's own pictures fill the picture areas: the request's
        first image reference, else one of the project's brand imagery, chosen by the instruction (so a request
        keeps its picture and different requests vary). None: the engine draws the brand graphic instead."""
        references = prepared.request["prompts"]["references"]
        if references:
            reference = self._references.load_image(prepared.tenant, references[0])
            return reference.data, f"imagery: the first reference ({reference.source})"
        pictures = self._assets.imagery(prepared.tenant)
        if not pictures:
            return None
        digest = hashlib.sha256(prepared.request["prompts"]["instruction"].encode()).digest()
        chosen = pictures[int.from_bytes(digest[:4], "big") % len(pictures)]
        return self._storage.get(chosen.key), f"imagery: the brand's picture {chosen.asset_id}"

    async def _render_all(self, render: _RenderRun,
                          on_asset: Callable[[int, int], bool] | None) -> list[StoredAsset]:
        count = int(render.prepared.request["outputs"]["count"])
        pending = [asyncio.ensure_future(self._produce(render, index)) for index in range(count)]
        stored: list[StoredAsset] = []
        try:
            for finished in asyncio.as_completed(pending):
                stored.append(await finished)
                if on_asset is not None and not await asyncio.to_thread(on_asset, len(stored), count):
                    raise JobCancelled
        finally:
            for task in pending:
                task.cancel()  # renders not started yet never run; a store already running finishes
        return sorted(stored, key=lambda asset: int(asset.key.rsplit("/", 1)[1].split(".")[0]))

    async def _produce(self, render: _RenderRun, index: int) -> StoredAsset:
        """Renders asset `index` and critiques it; below the policy's threshold (with auto_repair) re-plans with the
        violations found so far and renders again, up to the policy's attempts; stores the best-scoring attempt."""
        loop = asyncio.get_running_loop()
        asset_id = f"{render.render_id}-{index}"
        best = await loop.run_in_executor(self._pool, self._attempt, render, render.plan, index, 0)
        attempts = [best]
        policy = render.critic.policy if render.critic else None
        while policy is not None and render.auto_repair and best.critique is not None \
                and best.score < policy.repair_threshold and len(attempts) <= policy.max_repair_attempts:
            number = len(attempts)
            if render.deadline.remaining_ms() < REPAIR_MIN_REMAINING_MS:
                render.notes.append(f"asset {asset_id} was not repaired further: too little time left")
                break
            repair: RepairRequest = {"attempt": number, "violations": _violations_so_far(attempts)}
            request: NormalisedRequest = {**render.prepared.request, "repair": repair}
            canon = render.prepared.canon_fields
            try:
                planned = await self._gateway.plan(tenant=render.prepared.tenant,
                                                   instruction=request["prompts"]["instruction"], canon=canon,
                                                   request=request, deadline=render.deadline)
            except ApiError as error:  # the delivered asset stays the best one so far
                render.notes.append(f"repair attempt {number} of asset {asset_id} could not be planned: "
                                    f"{error.message}")
                break
            render.results.append(planned)
            attempt = await loop.run_in_executor(self._pool, self._attempt, render, planned.output, index, number)
            attempt.changes = plan_changes(attempts[-1].plan, attempt.plan)
            attempts.append(attempt)
            if attempt.score > best.score:
                best = attempt
        if len(attempts) > 1:
            render.repairs.extend(_repair_records(asset_id, attempts, best))
        return await loop.run_in_executor(self._pool, self._store, render, best, index)

    def _attempt(self, render: _RenderRun, plan: RenderPlan, index: int, number: int) -> _Attempt:
        from sgd.design.engine import DesignRequest, render_design  # numpy and Pillow: only where rendering
        from sgd.design.request import BrandLook, LogoVersion

        request, constraints = render.prepared.request, render.prepared.constraints
        width, height = (int(side) for side in request["outputs"]["dimensions"].split("x"))
        design = render_design(DesignRequest(
            plan=plan, width=width, height=height, format=request["outputs"]["format"],
            palette=constraints.palette, fonts=constraints.fonts, logo=render.brand.logo,
            logo_versions=tuple(LogoVersion(version.data, version.use_on, version.asset_id)
                                for version in render.brand.logo_versions),
            logo_safe_zone_pct=constraints.logo_safe_zone_pct, seed=index, imagery=render.imagery,
            project_fonts=render.brand.fonts, look=BrandLook.of(render.prepared.canon_fields)))
        critique = None
        if render.critic is not None:
            started = time.perf_counter()
            try:
                critique = render.critic.measure(design)
            except Exception:  # a critic defect must not cost the client a finished design
                logger.exception("the critique of a rendered asset failed", extra={"render_id": render.render_id,
                                                                                  "index": index})
                render.notes.append(f"asset {render.render_id}-{index} could not be critiqued; it was not repaired")
            logger.debug("asset critiqued", extra={"critique_ms": round((time.perf_counter() - started) * 1000, 1),
                                                   "width": width, "height": height})
        return _Attempt(number, plan, design, critique)

    def _store(self, render: _RenderRun, attempt: _Attempt, index: int) -> StoredAsset:
        tenant, design = render.prepared.tenant, attempt.design
        key = tenant.render_key(render.render_id, index, design.format)
        self._storage.put(key, design.data, content_type=design.mime)
        asset_id = f"{render.render_id}-{index}"
        self._assets.save(AssetRecord(
            org=tenant.org, project=tenant.project, asset_id=asset_id, key=key, status="admitted",
            created_at=self._clock.now().isoformat(), kind="render", content_type=design.mime, format=design.format,
            size=len(design.data), width=design.width, height=design.height, render_id=render.render_id,
            layout=design.layout, critique=attempt.critique, sha256=hashlib.sha256(design.data).hexdigest()))
        return StoredAsset(asset_id, key, design.width, design.height, cast(OutputFormat, design.format), design.layout,
                           design.font_substitutions, design.notes, attempt.critique)

    # -- responses ----------------------------------------------------------------------------------------
    def _replay(self, prepared: Prepared, entry: PlanCacheEntry, result: CachedRender,
                trace_id: str) -> RenderOutcome:
        planned_by = ", ".join(entry.plan_audit.get("model_route") or []) or "unknown"
        notes = list(prepared.constraints.notes) + list(prepared.notes) + list(result.notes)
        notes.append(f"served from the render cache: no model calls and no re-render (planned by {planned_by})")
        return self._respond(result.render_id, result.assets, entry.plan, "hit", trace_id, notes, audit_fields(),
                             list(result.repairs))

    def _respond(self, render_id: str, stored: list[StoredAsset], plan: RenderPlan,
                 cache_state: CacheState, trace_id: str, notes: list[str], audit: dict[str, Any],
                 repairs: list[dict[str, Any]]) -> RenderOutcome:
        substitutions: dict[tuple[str, str], dict[str, str]] = {}
        for asset in stored:
            notes += asset.notes
            for substitution in asset.font_substitutions:
                substitutions.setdefault((substitution["requested"], substitution["used"]), substitution)
        assets = [RenderedAsset(id=asset.id, url=self.presign(asset.key), width=asset.width, height=asset.height,
                                format=asset.format, synthid=SynthId(present=False, payload=None),
                                layout=AssetLayout.model_validate(asset.layout),
                                critique=AssetCritiqueSummary.model_validate(asset.critique) if asset.critique
                                else None) for asset in stored]
        response = RenderResponse(render_id=render_id, assets=assets, audit=RenderAudit(
            trace_id=trace_id, guardrails_ok=True, verified_by="none", cache=cache_state, plan=dict(plan),
            font_substitutions=[FontSubstitution.model_validate(s) for s in substitutions.values()],
            repairs=[RepairAttempt.model_validate(repair) for repair in repairs],
            notes=list(dict.fromkeys(notes)), **audit))
        return RenderOutcome(response, {asset.id: asset.key for asset in stored})

    def presign(self, key: str) -> str:
        return self._storage.presign_get(key, ttl_seconds=self._presign_ttl)


def _violations_so_far(attempts: list[_Attempt]) -> list[dict[str, Any]]:
    """Every attempt's violations, the latest first and each once: a re-plan keeps the earlier fixes."""
    seen: dict[tuple[str, str, tuple[int, ...] | None], dict[str, Any]] = {}
    for attempt in reversed(attempts):
        for finding in (attempt.critique or {}).get("violations") or []:
            box = tuple(finding["box"]) if finding.get("box") is not None else None
            seen.setdefault((finding["kind"], finding["message"], box), finding)
    return list(seen.values())


def _repair_records(asset_id: str, attempts: list[_Attempt], kept: _Attempt) -> list[dict[str, Any]]:
    records = []
    for attempt in attempts:
        critique = attempt.critique or {}
        kinds = list(dict.fromkeys(finding["kind"] for finding in critique.get("violations") or []))
        records.append({"asset_id": asset_id, "attempt": attempt.number, "score": attempt.score,
                        "passed": bool(critique.get("passed")), "violation_kinds": kinds,
                        "changes": attempt.changes, "kept": attempt is kept})
    return records
