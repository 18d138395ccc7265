"""The policy-routed model gateway against a loopback fake OpenRouter and the embedded DynamoDB (usage table).

Every routing branch, deadlines, structured-output repair, cost from both sources, the org budget under
concurrency, image output, and what reaches the logs.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import io
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sgd.adapters.clock import Deadline
from sgd.errors import ApiError
from sgd.model_gateway.budget import BudgetStatus, UsageAccounting
from sgd.model_gateway.openrouter import AttemptFailure, OpenRouterClient
from sgd.model_gateway.policy import GatewayPolicy
from sgd.model_gateway.port import ImageInput
from sgd.model_gateway.routing import OpenRouterGateway
from sgd.resources import load_json
from sgd.tenancy import Tenant

from bench.support.fake_openrouter import FakeOpenRouter, Reply
from bench.support.seeds import runtime_adapters
from tests.conftest import run_async

pytestmark = pytest.mark.integration

API_KEY = "sk-or-v1-test-" + "k" * 40
PRIMARY, SECOND, THIRD = "openai/gpt-4o-mini", "anthropic/claude-3.5-haiku", "google/gemini-2.0-flash-001"
VALID_PLAN = {"goal": "Announce the spring sale on a square post", "ops": ["text_overlay"],
              "safety": {"respect_logo_safe_zone": True, "palette_only": True}}
CANON = {"palette_hex": ["#0B3D2E", "#F2E8CF"], "fonts": ["Inter"], "voice": {"tone": "warm"}}
SECRET_INSTRUCTION = "Spring sale poster with the words 'Zanzibar-Quokka-7731'"
PLANNER_CAP = 0.02


def policy_document(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(load_json("policies", "openrouter_policy.json"))
    document["retry"]["backoff_ms"] = {"base": 10, "max": 40, "jitter": True}
    document["deadline"] = {"safety_margin_ms": 200, "min_attempt_ms": 50}
    for path, value in changes.items():
        node = document
        *parents, leaf = path.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = value
    return document


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenRouter]:
    with FakeOpenRouter() as server:
        yield server


class TimeoutRecordingClient(OpenRouterClient):
    """The real client, recording how long the gateway let each attempt wait (its decision, not a measured time)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attempt_timeouts_s: list[float] = []

    async def complete(self, payload: dict[str, Any], *, timeout_s: float) -> Any:
        self.attempt_timeouts_s.append(timeout_s)
        return await super().complete(payload, timeout_s=timeout_s)


class Harness:
    """A gateway wired to the fake provider and the embedded usage table; sleeps are recorded, not slept, and so
    is the timeout of each attempt."""

    def __init__(self, fake: FakeOpenRouter, usage_table: Any, **policy_changes: Any) -> None:
        self.policy = GatewayPolicy.from_document(policy_document(**policy_changes))
        self.tenant = Tenant(f"org{uuid.uuid4().hex[:10]}", "launch")
        self.sleeps: list[float] = []
        self.accounting = UsageAccounting.over(usage_table, daily_limit_usd=self.policy.org_daily_budget_usd,
                                               thresholds=self.policy.budget_thresholds)

        async def record_sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        self.client = TimeoutRecordingClient(fake.base_url, lambda: API_KEY)
        self.gateway = OpenRouterGateway(self.policy, self.client, self.accounting, sleep=record_sleep,
                                         random_fraction=lambda: 0.5)

    def plan(self, deadline_ms: float = 20_000) -> Any:
        return run_async(self.gateway.plan(tenant=self.tenant, instruction=SECRET_INSTRUCTION, canon=CANON,
                                             request={"outputs": {"dimensions": "1080x1080"}},
                                             deadline=Deadline(deadline_ms)))

    def plan_error(self, deadline_ms: float = 20_000) -> ApiError:
        with pytest.raises(ApiError) as raised:
            self.plan(deadline_ms)
        return raised.value

    def budget(self) -> BudgetStatus:
        return run_async(self.accounting.status(self.tenant.org))


@pytest.fixture
def harness(fake: FakeOpenRouter, runtime: Any) -> Harness:
    fake.reset()
    return Harness(fake, runtime_adapters(runtime).usage_table)


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the functions' logger writes (JSON lines), captured for the duration of a test."""
    from sgd.observability import logger

    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)
    yield buffer
    logger.registered_handler.setStream(previous)


def outcomes(result_or_error: Any) -> list[tuple[str, str]]:
    """(model, outcome) of each call: from a result's records, or from an error's details."""
    if isinstance(result_or_error, ApiError):
        return [(attempt["model"], attempt["outcome"]) for attempt in result_or_error.details["attempts"]]
    return [(call.model, call.outcome) for call in result_or_error.calls]


# -- routing ----------------------------------------------------------------------------------------------------

def test_primary_answers_with_a_valid_plan(harness: Harness, fake: FakeOpenRouter) -> None:
    fake.script(PRIMARY, Reply.json(VALID_PLAN, cost=0.00042))
    result = harness.plan()
    assert result.output == VALID_PLAN
    assert result.model_route == [PRIMARY]
    assert outcomes(result) == [(PRIMARY, "ok")]
    assert result.cost_usd == pytest.approx(0.00042)
    assert result.calls[0].cost_source == "provider"
    sent = fake.requests_for(PRIMARY)[0]
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.body["response_format"]["type"] == "json_schema"
    assert sent.body["response_format"]["json_schema"]["schema"]["required"] == ["goal", "ops", "safety"]
    assert 64 <= sent.body["max_tokens"] <= harness.policy.tasks["planner"].max_output_tokens
    user_turn = json.loads(sent.body["messages"][-1]["content"])
    assert user_turn["instruction"] == SECRET_INSTRUCTION
    assert user_turn["canon"] == CANON


def test_an_answer_in_content_parts_is_read_as_its_text(harness: Harness, fake: FakeOpenRouter) -> None:
    text = json.dumps(VALID_PLAN)
    fake.script(PRIMARY, Reply.parts({"type": "text", "text": text[:20]}, {"type": "text", "text": text[20:]}))
    result = harness.plan()
    assert result.output == VALID_PLAN
    assert outcomes(result) == [(PRIMARY, "ok")]


def test_retryable_failures_retry_with_backoff_then_fall_back(harness: Harness, fake: FakeOpenRouter) -> None:
    fake.script(PRIMARY, Reply.status(500), Reply.status(502))
    fake.script(SECOND, Reply.json(VALID_PLAN))
    result = harness.plan()
    assert result.model_route == [SECOND]
    assert outcomes(result) == [(PRIMARY, "server_error"), (PRIMARY, "server_error"), (SECOND, "ok")]
    assert [call.attempt for call in result.calls] == [1, 2, 3]
    # One backoff between the primary's two attempts: base 10 ms x full jitter 0.5.
    assert harness.sleeps == [pytest.approx(0.005)]
    assert harness.budget().reserved_usd == 0


def test_every_model_failing_is_a_clear_502_listing_each_attempt(harness: Harness, fake: FakeOpenRouter) -> None:
    for model in (PRIMARY, SECOND, THIRD):
        fake.script(model, Reply.status(502, "upstream down"), Reply.body_error(500, "mid-generation failure"))
    error = harness.plan_error()
    assert (error.status_code, error.code) == (502, "provider_error")
    assert [attempt["model"] for attempt in error.details["attempts"]] == [PRIMARY] * 2 + [SECOND] * 2 + [THIRD] * 2
    assert "mid-generation failure" in error.message
    budget = harness.budget()
    assert (budget.spent_usd, budget.reserved_usd, budget.calls) == (0, 0, 0)
    assert budget.remaining_usd == harness.policy.org_daily_budget_usd


@pytest.mark.parametrize(("status", "code", "http"), [
    (400, "provider_bad_request", 502), (401, "provider_auth", 502), (402, "provider_payment_required", 502),
    (403, "content_refused", 422),
])
def test_non_retryable_statuses_stop_at_once(harness: Harness, fake: FakeOpenRouter, status: int, code: str,
                                             http: int) -> None:
    fake.script(PRIMARY, Reply.status(status, "nope"))
    error = harness.plan_error()
    assert (error.status_code, error.code) == (http, code)
    assert len(fake.requests) == 1  # no retry, no fallback
    assert harness.sleeps == []


@pytest.mark.parametrize("reply", [Reply.refusal("I won't design that."), Reply.refusal(content_filter=True)])
def test_a_refusal_stops_with_a_422_naming_the_model(harness: Harness, fake: FakeOpenRouter, reply: Reply) -> None:
    fake.script(PRIMARY, reply)
    error = harness.plan_error()
    assert (error.status_code, error.code) == (422, "content_refused")
    assert PRIMARY in error.message
    assert fake.requests_for(SECOND) == []


def test_429_retry_after_is_honoured_when_it_fits(harness: Harness, fake: FakeOpenRouter) -> None:
    fake.script(PRIMARY, Reply.status(429, retry_after="1"), Reply.json(VALID_PLAN))
    result = harness.plan()
    assert result.model_route == [PRIMARY]
    assert harness.sleeps == [1.0]


def test_429_retry_after_longer_than_the_policy_allows_moves_to_the_fallback(harness: Harness,
                                                                            fake: FakeOpenRouter) -> None:
    fake.script(PRIMARY, Reply.status(429, retry_after="30"))
    fake.script(SECOND, Reply.json(VALID_PLAN))
    result = harness.plan()
    assert result.model_route == [SECOND]
    assert harness.sleeps == []


def test_429_retry_after_beyond_the_deadline_is_not_waited_for(harness: Harness, fake: FakeOpenRouter) -> None:
    fake.script(PRIMARY, Reply.status(429, retry_after="3"))
    fake.script(SECOND, Reply.json(VALID_PLAN))
    result = harness.plan(deadline_ms=2_500)
    assert result.model_route == [SECOND]
    assert harness.sleeps == []


def test_all_models_rate_limited_is_a_503_with_retry_after(harness: Harness, fake: FakeOpenRouter) -> None:
    for model in (PRIMARY, SECOND, THIRD):
        fake.script(model, Reply.status(429, retry_after="20"))
    error = harness.plan_error()
    assert (error.status_code, error.code) == (503, "service_unavailable")
    assert error.headers["Retry-After"] == "20"


def test_truncated_bodies_and_disconnects_are_retried(harness: Harness, fake: FakeOpenRouter) -> None:
    fake.script(PRIMARY, Reply.truncated(), Reply.disconnect())
    fake.script(SECOND, Reply.json(VALID_PLAN))
    result = harness.plan()
    assert outcomes(result) == [(PRIMARY, "invalid_response"), (PRIMARY, "transport"), (SECOND, "ok")]


# -- structured output repair -------------------------------------------------------------------------------------

def test_one_repair_attempt_fixes_a_schema_invalid_answer(harness: Harness, fake: FakeOpenRouter) -> None:
    fake.script(PRIMARY, Reply.json({"goal": "x", "ops": ["paint"]}), Reply.text("```json\n" + json.dumps(VALID_PLAN)
                                                                                  + "\n```"))
    result = harness.plan()
    assert result.output == VALID_PLAN
    assert outcomes(result) == [(PRIMARY, "invalid_output"), (PRIMARY, "repaired")]
    assert result.model_route == [PRIMARY]
    repair_turn = fake.requests_for(PRIMARY)[1].body["messages"][-1]["content"]
    assert "safety" in repair_turn
    assert "'paint' is not one of" in repair_turn
    assert result.cost_usd == pytest.approx(0.0002)  # both calls are paid for


def test_a_failed_repair_falls_back_to_the_next_model(harness: Harness, fake: FakeOpenRouter) -> None:
    fake.script(PRIMARY, Reply.text("not json at all"), Reply.text('{"goal": "truncated'))
    fake.script(SECOND, Reply.json(VALID_PLAN))
    result = harness.plan()
    assert outcomes(result) == [(PRIMARY, "invalid_output"), (PRIMARY, "invalid_output"), (SECOND, "ok")]


def test_invalid_after_repair_everywhere_is_a_guardrails_error(harness: Harness, fake: FakeOpenRouter) -> None:
    fake.set_default(Reply.json({"goal": "short"}))
    error = harness.plan_error()
    assert (error.status_code, error.code) == (422, "guardrails_error")
    assert any("'ops' is a required property" in line for line in error.details["errors"])
    assert len(fake.requests) == 6  # three models, each answer and its repair


# -- deadlines ------------------------------------------------------------------------------------------------------

def test_no_call_starts_without_time_for_it(harness: Harness, fake: FakeOpenRouter) -> None:
    error = harness.plan_error(deadline_ms=harness.policy.safety_margin_ms + 20)
    assert (error.status_code, error.code) == (504, "upstream_timeout")
    assert fake.requests == []


# How long these take (each stays within its deadline) is measured by bench/timing_budgets.py.

def test_a_slow_provider_is_cut_off_before_the_deadline(harness: Harness, fake: FakeOpenRouter) -> None:
    fake.set_default(Reply.json(VALID_PLAN).after(3.0))
    error = harness.plan_error(deadline_ms=1_200)
    assert (error.status_code, error.code) == (504, "upstream_timeout")
    assert {attempt["outcome"] for attempt in error.details["attempts"]} == {"timeout"}
    # Each attempt may wait only until the safety margin (200 ms) is left, never until the invocation's deadline.
    assert harness.client.attempt_timeouts_s
    assert all(timeout <= (1_200 - harness.policy.safety_margin_ms) / 1000
               for timeout in harness.client.attempt_timeouts_s)


def test_the_task_timeout_bounds_each_attempt(fake: FakeOpenRouter, runtime: Any) -> None:
    fake.reset()
    harness = Harness(fake, runtime_adapters(runtime).usage_table, **{"timeouts_ms.planner": 300})
    fake.script(PRIMARY, Reply.json(VALID_PLAN).after(2.0), Reply.json(VALID_PLAN).after(2.0))
    fake.script(SECOND, Reply.json(VALID_PLAN))
    result = harness.plan()
    assert result.model_route == [SECOND]
    assert outcomes(result)[:2] == [(PRIMARY, "timeout"), (PRIMARY, "timeout")]
    assert harness.client.attempt_timeouts_s[:2] == [0.3, 0.3]  # the task's timeout, not the 20 s left


# -- cost -----------------------------------------------------------------------------------------------------------

def test_cost_falls_back_to_tokens_times_the_price_table(harness: Harness, fake: FakeOpenRouter) -> None:
    fake.script(PRIMARY, Reply.json(VALID_PLAN, cost=None, prompt_tokens=1000, completion_tokens=500))
    result = harness.plan()
    assert result.calls[0].cost_source == "price_table"
    assert result.cost_usd == pytest.approx((1000 * 0.15 + 500 * 0.6) / 1_000_000)
    assert harness.budget().spent_usd == pytest.approx(0.00045)


def test_an_unpriced_model_without_reported_cost_is_charged_its_cap(fake: FakeOpenRouter, runtime: Any) -> None:
    fake.reset()
    harness = Harness(fake, runtime_adapters(runtime).usage_table, **{"tasks.planner.primary": "acme/unpriced-1"})
    fake.script("acme/unpriced-1", Reply.json(VALID_PLAN, cost=None))
    result = harness.plan()
    assert (result.calls[0].cost_source, result.cost_usd) == ("cap", PLANNER_CAP)
    assert fake.requests[0].body["max_tokens"] == harness.policy.tasks["planner"].max_output_tokens


def test_the_output_cap_keeps_a_call_within_max_cost(harness: Harness, fake: FakeOpenRouter) -> None:
    fake.script(PRIMARY, Reply.json(VALID_PLAN))
    harness.plan()
    price = harness.policy.prices[PRIMARY]
    sent = fake.requests[0].body
    prompt_tokens_upper_bound = len(json.dumps(sent["messages"])) // 2
    worst_case = price.cost_usd(prompt_tokens_upper_bound, sent["max_tokens"])
    assert worst_case <= PLANNER_CAP


def test_every_gateway_call_is_recorded_in_the_project_ledger(harness: Harness, fake: FakeOpenRouter,
                                                               runtime: Any) -> None:
    fake.script(PRIMARY, Reply.status(500), Reply.json(VALID_PLAN, cost=0.001))
    harness.plan()
    records = run_async(harness.accounting.ledger(harness.tenant))
    assert len(records) == 1
    assert records[0].task == "planner"
    assert records[0].cost_usd == 0.001
    assert [call["outcome"] for call in records[0].calls] == ["server_error", "ok"]


# -- budget ---------------------------------------------------------------------------------------------------------

def test_twenty_concurrent_calls_never_spend_more_than_a_budget_that_fits_five(fake: FakeOpenRouter,
                                                                               runtime: Any) -> None:
    fake.reset()
    harness = Harness(fake, runtime_adapters(runtime).usage_table, **{"budgets.org_daily_usd": 5 * PLANNER_CAP})
    fake.set_default(Reply.json(VALID_PLAN, cost=PLANNER_CAP).after(0.05))

    async def twenty() -> list[Any]:
        calls = [harness.gateway.plan(tenant=harness.tenant, instruction="Spring sale", canon=CANON, request={},
                                      deadline=Deadline(20_000)) for _ in range(20)]
        return await asyncio.gather(*calls, return_exceptions=True)

    results = run_async(twenty())
    served = [result for result in results if not isinstance(result, BaseException)]
    refused = [result for result in results if isinstance(result, ApiError)]
    assert len(served) == 5
    assert len(refused) == 15
    assert {(error.status_code, error.code) for error in refused} == {(429, "budget_exceeded")}
    assert all(0 < int(error.headers["Retry-After"]) <= 86_400 for error in refused)
    assert len(fake.requests) == 5  # nothing is generated for a refused call
    budget = harness.budget()
    assert budget.spent_usd == pytest.approx(5 * PLANNER_CAP)
    assert budget.spent_usd <= budget.limit_usd
    assert budget.reserved_usd == 0


def test_cheaper_calls_free_their_unused_reservation(fake: FakeOpenRouter, runtime: Any) -> None:
    fake.reset()
    harness = Harness(fake, runtime_adapters(runtime).usage_table, **{"budgets.org_daily_usd": 5 * PLANNER_CAP})
    fake.set_default(Reply.json(VALID_PLAN, cost=PLANNER_CAP / 4))
    for _ in range(12):
        harness.plan()
    budget = harness.budget()
    assert budget.spent_usd == pytest.approx(12 * PLANNER_CAP / 4)
    assert budget.spent_usd <= budget.limit_usd


def test_budget_thresholds_are_announced_once_each(fake: FakeOpenRouter, runtime: Any,
                                                   log_output: io.StringIO) -> None:
    fake.reset()
    harness = Harness(fake, runtime_adapters(runtime).usage_table, **{"budgets.org_daily_usd": 10 * PLANNER_CAP})
    fake.set_default(Reply.json(VALID_PLAN, cost=PLANNER_CAP))
    for _ in range(10):
        harness.plan()
    crossed = [json.loads(line) for line in log_output.getvalue().splitlines()
               if "budget threshold crossed" in line]
    assert [event["threshold_pct"] for event in crossed] == [50, 80, 100]
    assert harness.plan_error().code == "budget_exceeded"


# -- images ---------------------------------------------------------------------------------------------------------

def png(width: int, height: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (11, 61, 46)).save(buffer, "PNG")
    return buffer.getvalue()


def generate(harness: Harness) -> Any:
    return run_async(harness.gateway.generate_image(tenant=harness.tenant, prompt="calm forest", width=1200,
                                                      height=628, deadline=Deadline(20_000)))


def test_a_generated_image_is_decoded_and_verified(harness: Harness, fake: FakeOpenRouter) -> None:
    image_model = harness.policy.tasks["image"].primary
    fake.script(image_model, Reply.image(png(96, 50)))
    result = generate(harness)
    assert (result.output.width, result.output.height, result.output.mime) == (96, 50, "image/png")
    assert result.cost_usd == pytest.approx(0.04)
    sent = fake.requests[0].body
    assert sent["modalities"] == ["image", "text"]
    assert sent["image_config"] == {"aspect_ratio": "16:9"}


def test_an_image_in_content_parts_is_decoded(harness: Harness, fake: FakeOpenRouter) -> None:
    url = f"data:image/png;base64,{base64.b64encode(png(64, 32)).decode()}"
    fake.script(harness.policy.tasks["image"].primary,
                Reply.parts({"type": "text", "text": "Here it is."}, {"type": "image_url", "image_url": url}))
    result = generate(harness)
    assert (result.output.width, result.output.height, result.output.mime) == (64, 32, "image/png")


def test_images_that_are_not_images_or_too_large_are_rejected(fake: FakeOpenRouter, runtime: Any) -> None:
    fake.reset()
    harness = Harness(fake, runtime_adapters(runtime).usage_table, **{"image_output.max_bytes": 2048})
    primary, fallback = harness.policy.tasks["image"].models
    fake.script(primary, Reply.image(b"MZ\x90\x00 not an image"))
    fake.script(fallback, Reply.image(png(400, 400) + b"\x00" * 4096))
    with pytest.raises(ApiError) as raised:
        generate(harness)
    error = raised.value
    assert error.status_code == 502
    assert outcomes(error) == [(primary, "invalid_output"), (fallback, "invalid_output")]
    assert "not PNG, JPEG or WebP" in error.message
    assert "larger than 2048 bytes" in error.message


def test_vision_input_travels_as_a_data_url(harness: Harness, fake: FakeOpenRouter) -> None:
    critique = {"score": 0.9, "violations": [], "repair_suggestions": []}
    fake.script(harness.policy.tasks["critic"].primary, Reply.json(critique))
    result = run_async(harness.gateway.critique(tenant=harness.tenant, image=ImageInput(data=png(8, 8)),
                                                  canon=CANON, deadline=Deadline(20_000)))
    assert result.output == critique
    parts = fake.requests[0].body["messages"][-1]["content"]
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,iVBOR")


# -- logs -----------------------------------------------------------------------------------------------------------

def test_logs_carry_prompt_hashes_never_prompts_or_keys(harness: Harness, fake: FakeOpenRouter,
                                                        log_output: io.StringIO) -> None:
    fake.script(PRIMARY, Reply.status(500, f"echoing {API_KEY}"), Reply.json(VALID_PLAN))
    harness.plan()
    fake.set_default(Reply.status(401, "bad key"))
    error = harness.plan_error()
    logged = log_output.getvalue()
    output = logged + json.dumps(error.details) + error.message
    calls = [json.loads(line) for line in logged.splitlines() if '"model call"' in line]
    assert len(calls) == 3
    assert all(len(call["prompt_sha256"]) == 16 for call in calls)
    assert "Zanzibar-Quokka-7731" not in output
    assert API_KEY not in output
    assert "sk-or-v1" not in output


# -- connection pool ------------------------------------------------------------------------------------------

def test_warm_invocations_reuse_one_pooled_connection(harness: Harness, fake: FakeOpenRouter) -> None:
    fake.set_default(Reply.json(VALID_PLAN))
    loop = asyncio.new_event_loop()  # Mangum runs every invocation of a warm function on the same loop
    try:
        for _ in range(5):
            loop.run_until_complete(harness.gateway.plan(tenant=harness.tenant, instruction="Spring sale",
                                                         canon=CANON, request={}, deadline=Deadline(5_000)))
    finally:
        loop.close()
    assert len(fake.requests) == 5
    assert fake.connections == 1
    harness.plan()  # a new loop (a test's asyncio.run) gets a pool of its own instead of a dead one
    assert fake.connections == 2


def test_an_oversized_response_is_refused_while_it_streams(fake: FakeOpenRouter) -> None:
    fake.reset()
    fake.set_default(Reply.image(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50_000))
    client = OpenRouterClient(fake.base_url, lambda: API_KEY, max_response_bytes=10_000)
    with pytest.raises(AttemptFailure) as raised:
        run_async(client.complete({"model": PRIMARY, "messages": []}, timeout_s=5))
    assert raised.value.kind == "invalid_response"
    assert "larger than 10000 bytes" in raised.value.message


def test_an_orgs_own_limit_overrides_the_policys(harness: Harness, fake: FakeOpenRouter) -> None:
    run_async(harness.accounting.set_org_limit(harness.tenant.org, 2 * PLANNER_CAP))
    fake.set_default(Reply.json(VALID_PLAN, cost=PLANNER_CAP))
    harness.plan()
    harness.plan()
    error = harness.plan_error()
    assert (error.status_code, error.code) == (429, "budget_exceeded")
    assert error.details["limit_usd"] == pytest.approx(2 * PLANNER_CAP)
    assert harness.budget().limit_usd == pytest.approx(2 * PLANNER_CAP)


# -- tracing --------------------------------------------------------------------------------------------------

class RecordingTraceProvider:
    """Stands in for the X-Ray recorder: records the subsegments a traced call opens."""

    def __init__(self) -> None:
        self.subsegments: list[tuple[str, dict[str, Any]]] = []

    def in_subsegment_async(self, name: str) -> Any:
        import contextlib

        annotations: dict[str, Any] = {}
        self.subsegments.append((name, annotations))

        class Subsegment:
            def put_annotation(self, key: str, value: Any) -> None:
                annotations[key] = value

        @contextlib.asynccontextmanager
        async def opened() -> Any:
            yield Subsegment()

        return opened()


def test_every_provider_request_gets_an_annotated_subsegment(harness: Harness, fake: FakeOpenRouter,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from sgd.observability import tracer

    provider = RecordingTraceProvider()
    monkeypatch.setattr(tracer, "disabled", False)
    monkeypatch.setattr(tracer, "provider", provider)
    fake.script(PRIMARY, Reply.status(503))
    fake.script(PRIMARY, Reply.json(VALID_PLAN))
    harness.plan()
    assert provider.subsegments == [
        ("## model planner", {"task": "planner", "model": PRIMARY, "attempt": 1}),
        ("## model planner", {"task": "planner", "model": PRIMARY, "attempt": 2}),
    ]


async def usage_table_unavailable(*args: Any, **kwargs: Any) -> None:
    raise ConnectionError("usage table unreachable")


def test_a_failed_ledger_write_is_logged_and_does_not_hide_the_answer(harness: Harness, fake: FakeOpenRouter,
                                                                      log_output: io.StringIO,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness.accounting, "record", usage_table_unavailable)
    fake.script(PRIMARY, Reply.json(VALID_PLAN, cost=0.0005))
    assert harness.plan().output == VALID_PLAN
    failure = next(json.loads(line) for line in log_output.getvalue().splitlines() if "ledger write failed" in line)
    assert failure["cost_usd"] == 0.0005
    assert failure["calls"][0]["model"] == PRIMARY


def test_an_image_answer_without_an_image_moves_to_the_next_image_model(harness: Harness,
                                                                        fake: FakeOpenRouter) -> None:
    primary, fallback = harness.policy.tasks["image"].models
    fake.script(primary, Reply.text("I can only describe it: a calm forest."))
    fake.script(fallback, Reply.image(png(64, 64)))
    result = generate(harness)
    assert outcomes(result) == [(primary, "invalid_output"), (fallback, "ok")]
    assert result.model_route == [fallback]


def test_a_rotated_key_is_read_again_after_a_401(fake: FakeOpenRouter) -> None:
    fake.reset()
    keys = iter(["sk-or-v1-old-key", "sk-or-v1-new-key"])
    current = {"key": next(keys)}

    def rotate() -> None:
        current["key"] = next(keys)

    fake.respond_with(lambda request: Reply.json(VALID_PLAN) if request.headers["authorization"].endswith("new-key")
                      else Reply.status(401, "key revoked"))
    client = OpenRouterClient(fake.base_url, lambda: current["key"], forget_key=rotate)
    completion = run_async(client.complete({"model": PRIMARY, "messages": []}, timeout_s=5))
    assert json.loads(completion.content or "") == VALID_PLAN
    assert [request.headers["authorization"] for request in fake.requests] == [
        "Bearer sk-or-v1-old-key", "Bearer sk-or-v1-new-key"]


def test_a_401_with_an_unchanged_key_stops(fake: FakeOpenRouter) -> None:
    fake.reset()
    fake.set_default(Reply.status(401, "bad key"))
    client = OpenRouterClient(fake.base_url, lambda: API_KEY, forget_key=lambda: None)
    with pytest.raises(AttemptFailure) as raised:
        run_async(client.complete({"model": PRIMARY, "messages": []}, timeout_s=5))
    assert raised.value.kind == "auth"
    assert len(fake.requests) == 1


def test_a_failed_budget_settlement_keeps_the_paid_answer_and_logs_the_cost(harness: Harness, fake: FakeOpenRouter,
                                                                            log_output: io.StringIO,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness.accounting, "settle", usage_table_unavailable)
    fake.script(PRIMARY, Reply.json(VALID_PLAN, cost=0.0007))
    assert harness.plan().output == VALID_PLAN
    failure = next(json.loads(line) for line in log_output.getvalue().splitlines() if "budget settle failed" in line)
    assert (failure["cost_usd"], failure["model"], failure["org"]) == (0.0007, PRIMARY, harness.tenant.org)
    assert harness.budget().reserved_usd == pytest.approx(PLANNER_CAP)  # still held: errs on the safe side


# -- errors inside a 200, empty answers ------------------------------------------------------------------------

def test_an_error_inside_a_200_is_a_provider_error_retried_by_its_code(harness: Harness,
                                                                        fake: FakeOpenRouter) -> None:
    fake.script(PRIMARY, Reply.choice_error(502, "Upstream overloaded"), Reply.choice_error(None, "gave up"))
    fake.script(SECOND, Reply.json(VALID_PLAN))
    result = harness.plan()
    assert outcomes(result) == [(PRIMARY, "server_error"), (PRIMARY, "server_error"), (SECOND, "ok")]
    # Never a "repair" turn: no request ever carries an empty assistant message.
    assert all(message.get("content") for request in fake.requests for message in request.body["messages"])


def test_an_error_inside_a_200_keeps_its_message_and_its_kind(harness: Harness, fake: FakeOpenRouter) -> None:
    for model in (PRIMARY, SECOND, THIRD):
        fake.script(model, Reply.choice_error(429, f"{model} is rate limited upstream"),
                    Reply.choice_error(429, f"{model} is still rate limited"))
    error = harness.plan_error()
    assert (error.status_code, error.code) == (503, "service_unavailable")
    assert f"{THIRD} is still rate limited" in error.message
    assert {attempt["outcome"] for attempt in error.details["attempts"]} == {"rate_limited"}


def test_an_empty_answer_is_not_repaired_at_a_price(harness: Harness, fake: FakeOpenRouter) -> None:
    fake.script(PRIMARY, Reply.text(""))
    fake.script(SECOND, Reply.json(VALID_PLAN))
    result = harness.plan()
    assert outcomes(result) == [(PRIMARY, "invalid_output"), (SECOND, "ok")]
    assert len(fake.requests_for(PRIMARY)) == 1


# -- caps: every request bounded, a bill over the cap stops the org ----------------------------------------------

def test_an_image_request_is_bounded_by_max_tokens(harness: Harness, fake: FakeOpenRouter) -> None:
    image_model = harness.policy.tasks["image"].primary
    fake.script(image_model, Reply.image(png(96, 50)))
    generate(harness)
    spec, price = harness.policy.tasks["image"], harness.policy.prices[image_model]
    max_tokens = fake.requests[0].body["max_tokens"]
    assert 0 < max_tokens <= spec.max_output_tokens
    assert max_tokens * price.output_per_million / 1_000_000 <= spec.max_cost_usd


def test_a_bill_over_the_cap_stops_the_orgs_calls_until_the_limit_is_raised(harness: Harness,
                                                                             fake: FakeOpenRouter) -> None:
    image_model = harness.policy.tasks["image"].primary
    fake.script(image_model, Reply.image(png(96, 50), cost=0.50))  # the cap is 0.08
    generate(harness)  # the answer was paid for: it is kept
    budget = harness.budget()
    assert budget.over_cap_usd == pytest.approx(0.42)
    assert budget.halted
    assert budget.remaining_usd == 0
    requests_before = len(fake.requests)
    error = harness.plan_error()
    assert (error.status_code, error.code) == (429, "budget_halted")
    assert "raises the org's daily limit" in error.message
    assert "00:00 UTC" in error.message
    assert 0 < int(error.headers["Retry-After"]) <= 86_400
    assert len(fake.requests) == requests_before  # refused before any provider call
    run_async(harness.accounting.set_org_limit(harness.tenant.org, harness.policy.org_daily_budget_usd + 1))
    fake.script(PRIMARY, Reply.json(VALID_PLAN))
    assert harness.plan().output == VALID_PLAN


# -- an operation's budget, held up front -----------------------------------------------------------------------

def test_an_operation_that_does_not_fit_is_refused_before_any_call(fake: FakeOpenRouter, runtime: Any) -> None:
    fake.reset()
    harness = Harness(fake, runtime_adapters(runtime).usage_table, **{"budgets.org_daily_usd": 3 * PLANNER_CAP})

    async def operation() -> None:
        async with harness.gateway.budget(harness.tenant, {"planner": 4}):
            await harness.gateway.plan(tenant=harness.tenant, instruction="Spring sale", canon=CANON, request={},
                                       deadline=Deadline(20_000))

    with pytest.raises(ApiError) as raised:
        run_async(operation())
    assert (raised.value.status_code, raised.value.code) == (429, "budget_exceeded")
    assert raised.value.details["needed_usd"] == pytest.approx(4 * PLANNER_CAP)
    assert fake.requests == []
    assert harness.budget().reserved_usd == 0


def test_an_operations_calls_draw_from_its_hold_and_the_rest_is_released(fake: FakeOpenRouter,
                                                                         runtime: Any) -> None:
    fake.reset()
    harness = Harness(fake, runtime_adapters(runtime).usage_table, **{"budgets.org_daily_usd": 4 * PLANNER_CAP})
    fake.set_default(Reply.json(VALID_PLAN, cost=PLANNER_CAP / 2))
    seen: list[tuple[float, float]] = []

    async def operation() -> None:
        async with harness.gateway.budget(harness.tenant, {"planner": 3}) as held:
            assert held == pytest.approx(3 * PLANNER_CAP)
            for _ in range(2):
                await harness.gateway.plan(tenant=harness.tenant, instruction="Spring sale", canon=CANON,
                                           request={}, deadline=Deadline(20_000))
                status = await harness.accounting.status(harness.tenant.org)
                seen.append((status.spent_usd, status.reserved_usd))
            # Another request of the org finds only what the hold left: 4 - 3 caps.
            status = await harness.accounting.status(harness.tenant.org)
            assert status.remaining_usd == pytest.approx(PLANNER_CAP)

    run_async(operation())
    assert seen == [(pytest.approx(PLANNER_CAP / 2), pytest.approx(2.5 * PLANNER_CAP)),
                    (pytest.approx(PLANNER_CAP), pytest.approx(2 * PLANNER_CAP))]
    budget = harness.budget()
    assert (budget.spent_usd, budget.reserved_usd) == (pytest.approx(PLANNER_CAP), 0)
