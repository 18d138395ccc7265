"""The model gateway: one interface (sgd.model_gateway.port.ModelGateway) for every AI step.

build_gateway() picks the implementation, once per process (the composition root calls it): with a provider key,
the policy-routed OpenRouter gateway (a provider failure is a 5xx, never silent local output); without one, the
offline local engine.
"""

from __future__ import annotations

from sgd.adapters.secrets import SecretRef, SecretsManagerSecrets
from sgd.model_gateway.budget import UsageAccounting
from sgd.model_gateway.local import CanonExtractor, LocalEngine
from sgd.model_gateway.policy import GatewayPolicy
from sgd.model_gateway.port import ModelGateway
from sgd.settings import Settings

PROVIDER_KEY_VARIABLE = "OPENROUTER_API_KEY_SECRET_ARN"


class ProviderKey:
    """The OpenRouter key: OPENROUTER_API_KEY locally, else from Secrets Manager (read once per container, and
    again after the provider refused it: the secret may have been rotated)."""

    def __init__(self, settings: Settings, secrets: SecretsManagerSecrets) -> None:
        self._plain = settings.openrouter_api_key
        self._ref = SecretRef(settings.openrouter_api_key_secret_arn, "api_key", "the model provider key",
                              PROVIDER_KEY_VARIABLE)
        self._secrets = secrets

    def value(self) -> str:
        return self._plain or self._secrets.value(self._ref)

    def forget(self) -> None:
        if not self._plain:
            self._secrets.forget(self._ref)


def build_gateway(settings: Settings, policy: GatewayPolicy, *, accounting: UsageAccounting,
                  secrets: SecretsManagerSecrets, canon_extractor: CanonExtractor | None = None) -> ModelGateway:
    local = LocalEngine(canon_extractor=canon_extractor)
    if not settings.model_key_configured:
        return local
    from sgd.model_gateway.openrouter import OpenRouterClient
    from sgd.model_gateway.routing import OpenRouterGateway

    key = ProviderKey(settings, secrets)
    # The largest legitimate answer is a generated image as base64 (4/3 of its bytes) plus its JSON envelope.
    client = OpenRouterClient(settings.openrouter_base_url, key.value, forget_key=key.forget,
                              max_response_bytes=policy.image_max_bytes * 4 // 3 + 1024 * 1024)
    return OpenRouterGateway(policy, client, accounting, local_fallback=local if policy.local_fallback else None)
