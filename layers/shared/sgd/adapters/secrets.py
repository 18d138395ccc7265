"""Secrets Manager behind one class: every key SGD holds (model provider, webhooks, embeddings, Qdrant) is read here."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from sgd.adapters.aws import ClientSource
from sgd.errors import ServiceUnavailable


@dataclass(frozen=True, slots=True)
class SecretRef:
    """Which secret, which field of a JSON secret, and how to name it in an error (what it is, which variable)."""

    arn: str
    json_field: str
    what: str
    variable: str


class SecretsManagerSecrets:
    """Reads each secret once per process (a warm container keeps it) until forget() says it was rotated."""

    def __init__(self, clients: ClientSource) -> None:
        self._clients = clients
        self._values: dict[SecretRef, str] = {}
        self._lock = threading.Lock()

    def value(self, ref: SecretRef) -> str:
        """The secret's value: its plain string, or `json_field` of a JSON secret ({"api_key": "..."}).

        Any failure means the same to the caller, no usable secret: a 503 that names what it is and the variable
        to check.
        """
        with self._lock:
            cached = self._values.get(ref)
        if cached is not None:
            return cached
        try:
            secret = self._clients("secretsmanager").get_secret_value(SecretId=ref.arn)
        except Exception as error:  # boto errors, throttling, a deleted secret: all "not usable now"
            raise ServiceUnavailable(f"{ref.what} could not be read from Secrets Manager ({type(error).__name__}); "
                                     f"check {ref.variable}") from None
        value = secret.get("SecretString", "").strip()
        if value.startswith("{"):
            value = str(json.loads(value).get(ref.json_field, ""))
        if not value:
            raise ServiceUnavailable(f"{ref.what} in Secrets Manager is empty; store it as the secret string "
                                     f"({ref.variable})")
        with self._lock:
            self._values[ref] = value
        return value

    def forget(self, ref: SecretRef) -> None:
        """Drops the cached value (the provider refused it: it may have been rotated), so the next use reads again."""
        with self._lock:
            self._values.pop(ref, None)
