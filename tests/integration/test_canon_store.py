"""The versioned canon repository against the embedded DynamoDB: append-only versions, If-Match, a cache that never
goes back."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from sgd.adapters.clock import FixedClock
from sgd.canon.service import parse_if_match
from sgd.errors import PreconditionFailed
from sgd.repositories.canon import CanonRepository
from sgd.tenancy import Tenant

pytestmark = pytest.mark.integration

CANON = {"palette_hex": ["#0B3D91", "#FFB81C"], "forbidden_hex": [], "fonts": ["Liberation Sans"],
         "voice": {"tone": "precise", "dos": [], "donts": []}, "logo_safe_zone_pct": 8}


@pytest.fixture
def store(adapters: Any) -> CanonRepository:
    return CanonRepository(adapters.canon_table, adapters.cache_table, FixedClock(datetime(2026, 11, 27, tzinfo=UTC)))


def test_versions_append_and_the_latest_is_cached(store: CanonRepository, adapters: Any) -> None:
    tenant = Tenant("acme", "store-append")
    assert store.latest(tenant) is None
    first = store.create(tenant, CANON, provenance=[], source="derived", created_by="user-1")
    second = store.create(tenant, CANON | {"fonts": ["Noto Serif"]}, provenance=[], source="manual",
                          created_by="user-2", expected_version=1)
    assert (first.version, second.version) == (1, 2)
    assert store.latest(tenant).canon["fonts"] == ["Noto Serif"]  # type: ignore[union-attr]
    assert store.version(tenant, 1).canon["fonts"] == ["Liberation Sans"]  # type: ignore[union-attr]
    assert [summary.version for summary in store.versions(tenant)] == [2, 1]
    cached = store.from_cache_item(adapters.cache_table.get(*CanonRepository.cache_key(tenant)))
    assert cached is not None
    assert cached.version == 2


def test_a_stale_if_match_is_refused_with_412(store: CanonRepository) -> None:
    tenant = Tenant("acme", "store-stale")
    store.create(tenant, CANON, provenance=[], source="derived", created_by="u")
    store.create(tenant, CANON, provenance=[], source="manual", created_by="u", expected_version=1)
    with pytest.raises(PreconditionFailed) as refused:
        store.create(tenant, CANON, provenance=[], source="manual", created_by="u", expected_version=1)
    assert refused.value.details["current_version"] == 2


def test_concurrent_writers_never_share_a_version(store: CanonRepository) -> None:
    tenant = Tenant("acme", "store-race")
    with ThreadPoolExecutor(max_workers=6) as pool:
        documents = list(pool.map(
            lambda n: store.create(tenant, CANON, provenance=[], source="manual", created_by=f"u{n}"), range(6)))
    assert sorted(document.version for document in documents) == [1, 2, 3, 4, 5, 6]
    assert store.latest(tenant).version == 6  # type: ignore[union-attr]


def test_tenants_never_see_each_others_canon(store: CanonRepository) -> None:
    store.create(Tenant("acme", "shared-name"), CANON, provenance=[], source="derived", created_by="u")
    assert store.latest(Tenant("globex", "shared-name")) is None


class CountingTable:
    """An ItemTable that counts the calls (round trips) made through it."""

    def __init__(self, table: Any) -> None:
        self.table, self.calls = table, []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.table, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return method(*args, **kwargs)
        return counted


def test_the_latest_version_read_on_its_own_is_one_round_trip_found_or_not(adapters: Any) -> None:
    versions, cache = CountingTable(adapters.canon_table), CountingTable(adapters.cache_table)
    store = CanonRepository(versions, cache, FixedClock(datetime(2026, 11, 27, tzinfo=UTC)))  # type: ignore[arg-type]
    tenant = Tenant("acme", "store-one-read")
    assert store.latest(tenant) is None
    assert (versions.calls, cache.calls) == (["query"], [])
    store.create(tenant, CANON, provenance=[{"field": "fonts", "source": "guide.pdf"}], source="manual",
                 created_by="u")
    versions.calls.clear()
    latest = store.latest(tenant)
    assert latest is not None
    assert (latest.version, latest.canon, latest.provenance) == (1, CANON, [{"field": "fonts", "source": "guide.pdf"}])
    assert versions.calls == ["query"]


def test_a_version_is_stored_as_one_document_and_versions_written_field_by_field_still_read(
        store: CanonRepository, adapters: Any) -> None:
    tenant = Tenant("acme", "store-shapes")
    store.create(tenant, CANON, provenance=[], source="derived", created_by="u")
    item = adapters.canon_table.get(tenant.partition_key, "version#00000001")
    assert isinstance(item["document"], str)
    assert "canon" not in item  # one string to decode, not a map per field
    # a version written the earlier way: each field its own attribute
    adapters.canon_table.put({"pk": tenant.partition_key, "sk": "version#00000002", "org": tenant.org,
                              "project_id": tenant.project, "version": 2, "canon": CANON | {"fonts": ["Lora"]},
                              "provenance": [], "created_at": "2026-11-01T00:00:00+00:00", "created_by": "old",
                              "source": "manual"})
    latest = store.latest(tenant)
    assert latest is not None
    assert (latest.version, latest.canon["fonts"], latest.created_by) == (2, ["Lora"], "old")
    assert store.version(tenant, 1).canon == CANON  # type: ignore[union-attr]
    assert [(summary.version, summary.source) for summary in store.versions(tenant)] == [(2, "manual"),
                                                                                         (1, "derived")]
    assert store.create(tenant, CANON, provenance=[], source="manual", created_by="u").version == 3


@pytest.mark.parametrize(("header", "versions", "any_existing"), [
    ("*", set(), True), ("3", {3}, False), ('"3"', {3}, False), ('W/"12"', set(), False),
    ('"3", "4"', {3, 4}, False), (' W/"3" , "5" ', {5}, False), ('"7",W/"8"', {7}, False),
])
def test_if_match_forms(header: str, versions: set[int], any_existing: bool) -> None:
    precondition = parse_if_match(header)
    assert precondition is not None
    assert (set(precondition.versions), precondition.any_existing) == (versions, any_existing)


def test_no_if_match_is_no_precondition() -> None:
    assert parse_if_match(None) is None


def test_if_match_that_is_not_a_version_is_a_412() -> None:
    with pytest.raises(PreconditionFailed):
        parse_if_match('"abc"')
    with pytest.raises(PreconditionFailed):
        parse_if_match('"3" "4"')  # a list needs commas
