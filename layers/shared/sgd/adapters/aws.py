"""boto3 clients of one process, made on first use and reused by warm invocations.

boto3 honours AWS_ENDPOINT_URL, which is how the local runtime points the functions at its moto server.
boto3 itself (~250 ms) is imported on the first client, so routes that never touch AWS (and the HTTP cold start
of every function) do not pay for it. The composition root makes one AwsClients per process; every adapter
takes its `client(service)` as a ClientSource, so tests hand adapters the local runtime's clients instead.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from sgd.observability import trace_library

ClientSource = Callable[[str], Any]  # service name ("s3", "dynamodb", ...) -> a boto3 client


class AwsClients:
    _every: weakref.WeakSet[AwsClients] = weakref.WeakSet()
    # Event name -> its aliased name, as botocore's emitter works them out: each client's emitter starts with an
    # empty cache and loops over every alias for each event of its first calls (~2 ms of a restored instance's
    # first request). Names only, the same for every client; filled by the clients primed before the snapshot.
    _event_aliases: dict[str, str] = {}

    def __init__(self, region: str) -> None:
        self.region = region
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._boto_session: Any = None  # one boto3 session: its loaded models are shared by the clients it makes
        AwsClients._every.add(self)

    @classmethod
    def forget_all(cls) -> None:
        """Drops every client made so far (after a SnapStart restore: no connection or credential is reused)."""
        for clients in list(cls._every):
            with clients._lock:
                clients._clients.clear()

    @classmethod
    def prime_all(cls, services: tuple[str, ...]) -> None:
        """Before a SnapStart snapshot: loads each service's model, endpoint rules, client class and the credential
        provider chain into every AwsClients' boto3 session by making a client with placeholder credentials and
        dropping it. No credential is resolved and no connection opened; the clients requests use are made after
        restore. botocore is X-Ray-patched here too (when tracing is on), as the first client would otherwise do after
        restore."""
        trace_library("botocore")
        for clients in list(cls._every):
            with clients._lock:
                # The chain of credential providers (which sources to ask, in order), not credentials: those are
                # loaded by the first client made after restore.
                clients._session()._session.get_component("credential_provider")
                for service in services:
                    client = clients._session().client(service, region_name=clients.region, config=_client_config(),
                                                       aws_access_key_id="snapstart-priming",
                                                       aws_secret_access_key="snapstart-priming")  # noqa: S106
                    _prime_requests(client, service)
                    cls._event_aliases.update(getattr(client.meta.events, "_alias_name_cache", {}))

    def _session(self) -> Any:
        if self._boto_session is None:
            from boto3.session import Session

            self._boto_session = Session()
        return self._boto_session

    def client(self, service: str) -> Any:
        """The process's client for `service`; threads asking together get the same one."""
        existing = self._clients.get(service)
        if existing is not None:
            return existing
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._new_client(service)
            return self._clients[service]

    def _new_client(self, service: str) -> Any:
        trace_library("botocore")
        client = self._session().client(service, region_name=self.region, config=_client_config())
        known = getattr(client.meta.events, "_alias_name_cache", None)  # botocore's; absent in another version
        if isinstance(known, dict):
            known.update(self._event_aliases)
        return client


# Requests made once per service before the snapshot and answered in process (botocore's before-send hook), so
# that serialising, endpoint rules, signing, retry handling and parsing have run before the first real request.
_PRIMING_KEY = {"pk": {"S": "snapstart-priming"}, "sk": {"S": "snapstart-priming"}}
# Each operation's client side only (its shapes, not the schema's expressions: those are the repositories').
PRIMING_REQUESTS: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = {
    "dynamodb": (
        ("get_item", {"TableName": "priming", "Key": _PRIMING_KEY}),
        ("query", {"TableName": "priming", "Limit": 1, "KeyConditions": {"pk": {
            "AttributeValueList": [{"S": "snapstart-priming"}], "ComparisonOperator": "EQ"}}}),
        ("batch_get_item", {"RequestItems": {"priming": {"Keys": [_PRIMING_KEY]}}}),
        ("put_item", {"TableName": "priming", "Item": _PRIMING_KEY}),
        ("update_item", {"TableName": "priming", "Key": _PRIMING_KEY, "ReturnValues": "ALL_NEW",
                         "AttributeUpdates": {"count": {"Action": "ADD", "Value": {"N": "1"}}}}),
    ),
    "s3": (
        ("get_object", {"Bucket": "snapstart-priming", "Key": "priming"}),
        ("put_object", {"Bucket": "snapstart-priming", "Key": "priming", "Body": b"priming"}),
    ),
}


class _CannedBody:
    """The raw body of a canned response: what botocore reads from urllib3's."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any, **__: Any) -> bytes:
        body, self._body = self._body, b""
        return body


def _prime_requests(client: Any, service: str) -> None:
    from botocore.awsrequest import AWSResponse

    def answer(request: Any, **_: Any) -> Any:
        body = b"{}" if service == "dynamodb" else b""
        return AWSResponse(request.url, 200, {"Content-Length": str(len(body))}, _CannedBody(body))

    client.meta.events.register("before-send", answer)
    for operation, parameters in PRIMING_REQUESTS.get(service, ()):
        getattr(client, operation)(**parameters)


def _client_config() -> Any:
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=10,
                  tcp_keepalive=True)


def error_code(error: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError ("ConditionalCheckFailedException", "NoSuchKey", ...)."""
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def is_condition_failure(error: BaseException) -> bool:
    """True for DynamoDB's ConditionalCheckFailedException, recognised by its error code.

    Not `except client.exceptions.ConditionalCheckFailedException`: botocore builds a client's exception classes
    lazily, and threads that first touch them together can get different classes, so the `except` misses the
    one actually raised (seen as an intermittent 500 among 20 concurrent budget reservations).
    """
    return error_code(error) == "ConditionalCheckFailedException"
