"""Secrets Manager behind one function: every key SGD holds (model provider, webhooks, embeddings) is read here."""

from __future__ import annotations

import json

from sgd.adapters.aws import aws_client
from sgd.errors import ServiceUnavailable


def secret_string(arn: str, *, json_field: str, what: str, variable: str) -> str:
    """The secret's value: its plain string, or `json_field` of a JSON secret ({"api_key": "..."}).

    Any failure means the same to the caller, no usable secret: a 503 that names `what` and the `variable` to check.
    """
    try:
        secret = aws_client("secretsmanager").get_secret_value(SecretId=arn)
    except Exception as error:  # boto errors, throttling, a deleted secret: all "not usable now"
        raise ServiceUnavailable(f"{what} could not be read from Secrets Manager ({type(error).__name__}); "
                                 f"check {variable}") from None
    value = secret.get("SecretString", "").strip()
    if value.startswith("{"):
        value = str(json.loads(value).get(json_field, ""))
    if not value:
        raise ServiceUnavailable(f"{what} in Secrets Manager is empty; store it as the secret string ({variable})")
    return value
