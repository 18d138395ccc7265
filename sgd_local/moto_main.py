"""The embedded AWS: moto's server, with DynamoDB item writes made atomic as they are in DynamoDB, and S3's
write rules enforced (sgd_local.s3_guard: presigned POST policies, no anonymous writes).

moto checks a ConditionExpression and then applies the update in separate Python steps, and its server is
threaded, so two concurrent conditional writes can both pass (found by the budget test: 20 concurrent
reservations against one budget item). DynamoDB serialises writes to an item; one lock over moto's write
operations gives the local runtime the same guarantee.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
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


if __name__ == "__main__":
    make_dynamodb_writes_atomic()
    enforce_s3_policies()
    main()
