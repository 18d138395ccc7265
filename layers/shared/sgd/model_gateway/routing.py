"""The policy-routed gateway: primary model, then fallbacks; retries with backoff; deadlines; one schema repair;
cost accounting against the org's budget; a trace subsegment, metrics and a log line (prompt hash only) per call.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import contextvars
import dataclasses
import hashlib
import json
import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from sgd.adapters.clock import Deadline, monotonic_ms
from sgd.contracts.shapes import BrandCanon, NormalisedRequest
from sgd.errors import ApiError, ProviderError, ServiceUnavailable, UpstreamTimeout, ValidationFailed
from sgd.guardrails import GuardrailsError
from sgd.model_gateway.budget import BudgetHold, UsageAccounting
from sgd.model_gateway.openrouter import AttemptFailure, Completion, OpenRouterClient
from sgd.model_gateway.policy import GatewayPolicy, Task, TaskPolicy
from sgd.model_gateway.port import CallRecord, CostSource, Engine, GatewayResult, GeneratedImage, ImageInput
from sgd.model_gateway.prompts import (
    Messages,
    canon_content,
    critic_content,
    image_request,
    planner_content,
    read_structured,
    repair_messages,
    structured_request,
)
from sgd.observability import logger, model_call_metrics, traced
from sgd.tenancy import Tenant

_CHARS_PER_TOKEN = 3  # a pessimistic estimate (real text averages ~4), so the output cap keeps under budget
_IMAGE_INPUT_TOKENS = 1_500
_IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}


# The operation's budget hold (see OpenRouterGateway.budget): set for the operation's task, inherited by the tasks it
# starts (a render's assets), read by every call it makes.
_HOLD: contextvars.ContextVar[BudgetHold | None] = contextvars.ContextVar("sgd_budget_hold", default=None)


class ContentRefused(ValidationFailed):
    code = "content_refused"


def prompt_hash(payload: dict[str, Any]) -> str:
    """What the logs carry instead of prompt text."""
    return hashlib.sha256(json.dumps(payload.get("messages"), sort_keys=True).encode()).hexdigest()[:16]


def estimated_prompt_tokens(payload: dict[str, Any]) -> int:
    text_chars, images = 0, 0
    for message in payload["messages"]:
        content = message["content"]
        for part in content if isinstance(content, list) else [{"type": "text", "text": content}]:
            if part.get("type") == "image_url":
                images += 1
            else:
                text_chars += len(part.get("text") or "")
    return math.ceil(text_chars / _CHARS_PER_TOKEN) + images * _IMAGE_INPUT_TOKENS


def decode_image(data_url: str, *, max_bytes: int, max_pixels: int) -> GeneratedImage:
    """A generated image from its data URL: size-capped before decoding, signature and pixels verified."""
    header, _, encoded = data_url.partition(",")
    if not header.startswith("data:image/") or not header.endswith(";base64"):
        raise AttemptFailure("invalid_output", "the image is not a base64 data URL")
    if len(encoded) > (max_bytes * 4) // 3 + 4:
        raise AttemptFailure("invalid_output", f"the image is larger than {max_bytes} bytes")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise AttemptFailure("invalid_output", "the image's base64 is corrupt") from error
    mime = next((kind for signature, kind in _IMAGE_SIGNATURES.items() if data.startswith(signature)), None)
    if mime is None or (mime == "image/webp" and data[8:12] != b"WEBP"):
        raise AttemptFailure("invalid_output", "the image bytes are not PNG, JPEG or WebP")
    from io import BytesIO

    from PIL import Image  # imaging layer: only the functions that generate images load it

    try:
        with Image.open(BytesIO(data)) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise AttemptFailure("invalid_output", f"the image has more than {max_pixels} pixels")
            image.verify()
    except (OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise AttemptFailure("invalid_output", f"the image does not decode: {type(error).__name__}") from error
    return GeneratedImage(data=data, mime=mime, width=width, height=height)


class OpenRouterGateway:
    engine: Engine = "openrouter"

    def __init__(self, policy: GatewayPolicy, client: OpenRouterClient, accounting: UsageAccounting, *,
                 local_fallback: Any = None, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 random_fraction: Callable[[], float] = random.random) -> None:
        self.policy = policy
        self.client = client
        self.accounting = accounting
        self.local_fallback = local_fallback
        self._sleep = sleep
        self._random_fraction = random_fraction

    # -- an operation's budget --------------------------------------------------------------------------------

    def worst_case_usd(self, calls: Mapping[Task, int]) -> float:
        """What `calls` cost at most at the policy's caps: one answer per call (retries, fallbacks and schema
        repairs after an invalid answer are extra, reserved per call when they happen)."""
        return round(sum(self.policy.tasks[task].max_cost_usd * count for task, count in calls.items()), 6)

    @contextlib.asynccontextmanager
    async def budget(self, tenant: Tenant, calls: Mapping[Task, int]) -> AsyncIterator[float]:
        """Reserves an operation's worst case before its first paid call (429 budget_exceeded when the org's
        budget cannot hold it, before any provider is called); its calls draw from it and settle against it; what
        is left is given back at the end. Yields the amount held."""
        usd = self.worst_case_usd(calls)
        if usd <= 0:
            yield 0.0
            return
        hold = await self.accounting.hold(tenant, usd)
        token = _HOLD.set(hold)
        try:
            yield usd
        finally:
            _HOLD.reset(token)
            await _bookkeeping("budget hold release", self.accounting.end_hold(hold), org=hold.org, day=hold.day,
                               held_micros=hold.held)

    # -- the four tasks -------------------------------------------------------------------------------------

    async def plan(self, *, tenant: Tenant, instruction: str, canon: BrandCanon | None,
                   request: NormalisedRequest, deadline: Deadline) -> GatewayResult:
        return await self._structured("planner", tenant, deadline, planner_content(instruction, canon, request),
                                      lambda: self.local_fallback.plan(tenant=tenant, instruction=instruction,
                                                                       canon=canon, request=request,
                                                                       deadline=deadline))

    async def extract_canon(self, *, tenant: Tenant, evidence: list[dict[str, Any]],
                            deadline: Deadline) -> GatewayResult:
        return await self._structured("canon", tenant, deadline, canon_content(evidence),
                                      lambda: self.local_fallback.extract_canon(tenant=tenant, evidence=evidence,
                                                                                deadline=deadline))

    async def critique(self, *, tenant: Tenant, image: ImageInput, canon: BrandCanon,
                       deadline: Deadline) -> GatewayResult:
        return await self._structured("critic", tenant, deadline, critic_content(image, canon),
                                      lambda: self.local_fallback.critique(tenant=tenant, image=image, canon=canon,
                                                                           deadline=deadline))

    async def generate_image(self, *, tenant: Tenant, prompt: str, width: int, height: int,
                             deadline: Deadline) -> GatewayResult:
        payload = image_request(prompt, width, height)

        async def from_model(model: str, calls: list[CallRecord]) -> GeneratedImage:
            completion = await self._call_with_retries("image", model, payload, tenant, deadline, calls)
            try:
                if not completion.images:
                    raise AttemptFailure("invalid_output", "the answer carries no image")
                return decode_image(completion.images[0], max_bytes=self.policy.image_max_bytes,
                                    max_pixels=self.policy.image_max_pixels)
            except AttemptFailure:
                calls[-1] = _with_outcome(calls[-1], "invalid_output")
                raise

        return await self._route("image", tenant, from_model, lambda: self.local_fallback.generate_image(
            tenant=tenant, prompt=prompt, width=width, height=height, deadline=deadline))

    # -- routing --------------------------------------------------------------------------------------------

    async def _structured(self, task: Task, tenant: Tenant, deadline: Deadline, user_content: Any,
                          local: Callable[[], Awaitable[GatewayResult]]) -> GatewayResult:
        messages, response_format = structured_request(task, user_content)

        async def from_model(model: str, calls: list[CallRecord]) -> Any:
            return await self._structured_from_model(task, model, messages, response_format, tenant, deadline, calls)

        return await self._route(task, tenant, from_model, local)

    async def _route(self, task: Task, tenant: Tenant,
                     from_model: Callable[[str, list[CallRecord]], Awaitable[Any]],
                     local: Callable[[], Awaitable[GatewayResult]]) -> GatewayResult:
        """Primary, then each fallback; fatal failures stop at once; the exhausted case maps to one clear error."""
        calls: list[CallRecord] = []
        failures: list[tuple[str, AttemptFailure]] = []
        try:
            for index, model in enumerate(self.policy.tasks[task].models):
                try:
                    output = await from_model(model, calls)
                except AttemptFailure as failure:
                    failures.append((model, failure))
                    if not failure.try_next_model:
                        raise _fatal_error(task, model, failure, calls) from None
                    continue
                if index:
                    model_call_metrics(task, model, fallback_used=True)
                return GatewayResult(output, calls)
            if self.local_fallback is not None:
                return await self._serve_locally(task, calls, failures, local)
            raise _exhausted_error(task, failures, calls)
        finally:
            if calls:
                await self._record_usage(tenant, task, calls)

    async def _record_usage(self, tenant: Tenant, task: Task, calls: list[CallRecord]) -> None:
        records, cost = [call.as_audit() for call in calls], sum(call.cost_usd for call in calls)
        await _bookkeeping("usage ledger write", self.accounting.record(tenant, task, records, cost),
                           task=task, cost_usd=cost, calls=records)

    async def _serve_locally(self, task: Task, calls: list[CallRecord], failures: list[tuple[str, AttemptFailure]],
                             local: Callable[[], Awaitable[GatewayResult]]) -> GatewayResult:
        """The policy's explicit local fallback: audited as local_fallback after the provider's failures."""
        logger.warning("serving local output after provider failures (policy local_fallback)",
                       extra={"task": task, "failures": [f"{model}: {failure.kind}" for model, failure in failures]})
        result = await local()
        local_calls = [_with_outcome(call, "local_fallback") for call in result.calls]
        return GatewayResult(result.output, [*calls, *local_calls])

    async def _structured_from_model(self, task: Task, model: str, messages: Messages,
                                     response_format: dict[str, Any], tenant: Tenant, deadline: Deadline,
                                     calls: list[CallRecord]) -> Any:
        payload = {"messages": messages, "response_format": response_format}
        completion = await self._call_with_retries(task, model, payload, tenant, deadline, calls)
        document, errors = read_structured(task, completion.content)
        if not errors:
            return document
        calls[-1] = _with_outcome(calls[-1], "invalid_output")
        if not (completion.content or "").strip():
            # Nothing to repair: a repair turn would send an empty assistant message and pay for a second guess.
            raise AttemptFailure("invalid_output", f"{model} gave an empty answer "
                                 f"(finish_reason {completion.finish_reason!r})", errors=errors)
        repair = {"messages": repair_messages(messages, completion.content, errors),
                  "response_format": response_format}
        completion = await self._call_with_retries(task, model, repair, tenant, deadline, calls)
        document, errors = read_structured(task, completion.content)
        if not errors:
            calls[-1] = _with_outcome(calls[-1], "repaired")
            return document
        calls[-1] = _with_outcome(calls[-1], "invalid_output")
        raise AttemptFailure("invalid_output", f"{model}'s answer fails guardrails after one repair", errors=errors)

    async def _call_with_retries(self, task: Task, model: str, payload: dict[str, Any], tenant: Tenant,
                                 deadline: Deadline, calls: list[CallRecord]) -> Completion:
        """Up to retry.max_attempts requests to one model; waits (Retry-After or jittered backoff) must fit."""
        spec = self.policy.tasks[task]
        for attempt in range(1, self.policy.max_attempts + 1):
            try:
                return await self._call_once(task, spec, model, payload, tenant, deadline, calls)
            except AttemptFailure as failure:
                if not failure.retry_same_model or attempt == self.policy.max_attempts:
                    raise
                if failure.retry_after_ms is not None:
                    wait_ms = failure.retry_after_ms
                    if wait_ms > self.policy.max_retry_after_ms:
                        raise  # the model asks for longer than we wait: the next model may answer now
                else:
                    wait_ms = self.policy.backoff_ms(attempt, self._random_fraction())
                if wait_ms + self.policy.min_attempt_ms > self._time_left_ms(deadline):
                    raise
                await self._sleep(wait_ms / 1000)
        raise AssertionError("unreachable: the loop returns or raises")

    def _time_left_ms(self, deadline: Deadline) -> float:
        return deadline.remaining_ms() - self.policy.safety_margin_ms

    async def _call_once(self, task: Task, spec: TaskPolicy, model: str, payload: dict[str, Any], tenant: Tenant,
                         deadline: Deadline, calls: list[CallRecord]) -> Completion:
        time_left = self._time_left_ms(deadline)
        if time_left < self.policy.min_attempt_ms:
            raise UpstreamTimeout(f"not enough time left for a {task} model call before the function's deadline",
                                  details=_details(task, calls))
        # Every request, the image's too, is bounded to its cap: max_tokens from the policy's prices.
        body = {"model": model, **payload, "max_tokens": self._max_output_tokens(spec, model, payload)}
        timeout_ms = min(spec.timeout_ms, time_left)
        reservation = await self.accounting.draw(tenant, _HOLD.get(), spec.max_cost_usd)
        started = monotonic_ms()
        attempt = len(calls) + 1
        async with traced(f"## model {task}", annotations={"task": task, "model": model, "attempt": attempt}):
            try:
                completion = await self.client.complete(body, timeout_s=timeout_ms / 1000)
            except BaseException as error:
                latency = monotonic_ms() - started
                await _bookkeeping("budget release", self.accounting.release(reservation), org=reservation.org,
                                   day=reservation.day, reserved_micros=reservation.micros)
                if isinstance(error, AttemptFailure):
                    calls.append(CallRecord(model, attempt, latency, 0, 0.0, error.kind))
                    self._log_call(task, model, attempt, body, calls[-1], error.message)
                raise
        latency = monotonic_ms() - started
        cost, source = self._cost(spec, model, completion)
        await _bookkeeping("budget settle", self.accounting.settle(reservation, cost, cap_usd=spec.max_cost_usd),
                           org=reservation.org, day=reservation.day, reserved_micros=reservation.micros,
                           cost_usd=cost, model=model)
        calls.append(CallRecord(model, attempt, latency, completion.tokens, cost, "ok", source))
        self._log_call(task, model, attempt, body, calls[-1])
        return completion

    def _max_output_tokens(self, spec: TaskPolicy, model: str, payload: dict[str, Any]) -> int:
        """The output cap that keeps a call within its max_cost_usd at the policy's prices."""
        price = self.policy.prices.get(model)
        if price is None or price.output_per_million == 0:
            return spec.max_output_tokens
        prompt_tokens = estimated_prompt_tokens(payload)
        prompt_cost = prompt_tokens * price.input_per_million / 1_000_000
        affordable = math.floor((spec.max_cost_usd - prompt_cost) * 1_000_000 / price.output_per_million)
        if affordable < 64:
            raise ValidationFailed(
                f"the input is too large for the {model} call's cost cap of ${spec.max_cost_usd}",
                code="cost_cap_exceeded", details={"model": model, "max_cost_usd": spec.max_cost_usd,
                                                   "estimated_prompt_tokens": prompt_tokens})
        return min(spec.max_output_tokens, affordable)

    def _cost(self, spec: TaskPolicy, model: str, completion: Completion) -> tuple[float, CostSource]:
        source: CostSource
        if completion.reported_cost_usd is not None:
            cost, source = completion.reported_cost_usd, "provider"
        elif model in self.policy.prices:
            cost = self.policy.prices[model].cost_usd(completion.prompt_tokens, completion.completion_tokens)
            source = "price_table"
        else:
            cost, source = spec.max_cost_usd, "cap"  # unknown price: charge the worst case, never zero
        if cost > spec.max_cost_usd:
            logger.warning("model call cost more than its cap", extra={"model": model, "cost_usd": cost,
                                                                       "max_cost_usd": spec.max_cost_usd})
        return cost, source

    def _log_call(self, task: str, model: str, attempt: int, body: dict[str, Any], call: CallRecord,
                  failure_message: str | None = None) -> None:
        model_call_metrics(task, model, latency_ms=call.latency_ms, cost_usd=call.cost_usd,
                           failure_reason=None if call.outcome == "ok" else call.outcome)
        logger.info("model call", extra={
            "task": task, "model": model, "attempt": attempt, "outcome": call.outcome,
            "latency_ms": round(call.latency_ms, 1), "tokens": call.tokens, "cost_usd": call.cost_usd,
            "cost_source": call.cost_source, "prompt_sha256": prompt_hash(body), "failure": failure_message})


async def _bookkeeping(step: str, operation: Awaitable[None], **context: Any) -> None:
    """Budget and ledger writes after a provider call must not lose its answer (already paid for) or hide its
    error: a failed write is logged with what reconciling it needs. A reservation left held errs on the safe
    side: it only lowers the org's headroom until the day ends."""
    try:
        await operation
    except Exception:
        logger.exception(f"{step} failed", extra=context)


def _with_outcome(call: CallRecord, outcome: str) -> CallRecord:
    return dataclasses.replace(call, outcome=outcome)


def _details(task: str, calls: list[CallRecord], **extra: Any) -> dict[str, Any]:
    return {"task": task, **extra, "attempts": [call.as_audit() for call in calls]}


def _fatal_error(task: str, model: str, failure: AttemptFailure, calls: list[CallRecord]) -> ApiError:
    if failure.kind in ("moderation", "refused"):
        return ContentRefused(f"{model} refused the {task} request: {failure.message}; rephrase the instruction",
                              details=_details(task, calls, model=model))
    reasons = {
        "auth": "the provider rejected the API key (check OPENROUTER_API_KEY_SECRET_ARN)",
        "payment_required": "the provider account has insufficient credits",
        "bad_request": "the provider rejected the request",
    }
    return ProviderError(f"{reasons.get(failure.kind, failure.kind)}: {failure.message}",
                         code=f"provider_{failure.kind}", details=_details(task, calls, model=model,
                                                                           status=failure.status))


def _exhausted_error(task: str, failures: list[tuple[str, AttemptFailure]], calls: list[CallRecord]) -> ApiError:
    kinds = {failure.kind for _, failure in failures}
    summary = "; ".join(f"{model}: {failure.kind} ({failure.message})" for model, failure in failures)
    if kinds == {"invalid_output"} and task != "image":
        return GuardrailsError(
            f"every {task} model's answer failed guardrails after repair",
            details=_details(task, calls, errors=failures[-1][1].errors))
    if kinds == {"timeout"}:
        return UpstreamTimeout(f"every {task} model timed out: {summary}", details=_details(task, calls))
    if kinds <= {"rate_limited", "model_unavailable"} or all(f.status == 503 for _, f in failures):
        waits = [f.retry_after_ms for _, f in failures if f.retry_after_ms is not None]
        headers = {"Retry-After": str(math.ceil(min(waits) / 1000))} if waits else None
        return ServiceUnavailable(f"no {task} model is available right now: {summary}",
                                  details=_details(task, calls), headers=headers)
    return ProviderError(f"every {task} model failed: {summary}", details=_details(task, calls))
