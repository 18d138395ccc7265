"""State the tests and benches start from, written the way the functions write it: through the repositories (which
own every key) and the tenant's object keys, over a local runtime's moto server."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from sgd.repositories.assets import AssetRecord, AssetRecords
from sgd.repositories.canon import CanonRepository, CanonVersion
from sgd.tenancy import Tenant


@functools.cache
def runtime_adapters(runtime: Any) -> Any:
    """The composition root's adapters over a local runtime's moto server, configured as its functions are."""
    from sgd.composition import Adapters
    from sgd.settings import Settings

    settings = Settings.model_validate(runtime.function_environment("CanonFunction"))
    return Adapters.from_settings(settings, clients=runtime.aws.client)


def lift_rate_limits(runtime: Any, org: str) -> None:
    """Latency benches measure the product path at machine speed, not the per-org rate limiter (bench.load and the
    rate limit tests do): the org gets limits it cannot reach. Their runtimes run without the stage throttle for the
    same reason."""
    from sgd.repositories.rate_limits import RateLimitCounters
    from sgd.settings import ROUTE_CLASSES

    limits = dict.fromkeys(ROUTE_CLASSES, 1_000_000)
    RateLimitCounters(runtime_adapters(runtime).usage_table).set_org_limits(org, limits)


def seed_asset(adapters: Any, tenant: Tenant, asset_id: str, data: bytes | None, *, kind: str = "image",
               content_type: str = "image/png", filename: str | None = None, **fields: Any) -> AssetRecord:
    """What ingest leaves behind for an admitted file: the object under assets/ (unless data is None: a record whose
    file is gone) and its asset record."""
    key = tenant.asset_key(asset_id, filename or f"file.{content_type.rsplit('/', 1)[-1]}")
    if data is not None:
        adapters.storage.put(key, data, content_type=content_type)
    record = AssetRecord(**({"org": tenant.org, "project": tenant.project, "asset_id": asset_id, "key": key,
                             "status": "admitted", "created_at": datetime.now(UTC).isoformat(), "kind": kind,
                             "content_type": content_type} | fields))
    AssetRecords(adapters.assets_table).save(record)
    return record


def canon_repository(adapters: Any) -> CanonRepository:
    return CanonRepository(adapters.canon_table, adapters.cache_table, adapters.clock)


def seed_canon(adapters: Any, tenant: Tenant, canon: dict[str, Any]) -> CanonVersion:
    return canon_repository(adapters).create(tenant, canon, provenance=[], source="manual", created_by="test")
