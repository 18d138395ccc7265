"""Signed completion webhooks: the signature scheme, per-org signing keys, retries with backoff, the org's
GET /webhooks/signing-secret, and a real delivery from an async job to a loopback receiver through the local
runtime that verifies only with the job's org's key."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sgd.adapters.secrets import SecretsManagerSecrets
from sgd.errors import ServiceUnavailable
from sgd.net.outbound import OutboundFailed, OutboundPolicy, OutboundRefused
from sgd.render.webhooks import WebhookKeys, deliver, org_signing_secret, sign, verify_signature
from sgd.settings import Settings

from tests.conftest import ROOT, ApiClient
from tests.integration.test_render_jobs import wait_for
from tests.integration.test_render_route import new_project, render_body

pytestmark = pytest.mark.integration
SECRET = "whsec-test-0123456789"  # the runtime's master secret; deliveries are signed with keys derived from it
ORG_KEY = org_signing_secret(SECRET, "acme")
BODY = b'{"job_id":"j1","status":"succeeded"}'
orgs = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)


# -- the signature ------------------------------------------------------------------------------------------------
def test_a_signature_verifies_and_any_tampering_fails() -> None:
    now = 1_800_000_000
    header = sign(SECRET, now, BODY)
    assert header.startswith("v1=")
    assert len(header) == 3 + 64
    assert verify_signature(SECRET, now, BODY, header, now=now + 10)
    assert verify_signature(SECRET, str(now), BODY, f"v1=deadbeef, {header}", now=now)  # during a rotation
    assert not verify_signature(SECRET, now, BODY.replace(b"succeeded", b"failed"), header, now=now)
    assert not verify_signature("another-secret", now, BODY, header, now=now)
    assert not verify_signature(SECRET, now + 1, BODY, header, now=now)  # the timestamp is signed too
    assert not verify_signature(SECRET, now, BODY, header, now=now + 301)  # too old: a replay
    assert not verify_signature(SECRET, now, BODY, header, now=now - 301)  # from the future
    assert not verify_signature(SECRET, "yesterday", BODY, header, now=now)
    assert not verify_signature(SECRET, now, BODY, "", now=now)


# -- per-org signing keys -------------------------------------------------------------------------------------------
def test_the_org_key_follows_the_published_derivation() -> None:
    # Pinned (computed with `printf 'sgd-webhook-signing:acme' | openssl dgst -sha256 -hmac master-secret`):
    # changing the derivation would silently break every receiver.
    assert org_signing_secret("master-secret", "acme") == (
        "whsec_108e2e88de0706d60596d6c2fef17d25f2f7ddc4b4fbcfd5ee70be61fdfd51c9")


@given(orgs, orgs)
def test_each_org_has_its_own_key_and_only_its_key_verifies_its_deliveries(org: str, other: str) -> None:
    key = org_signing_secret(SECRET, org)
    assert re.fullmatch(r"whsec_[0-9a-f]{64}", key)
    assert key == org_signing_secret(SECRET, org)
    assert key != org_signing_secret("another-master", org)
    header = sign(key, 1_800_000_000, BODY)
    assert verify_signature(key, 1_800_000_000, BODY, header, now=1_800_000_000)
    assert not verify_signature(SECRET, 1_800_000_000, BODY, header, now=1_800_000_000)
    if other != org:
        assert org_signing_secret(SECRET, other) != key
        assert not verify_signature(org_signing_secret(SECRET, other), 1_800_000_000, BODY, header,
                                    now=1_800_000_000)


def test_without_a_master_secret_webhooks_are_unavailable_and_an_org_is_required() -> None:
    unconfigured = Settings.from_environment().model_copy(update={"webhook_secret": "", "webhook_secret_arn": ""})
    secrets = SecretsManagerSecrets(clients=lambda service: pytest.fail("no secret to read"))
    with pytest.raises(ServiceUnavailable):
        WebhookKeys.from_settings(unconfigured, secrets).org_key("acme")
    with pytest.raises(ServiceUnavailable):
        WebhookKeys.from_settings(unconfigured, secrets).require_configured()
    configured = unconfigured.model_copy(update={"webhook_secret": SECRET})
    assert WebhookKeys.from_settings(configured, secrets).org_key("acme") == ORG_KEY
    with pytest.raises(ValueError, match="org"):
        org_signing_secret(SECRET, "")


# -- delivery and retries -----------------------------------------------------------------------------------------
class ScriptedReceiver:
    def __init__(self, *outcomes: int | Exception) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[dict[str, Any]] = []

    def __call__(self, url: str, body: bytes, headers: dict[str, str], policy: Any) -> int:
        self.calls.append({"url": url, "body": body, "headers": headers})
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def run_delivery(receiver: ScriptedReceiver) -> tuple[Any, list[float]]:
    waits: list[float] = []
    delivery = deliver("https://hooks.example.com/sgd", "render.succeeded", {"job_id": "j1"}, ORG_KEY,
                       policy=OutboundPolicy(), post=receiver, sleep=waits.append, clock=lambda: 1_800_000_000)
    return delivery, waits


def test_network_errors_429_and_5xx_are_retried_with_exponential_backoff() -> None:
    receiver = ScriptedReceiver(OutboundFailed("connect_failed", "refused"), 503, 429, 204)
    delivery, waits = run_delivery(receiver)
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("delivered", 4, 204)
    assert waits == [0.5, 1.0, 2.0]
    assert len({call["headers"]["SGD-Delivery"] for call in receiver.calls}) == 1  # one id across retries
    for call in receiver.calls:
        headers = call["headers"]
        assert headers["SGD-Event"] == "render.succeeded"
        assert verify_signature(ORG_KEY, headers["SGD-Timestamp"], call["body"], headers["SGD-Signature"],
                                now=1_800_000_000)


def test_a_client_error_is_not_retried_and_exhaustion_is_recorded() -> None:
    delivery, waits = run_delivery(ScriptedReceiver(OutboundFailed("http_status", "answered 410", 410)))
    assert (delivery.status, delivery.attempts, delivery.last_status, waits) == ("failed", 1, 410, [])
    delivery, waits = run_delivery(ScriptedReceiver(500, 500, 502, 503))
    assert delivery.as_record() | {"delivery_id": "x"} == {"status": "failed", "attempts": 4, "last_status": 503,
                                                           "delivery_id": "x", "reason": "HTTP 503"}
    delivery, _ = run_delivery(ScriptedReceiver(OutboundRefused("private_address", "10.0.0.1 is private")))
    assert (delivery.status, delivery.attempts) == ("refused", 1)


# -- a real delivery through the runtime --------------------------------------------------------------------------
class Receiver(ThreadingHTTPServer):
    """A loopback webhook receiver that answers its scripted statuses, then 200."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[dict[str, Any]] = []
        self.arrived = threading.Event()
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        self.server.received.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body,
                                     "at": time.time()})
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()
        if status < 300:
            self.server.arrived.set()


@pytest.fixture(scope="module")
def hooked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A runtime whose functions may post webhooks to loopback (as a developer's machine would)."""
    from sgd_local.runtime import LocalRuntime, RuntimeOptions

    options = RuntimeOptions(data_dir=tmp_path_factory.mktemp("sgd-hooks"), persist=False, throttle=False, environment={
        "SGD_OUTBOUND_ALLOW_LOOPBACK": "true", "SGD_WEBHOOK_SECRET": SECRET})
    with LocalRuntime(options, root=ROOT) as runtime:
        yield runtime


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver([503])  # the first attempt fails: the delivery is retried
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_each_org_gets_its_own_signing_secret_and_only_with_a_token(hooked: Any) -> None:
    acme, globex = ApiClient(hooked, org="acme"), ApiClient(hooked, org="globex")
    replies = {}
    for org, api in (("acme", acme), ("globex", globex)):
        reply = api.request("GET", "/webhooks/signing-secret")
        assert reply.status == 200, reply.body
        assert reply.headers["cache-control"] == "no-store"
        assert SECRET not in reply.body.decode()  # the master never leaves the deployment
        replies[org] = reply.json()
    assert replies["acme"] == {"secret": ORG_KEY, "algorithm": "HMAC-SHA256", "signature_header": "SGD-Signature",
                               "timestamp_header": "SGD-Timestamp", "signed_payload": "{timestamp}.{raw body}"}
    assert replies["globex"]["secret"] == org_signing_secret(SECRET, "globex") != ORG_KEY
    assert acme.request("GET", "/webhooks/signing-secret").json() == replies["acme"]  # stable across calls
    unauthenticated = acme.request("GET", "/webhooks/signing-secret", token=None)
    assert unauthenticated.status == 401
    assert "secret" not in unauthenticated.json()


def test_a_finished_job_posts_a_signed_webhook_and_records_the_delivery(hooked: Any, receiver: Receiver) -> None:
    api = ApiClient(hooked)
    acme_secret = api.request("GET", "/webhooks/signing-secret").json()["secret"]
    globex_secret = ApiClient(hooked, org="globex").request("GET", "/webhooks/signing-secret").json()["secret"]
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hooks/sgd"
    accepted = api.request("POST", "/render", render_body(new_project(), webhook_url=url) | {"async": True})
    assert accepted.status == 202, accepted.body
    assert receiver.arrived.wait(20), "no webhook arrived"
    first, second = receiver.received
    assert second["at"] - first["at"] >= 0.4  # backoff before the retry
    headers, body = second["headers"], second["body"]
    assert headers["sgd-event"] == "render.succeeded"
    assert headers["sgd-delivery"] == first["headers"]["sgd-delivery"]
    assert verify_signature(acme_secret, headers["sgd-timestamp"], body, headers["sgd-signature"])
    assert not verify_signature(acme_secret, headers["sgd-timestamp"], body + b" ", headers["sgd-signature"])
    # Another org's key (which globex's receivers hold) and the master both fail: globex cannot forge for acme.
    assert not verify_signature(globex_secret, headers["sgd-timestamp"], body, headers["sgd-signature"])
    assert not verify_signature(SECRET, headers["sgd-timestamp"], body, headers["sgd-signature"])
    job = json.loads(body)
    assert job["job_id"] == accepted.json()["job_id"]
    assert job["status"] == "succeeded"
    assert job["result"]["assets"][0]["url"].startswith("http")

    recorded = wait_for(api, accepted.headers["location"], ("succeeded",))
    deadline = time.monotonic() + 20  # the delivery record is written after the receiver answered; a loaded CI is slow
    while recorded.get("webhook") is None and time.monotonic() < deadline:
        time.sleep(0.1)
        recorded = api.request("GET", accepted.headers["location"]).json()
    assert recorded["webhook"]["status"] == "delivered"
    assert (recorded["webhook"]["attempts"], recorded["webhook"]["last_status"]) == (2, 200)
    assert recorded["webhook"]["delivery_id"] == headers["sgd-delivery"]


def test_a_cancelled_job_sends_render_cancelled(hooked: Any, receiver: Receiver) -> None:
    receiver.statuses.clear()
    api = ApiClient(hooked)
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hooks/sgd"
    body = render_body(new_project(), webhook_url=url, outputs={"count": 6, "format": "png",
                                                                "dimensions": "2048x2048"}) | {"async": True}
    accepted = api.request("POST", "/render", body)
    assert api.request("DELETE", accepted.headers["location"]).status == 200
    assert receiver.arrived.wait(20), "no webhook arrived"
    (delivery,) = receiver.received
    assert delivery["headers"]["sgd-event"] == "render.cancelled"
    assert json.loads(delivery["body"])["status"] == "cancelled"
