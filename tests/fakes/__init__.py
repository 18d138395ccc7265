"""In-memory stand-ins for the adapters (tests only), and the adapters the composition root builds over them."""

from __future__ import annotations

from datetime import UTC, datetime

from sgd.adapters.clock import Clock, FixedClock
from sgd.adapters.secrets import SecretsManagerSecrets
from sgd.composition import Adapters

from tests.fakes.storage import MemoryStorage
from tests.fakes.tables import MemoryTable


def memory_adapters(clock: Clock | None = None) -> Adapters:
    """Adapters with every table and the bucket in memory; nothing reaches AWS (a boto3 client is never made)."""

    def no_aws(service: str) -> object:
        raise AssertionError(f"an in-memory test asked for a real {service} client")

    return Adapters(clients=no_aws, storage=MemoryStorage(), assets_table=MemoryTable("AssetsTable"),
                    cache_table=MemoryTable("CacheTable"), canon_table=MemoryTable("CanonTable"),
                    jobs_table=MemoryTable("JobsTable"), usage_table=MemoryTable("UsageTable"),
                    clock=clock or FixedClock(datetime(2026, 12, 1, tzinfo=UTC)), secrets=SecretsManagerSecrets(no_aws))
