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
import inspect
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

from sgd_local.s3_guard import enforce_s3_policies

WRITE_OPERATIONS = ("put_item", "update_item", "delete_item", "transact_write_items")
_write_lock = threading.RLock()


def _serialised(operation: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(operation)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _write_lock:
            return operation(*args, **kwargs)

    return locked


def cache_service_lookup() -> None:
    """moto's dispatcher lists its own package directory (a listdir and a stat per service) on every request to
    tell a service name from a host name; the list never changes while the server runs."""
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]


def cache_update_expression_parsing() -> None:
    """moto parses an UpdateExpression twice per UpdateItem (once to check its names and values, once to apply
    it), about a third of the call; SGD's writes use a handful of expressions. The parsed tree is only read:
    moto's validator deep-copies it before resolving names and values."""
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    parse = UpdateExpressionParser.make.__func__  # type: ignore[attr-defined]
    parsed = functools.lru_cache(maxsize=256)(lambda expression: parse(UpdateExpressionParser, expression))
    UpdateExpressionParser.make = classmethod(lambda cls, expression: parsed(expression))  # type: ignore[assignment]


class _OnePartition:
    """A table as its Query sees it: every attribute the table's, but only the items of one partition whose sort
    key meets the key condition (moto's own comparison; moto compares them again)."""

    def __init__(self, table: Any, hash_key: Any, range_comparison: str | None, range_objs: list[Any]) -> None:
        self._table = table
        self._hash_key = hash_key
        self._range_comparison = range_comparison
        self._range_objs = range_objs

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Any]:
        items = self._table.items.get(self._hash_key, {}).values()
        if not self._range_comparison:
            return list(items)
        return [item for item in items if item.range_key.compare(self._range_comparison, self._range_objs)]


def query_one_partition() -> None:
    """moto answers a Query by listing and sorting every item of the table, then keeping the partition's: each
    query costs O(n log n) in the table's size, and it sizes every item of the partition, matching or not
    (10,000 items: 66 ms a query). DynamoDB reads the key range of one partition, and so does this for queries
    of a table with a sort key (SGD has no index): 3 ms. moto's own code still filters, sorts, pages and
    projects them."""
    from moto.dynamodb.models.table import Table

    query: Callable[..., Any] = Table.query  # called with a stand-in for the table as `self`
    signature = inspect.signature(query)

    def partition_query(self: Any, *args: Any, **kwargs: Any) -> Any:
        called = signature.bind(self, *args, **kwargs).arguments
        if called.get("index_name") or not self.range_key_attr or called.get("hash_key") is None:
            return query(self, *args, **kwargs)
        partition = _OnePartition(self, called["hash_key"], called.get("range_comparison"),
                                  called.get("range_objs") or [])
        return query(partition, *args, **kwargs)

    Table.query = partition_query  # type: ignore[method-assign]


def make_dynamodb_writes_atomic() -> None:
    for name in WRITE_OPERATIONS:
        setattr(DynamoDBBackend, name, _serialised(getattr(DynamoDBBackend, name)))


def serve(host: str, port: int, journal: Path | None) -> None:
    """moto's app (behind the journalling middleware with a journal) on keep-alive connections."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from sgd_local.journal import Journal, JournallingApp
    from sgd_local.moto_http import serve as serve_keep_alive

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app: Any = DomainDispatcherApplication(create_backend_app)
    if journal is not None:
        app = JournallingApp(app, Journal(journal))
    serve_keep_alive(host, port, app)


if __name__ == "__main__":
    cache_service_lookup()
    cache_update_expression_parsing()
    query_one_partition()
    make_dynamodb_writes_atomic()
    enforce_s3_policies()
    options = argparse.ArgumentParser()
    options.add_argument("--journal", type=Path)
    options.add_argument("-H", "--host", default="127.0.0.1")
    options.add_argument("-p", "--port", type=int, default=5000)
    served = options.parse_args()
    serve(served.host, served.port, served.journal)
