"""The embedded AWS: moto's server, with DynamoDB item writes made atomic as they are in DynamoDB, S3's write
rules enforced (sgd_local.s3_guard: presigned POST policies, no anonymous writes) and (with --journal PATH) every
successful write appended to a journal (sgd_local.journal).

moto checks a ConditionExpression and then applies the update in separate Python steps, and its server is
threaded, so two concurrent conditional writes can both pass (found by the budget test: 20 concurrent
reservations against one budget item). DynamoDB serialises writes to an item; one lock over moto's write
operations gives the local runtime the same guarantee.
"""

from __future__ import annotations

import argparse
import functools
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

from sgd_local.s3_guard import enforce_s3_policies

WRITE_OPERATIONS = ("put_item", "update_item", "delete_item", "transact_write_items")
_write_lock = threading.RLock()


def _serialised(operation: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(operation)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _write_lock:
            return operation(*args, **kwargs)

    return locked


def make_dynamodb_writes_atomic() -> None:
    for name in WRITE_OPERATIONS:
        setattr(DynamoDBBackend, name, _serialised(getattr(DynamoDBBackend, name)))


def serve_with_journal(host: str, port: int, journal: Path) -> None:
    """moto's own server (its app and request handler), behind the journalling middleware."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    from sgd_local.journal import Journal, JournallingApp

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = JournallingApp(DomainDispatcherApplication(create_backend_app), Journal(journal))
    run_simple(host, port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    make_dynamodb_writes_atomic()
    enforce_s3_policies()
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--journal")
    known, rest = parser.parse_known_args()
    if known.journal:
        options = argparse.ArgumentParser()
        options.add_argument("-H", "--host", default="127.0.0.1")
        options.add_argument("-p", "--port", type=int, default=5000)
        served = options.parse_args(rest)
        serve_with_journal(served.host, served.port, Path(known.journal))
    else:
        main(rest)
