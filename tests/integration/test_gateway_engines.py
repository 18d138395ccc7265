"""Which engine serves the gateway, how the offline engine labels itself, the explicit local fallback, the
provider key from Secrets Manager, and a bad policy failing a function's cold start."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sgd.adapters.clock import Deadline
from sgd.composition import Adapters, model_gateway
from sgd.design.planner import template_for
from sgd.errors import ApiError
from sgd.model_gateway.budget import UsageAccounting
from sgd.model_gateway.build import ProviderKey
from sgd.model_gateway.local import LocalEngine
from sgd.model_gateway.openrouter import OpenRouterClient
from sgd.model_gateway.policy import GatewayPolicy, load_policy
from sgd.model_gateway.port import ImageInput
from sgd.model_gateway.routing import OpenRouterGateway
from sgd.settings import Settings
from sgd.tenancy import Tenant

from bench.support.fake_openrouter import FakeOpenRouter, Reply
from bench.support.seeds import runtime_adapters
from sgd_local.lambda_host import FunctionPool
from tests.conftest import ROOT, load_event, run_async
from tests.integration.test_model_gateway import policy_document

pytestmark = pytest.mark.integration
TENANT = Tenant("acme", "launch")
REQUEST = {"prompts": {"task": "create", "instruction": "x", "references": []},
           "outputs": {"count": 1, "format": "png", "dimensions": "1200x628"}, "constraints": None}
CANON = {"palette_hex": ["#0B3D2E", "#F2E8CF", "#E07A5F"], "fonts": ["Inter"], "voice": {"tone": "warm"},
         "logo_asset_id": "logo1"}


def plan_with(gateway: Any, instruction: str = 'Spring sale banner "Fresh Roast Friday"') -> Any:
    return run_async(gateway.plan(tenant=TENANT, instruction=instruction, canon=CANON, request=REQUEST,
                            deadline=Deadline(10_000)))


def gateway_for(settings: Settings, adapters: Adapters | None = None) -> Any:
    """The gateway the composition root gives a function with these settings."""
    return model_gateway(settings, adapters or Adapters.from_settings(settings), load_policy())()


def test_without_a_key_the_local_engine_serves_and_says_so() -> None:
    gateway = gateway_for(Settings.from_environment())
    assert isinstance(gateway, LocalEngine)
    result = plan_with(gateway)
    assert result.model_route == ["local/planner"]
    assert result.cost_usd == 0
    assert result.output["layout"]["headline"] == "Fresh Roast Friday"
    assert result.output["layout"]["template"] == template_for(1200, 628, CANON)  # the brand's personality chooses
    image = run_async(gateway.generate_image(tenant=TENANT, prompt="p", width=64, height=64, deadline=Deadline(1000)))
    assert image.output is None
    assert image.model_route == ["local/compositor"]


def test_local_canon_hook_is_501_until_registered_and_the_offline_critic_adds_nothing() -> None:
    engine = LocalEngine()
    with pytest.raises(ApiError) as raised:
        run_async(engine.extract_canon(tenant=TENANT, evidence=[], deadline=Deadline(1000)))
    assert raised.value.status_code == 501
    registered = LocalEngine(canon_extractor=lambda evidence: CANON | {"fonts": ["Inter", "Lora"]})
    canon = run_async(registered.extract_canon(tenant=TENANT, evidence=[{"text": "x"}], deadline=Deadline(1000)))
    assert canon.model_route == ["local/extractor"]
    assert canon.output["fonts"] == ["Inter", "Lora"]
    # No vision model offline: a neutral answer, which the merge rules can never let change a measured critique.
    neutral = run_async(registered.critique(tenant=TENANT, image=ImageInput(data=b"x"), canon=CANON,
                                            deadline=Deadline(1000)))
    assert neutral.output == {"score": 1.0, "violations": [], "repair_suggestions": []}
    assert neutral.model_route == ["local/critic"]
    invalid = LocalEngine(canon_extractor=lambda evidence: {"palette_hex": "not a list"})
    with pytest.raises(ApiError) as rejected:  # a hook's output passes the same guardrail a model's must
        run_async(invalid.extract_canon(tenant=TENANT, evidence=[{"text": "x"}], deadline=Deadline(1000)))
    assert rejected.value.code == "guardrails_error"


@pytest.fixture
def fake() -> Iterator[FakeOpenRouter]:
    with FakeOpenRouter() as server:
        yield server


def provider_gateway(fake: FakeOpenRouter, runtime: Any, *, local_fallback: bool) -> OpenRouterGateway:
    policy = GatewayPolicy.from_document(policy_document(local_fallback=local_fallback))
    accounting = UsageAccounting.over(runtime_adapters(runtime).usage_table, daily_limit_usd=1.0)

    async def no_wait(seconds: float) -> None:
        return None

    return OpenRouterGateway(policy, OpenRouterClient(fake.base_url, lambda: "sk-test"), accounting,
                             local_fallback=LocalEngine() if local_fallback else None, sleep=no_wait)


def test_with_a_key_provider_failure_is_an_error_never_local_output(fake: FakeOpenRouter, runtime: Any) -> None:
    fake.set_default(Reply.status(503))
    with pytest.raises(ApiError) as raised:
        plan_with(provider_gateway(fake, runtime, local_fallback=False))
    assert raised.value.status_code == 503
    assert all(not attempt["model"].startswith("local/") for attempt in raised.value.details["attempts"])


def test_the_explicit_local_fallback_is_audited(fake: FakeOpenRouter, runtime: Any) -> None:
    fake.set_default(Reply.status(500))
    result = plan_with(provider_gateway(fake, runtime, local_fallback=True))
    assert result.model_route == ["local/planner"]
    outcomes = [call.outcome for call in result.calls]
    assert outcomes[-1] == "local_fallback"
    assert set(outcomes[:-1]) == {"server_error"}
    assert len(outcomes) == 1 + 2 * len(load_policy().tasks["planner"].models)


def test_fatal_provider_errors_are_not_papered_over_by_the_local_fallback(fake: FakeOpenRouter,
                                                                          runtime: Any) -> None:
    fake.set_default(Reply.status(401))
    with pytest.raises(ApiError) as raised:
        plan_with(provider_gateway(fake, runtime, local_fallback=True))
    assert raised.value.code == "provider_auth"


def with_secret_arn(arn: str) -> Settings:
    return Settings.model_validate(dict(Settings.from_environment().model_dump(by_alias=True))
                                   | {"OPENROUTER_API_KEY_SECRET_ARN": arn})


@pytest.mark.parametrize("secret_string", ["sk-or-v1-from-secrets-manager",
                                           '{"api_key": "sk-or-v1-from-secrets-manager"}'])
def test_the_provider_key_comes_from_secrets_manager(runtime: Any, adapters: Adapters, secret_string: str) -> None:
    arn = runtime.aws.client("secretsmanager").create_secret(Name=f"sgd/openrouter/{len(secret_string)}",
                                                             SecretString=secret_string)["ARN"]
    settings = with_secret_arn(arn)
    assert isinstance(gateway_for(settings, adapters), OpenRouterGateway)
    assert ProviderKey(settings, adapters.secrets).value() == "sk-or-v1-from-secrets-manager"


def test_an_unreadable_secret_is_a_503_naming_the_variable(adapters: Adapters) -> None:
    settings = with_secret_arn("arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf")
    with pytest.raises(ApiError) as raised:
        ProviderKey(settings, adapters.secrets).value()
    assert raised.value.status_code == 503
    assert "OPENROUTER_API_KEY_SECRET_ARN" in raised.value.message


@pytest.mark.slow
def test_a_bad_policy_fails_the_cold_start_naming_the_field(runtime: Any, tmp_path: Path) -> None:
    resources = tmp_path / "resources"
    shutil.copytree(ROOT / "guardrails", resources / "guardrails")
    shutil.copytree(ROOT / "policies", resources / "policies")
    bad = json.loads((resources / "policies" / "openrouter_policy.json").read_text())
    bad["tasks"]["critic"]["max_cost_usd"] = "three cents"
    (resources / "policies" / "openrouter_policy.json").write_text(json.dumps(bad))
    spec = runtime.stack.functions["CritiqueFunction"]
    environment = runtime.function_environment("CritiqueFunction") | {"SGD_RESOURCES_DIR": str(resources)}
    pool = FunctionPool(spec, environment=environment)
    try:
        invocation = pool.invoke(load_event("critique/post_critique.json"))
    finally:
        pool.close()
    assert not invocation.ok
    assert invocation.payload["errorType"] == "ConfigurationError"
    assert "tasks/critic/max_cost_usd: 'three cents' is not of type 'number'" in invocation.payload["errorMessage"]


def test_the_composition_root_builds_the_gateway_once() -> None:
    settings = Settings.from_environment()
    gateway = model_gateway(settings, Adapters.from_settings(settings), load_policy())
    assert gateway() is gateway()


def test_gateway_results_fill_a_responses_audit() -> None:
    from sgd.contracts.common import Audit
    from sgd.model_gateway.port import audit_fields

    engine = LocalEngine()
    plan = plan_with(engine)
    image = run_async(engine.generate_image(tenant=TENANT, prompt="p", width=64, height=64, deadline=Deadline(1000)))
    audit = Audit.model_validate({"trace_id": "1-abc", "guardrails_ok": True, **audit_fields(plan, image)})
    assert audit.model_route == ["local/planner", "local/compositor"]
    assert audit.cost_usd == 0
    assert [call.model for call in audit.calls] == ["local/planner", "local/compositor"]
