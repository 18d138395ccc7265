"""The model gateway: one interface (sgd.model_gateway.port.ModelGateway) for every AI step.

model_gateway() picks the implementation once per process: with a provider key, the policy-routed OpenRouter
gateway (a provider failure is a 5xx, never silent local output); without one, the offline local engine.
"""

from __future__ import annotations

import functools

from sgd.model_gateway.budget import UsageAccounting
from sgd.model_gateway.local import CanonExtractor, LocalEngine
from sgd.model_gateway.policy import load_policy
from sgd.model_gateway.port import ModelGateway
from sgd.settings import Settings, get_settings


@functools.cache
def provider_api_key() -> str:
    """The OpenRouter key: from Secrets Manager in AWS (read once per process), or OPENROUTER_API_KEY locally."""
    settings = get_settings()
    if settings.openrouter_api_key:
        return settings.openrouter_api_key
    from sgd.adapters.secrets import secret_string

    return secret_string(settings.openrouter_api_key_secret_arn, json_field="api_key",
                         what="the model provider key", variable="OPENROUTER_API_KEY_SECRET_ARN")


def build_gateway(settings: Settings, *, canon_extractor: CanonExtractor | None = None) -> ModelGateway:
    policy = load_policy()
    local = LocalEngine(canon_extractor=canon_extractor)
    if not settings.model_key_configured:
        return local
    from sgd.model_gateway.openrouter import OpenRouterClient
    from sgd.model_gateway.routing import OpenRouterGateway

    # The largest legitimate answer is a generated image as base64 (4/3 of its bytes) plus its JSON envelope.
    client = OpenRouterClient(settings.openrouter_base_url, provider_api_key, forget_key=provider_api_key.cache_clear,
                              max_response_bytes=policy.image_max_bytes * 4 // 3 + 1024 * 1024)
    return OpenRouterGateway(policy, client, usage_accounting(),
                             local_fallback=local if policy.local_fallback else None)


@functools.cache
def usage_accounting() -> UsageAccounting:
    """The org budget and usage ledger of this process, with the policy's limit and thresholds."""
    policy = load_policy()
    return UsageAccounting(get_settings().usage_table, daily_limit_usd=policy.org_daily_budget_usd,
                           thresholds=policy.budget_thresholds)


@functools.cache
def model_gateway(*, canon_extractor: CanonExtractor | None = None) -> ModelGateway:
    """The gateway of this process, built once: its connection pool then serves every warm invocation."""
    return build_gateway(get_settings(), canon_extractor=canon_extractor)
