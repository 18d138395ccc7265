"""SnapStart priming: each function serves its representative requests over in-memory adapters (nothing outside
the process is reached), the hooks register only where Lambda provides them, and restore resets per-instance
state."""

import gc
import random
import sys
import types
from typing import Any

import pytest
from sgd import composition, snapstart
from sgd.adapters.aws import AwsClients
from sgd.settings import load_settings


@pytest.mark.parametrize(("function", "statuses"), [
    ("render", [200, 404]),  # a 1080x1080 design through the planner and the engine; a missing job
    ("critique", [200, 200, 200]),  # a canon put, a design rendered, then critiqued
    ("canon", [200, 404, 200, 200, 200, 200]),  # /healthz, a missing canon, a PUT, the canon, versions, /usage
    ("ingest", [200, 200]),  # an upload ticket and its status
])
def test_priming_serves_representative_requests_without_reaching_out(function: str, statuses: list[int],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-must-not-be-used")  # priming uses the local engine anyway
    made: list[str] = []
    monkeypatch.setattr(AwsClients, "_new_client", lambda self, service: made.append(service))
    settings = load_settings()
    live = getattr(composition, f"{function}_function")(settings)  # the graph Lambda invokes, over real adapters
    try:
        result = snapstart.prime(function, settings, live.handler)
        assert gc.get_freeze_count() > 0  # what priming made is kept out of the collector's walks after restore
    finally:
        gc.unfreeze()  # this test process goes on
    assert result["statuses"] == statuses
    # The live handler answers its warming requests before any route code (401), /healthz without a dependency.
    assert all(status == (200 if built["rawPath"] == "/healthz" else 401)
               for status, built in zip(result["live_statuses"], snapstart.LIVE_WARMING[function], strict=True))
    assert made == []  # no client that requests would use exists before the snapshot
    sessions = [clients._boto_session._session for clients in AwsClients._every if clients._boto_session]
    assert sessions  # the credential provider chain is built before the snapshot...
    assert all(session._credentials is None for session in sessions)  # ...but no credential is loaded


def test_hooks_register_only_where_the_runtime_provides_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "snapshot_restore_py", raising=False)
    assert snapstart.register("canon", load_settings()) is False
    registered: dict[str, list[Any]] = {"before": [], "after": []}
    module = types.ModuleType("snapshot_restore_py")
    module.register_before_snapshot = registered["before"].append  # type: ignore[attr-defined]
    module.register_after_restore = registered["after"].append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    assert snapstart.register("canon", load_settings()) is True
    assert len(registered["before"]) == len(registered["after"]) == 1
    assert registered["after"][0] is snapstart.after_restore


def test_restore_gives_each_instance_its_own_random_stream_and_no_clients() -> None:
    clients = AwsClients("us-east-1")
    clients._clients["s3"] = object()  # as if a client had been made before the snapshot
    random.seed(1234)
    snapshot_state = random.getstate()
    snapstart.after_restore()
    assert random.getstate() != snapshot_state
    assert clients._clients == {}


def test_clients_made_after_restore_start_with_the_event_names_priming_worked_out(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(AwsClients, "_event_aliases", {})
    clients = AwsClients("us-east-1")
    AwsClients.prime_all(("dynamodb",))
    primed = dict(AwsClients._event_aliases)
    assert "before-call.dynamodb.GetItem" in primed  # the names of the primed requests' events
    assert all(isinstance(name, str) and isinstance(alias, str) for name, alias in primed.items())
    snapstart.after_restore()
    client = clients.client("dynamodb")
    assert primed.items() <= client.meta.events._alias_name_cache.items()
    # ...and the emitter still answers names priming never saw, as botocore would
    assert client.meta.events._alias_event_name("before-call.dynamodb.Scan") == "before-call.dynamodb.Scan"
