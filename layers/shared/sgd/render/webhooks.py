"""Signed webhooks for finished render jobs.

Each delivery is a POST of the job JSON with
    SGD-Event: render.succeeded | render.failed | render.cancelled
    SGD-Delivery: a unique id (receivers de-duplicate on it)
    SGD-Timestamp: unix seconds
    SGD-Signature: v1=<hex HMAC-SHA256 of f"{timestamp}.{body}" with the job's org's signing secret>
Receivers check it with verify_signature(). Network errors, 429 and 5xx are retried with exponential backoff.

Each org signs with its own key, derived from the deployment's master secret (which never leaves SGD):
    org secret = "whsec_" + hex HMAC-SHA256(master, "sgd-webhook-signing:" + org)
so one org's receiver secret cannot forge deliveries to another org. GET /webhooks/signing-secret hands an org
its key; rotating the master rotates every org's key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sgd.adapters.secrets import SecretRef, SecretsManagerSecrets
from sgd.errors import ServiceUnavailable
from sgd.observability import logger
from sgd.settings import Settings

SIGNATURE_VERSION = "v1"
RETRY_DELAYS_S: tuple[float, ...] = (0.5, 1.0, 2.0)  # after the first attempt: up to 4 attempts in 3.5 s
DEFAULT_TOLERANCE_S = 300
ORG_KEY_PREFIX = "whsec_"
ORG_KEY_LABEL = "sgd-webhook-signing:"  # domain separation: the master's HMACs for other uses never collide


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """'v1=<hex>': HMAC-SHA256 over '{timestamp}.' followed by the exact body bytes."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify_signature(secret: str, timestamp: int | str, body: bytes, header: str, *,
                     tolerance_s: float = DEFAULT_TOLERANCE_S, now: float | None = None) -> bool:
    """True when header carries a v1 signature of (timestamp, body) under secret, and timestamp is recent.

    header may list several signatures separated by commas (during a secret rotation); any valid one counts.
    Comparison is constant-time; a timestamp more than tolerance_s from now (either way) is rejected.
    """
    try:
        stamp = int(str(timestamp).strip())
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance_s:
        return False
    expected = sign(secret, stamp, body)
    candidates = [part.strip() for part in (header or "").split(",") if part.strip()]
    return any(hmac.compare_digest(candidate, expected) for candidate in candidates)


def org_signing_secret(master: str, org: str) -> str:
    """The org's signing key: 'whsec_' + hex HMAC-SHA256(master, 'sgd-webhook-signing:' + org).

    One-way: holding an org's key reveals neither the master nor any other org's key.
    """
    if not master:
        raise ValueError("the master webhook secret is empty")
    if not org:
        raise ValueError("an org is required to derive its webhook signing secret")
    digest = hmac.new(master.encode(), f"{ORG_KEY_LABEL}{org}".encode(), hashlib.sha256).hexdigest()
    return f"{ORG_KEY_PREFIX}{digest}"


class WebhookKeys:
    """The deployment's master webhook secret (SGD_WEBHOOK_SECRET, else the Secrets Manager secret
    SGD_WEBHOOK_SECRET_ARN, read once per container) and the org keys derived from it. Only org keys leave this
    class: nothing signs with the master or hands it out."""

    def __init__(self, *, master: str = "", master_secret: SecretRef | None = None,
                 secrets: SecretsManagerSecrets | None = None) -> None:
        self._master = master
        self._master_secret = master_secret
        self._secrets = secrets

    @classmethod
    def from_settings(cls, settings: Settings, secrets: SecretsManagerSecrets) -> WebhookKeys:
        ref = SecretRef(settings.webhook_secret_arn, "secret", "the master webhook secret", "SGD_WEBHOOK_SECRET_ARN") \
            if settings.webhook_secret_arn else None
        return cls(master=settings.webhook_secret, master_secret=ref, secrets=secrets)

    def _master_value(self) -> str:
        if self._master:
            return self._master
        if self._master_secret is not None and self._secrets is not None:
            return self._secrets.value(self._master_secret)
        raise ServiceUnavailable("webhooks are not configured on this deployment (no SGD_WEBHOOK_SECRET or "
                                 "SGD_WEBHOOK_SECRET_ARN); omit webhook_url and poll the job instead")

    def require_configured(self) -> None:
        """503 ServiceUnavailable when this deployment has no master webhook secret."""
        self._master_value()

    def org_key(self, org: str) -> str:
        """The secret org's deliveries are signed with (and its receivers verify with); 503 when not configured.
        org is required, so no caller can fall back to signing with the shared master."""
        return org_signing_secret(self._master_value(), org)


@dataclass(frozen=True, slots=True)
class Delivery:
    status: Literal["delivered", "failed", "refused"]
    attempts: int
    last_status: int | None
    delivery_id: str
    reason: str | None = None

    def as_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"status": self.status, "attempts": self.attempts, "last_status": self.last_status,
                                  "delivery_id": self.delivery_id}
        if self.reason:
            record["reason"] = self.reason
        return record


def _retryable(status: int | None) -> bool:
    return status is None or status == 429 or status >= 500


def deliver(url: str, event: str, payload: dict[str, Any], secret: str, *, policy: Any,
            post: Callable[..., int] | None = None, sleep: Callable[[float], None] = time.sleep,
            delays: Sequence[float] = RETRY_DELAYS_S, clock: Callable[[], float] = time.time) -> Delivery:
    """POSTs the signed payload; retries network errors, 429 and 5xx. Never raises for the receiver's faults."""
    from sgd.net.outbound import OutboundFailed, OutboundRefused
    from sgd.net.outbound import post_json as default_post

    post = post or default_post
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    delivery_id = uuid.uuid4().hex
    attempts, last_status, reason = 0, None, None
    for attempt in range(len(delays) + 1):
        if attempt:
            sleep(delays[attempt - 1])
        attempts += 1
        timestamp = int(clock())  # signed per attempt, so a late retry is not rejected as stale
        headers = {"Content-Type": "application/json", "SGD-Event": event, "SGD-Delivery": delivery_id,
                   "SGD-Timestamp": str(timestamp), "SGD-Signature": sign(secret, timestamp, body),
                   "User-Agent": "sgd-webhooks/1"}
        try:
            last_status = post(url, body, headers, policy)
        except OutboundRefused as refused:
            return Delivery("refused", attempts, None, delivery_id, refused.reason)
        except OutboundFailed as failed:
            last_status, reason = failed.status, failed.reason
        else:
            if 200 <= last_status < 300:
                return Delivery("delivered", attempts, last_status, delivery_id)
            reason = f"HTTP {last_status}"
        if not _retryable(last_status):
            break
    logger.warning("webhook delivery failed", extra={"attempts": attempts, "last_status": last_status})
    return Delivery("failed", attempts, last_status, delivery_id, reason)
