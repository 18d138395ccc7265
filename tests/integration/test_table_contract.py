"""One contract for the ItemTable port, run against the in-memory fake the unit tests use and against the
moto-backed DynamoItemTable: conditions and updates mean the same on both."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sgd.adapters.memory import MemoryTable
from sgd.adapters.tables import DynamoItemTable, ItemTable, Update, absent, compare, eq, exists, le, lt, one_of
from sgd.repositories.versioned import only_if_newer

pytestmark = pytest.mark.integration


@pytest.fixture(params=["memory", "dynamodb"])
def table(request: pytest.FixtureRequest) -> Iterator[ItemTable]:
    if request.param == "memory":
        yield MemoryTable("JobsTable")
    else:
        runtime = request.getfixturevalue("runtime")
        yield DynamoItemTable("JobsTable", runtime.aws.client)


@pytest.fixture(params=["memory", "dynamodb"])
def cache_table(request: pytest.FixtureRequest) -> Iterator[ItemTable]:
    """A table with a partition key only, like the cache table."""
    if request.param == "memory":
        yield MemoryTable("CacheTable")
    else:
        runtime = request.getfixturevalue("runtime")
        yield DynamoItemTable("CacheTable", runtime.aws.client)


def fresh(prefix: str = "org") -> str:
    """A partition no other test writes: the runtime's tables are shared by the session."""
    return f"{prefix}#{uuid.uuid4().hex[:12]}"


def test_put_get_and_values_round_trip(table: ItemTable) -> None:
    pk = fresh()
    item = {"pk": pk, "sk": "job#001", "progress": 0.5, "count": 3, "nested": {"ratio": 1.25, "tags": ["a", "b"]},
            "flag": True, "nothing": None}
    assert table.put(item)
    assert table.get(pk, "job#001") == item
    assert table.get(pk, "job#002") is None


def test_a_conditional_put_writes_only_when_the_condition_holds(table: ItemTable) -> None:
    pk = fresh()
    assert table.put({"pk": pk, "sk": "a", "n": 1}, when=absent("pk"))
    assert not table.put({"pk": pk, "sk": "a", "n": 2}, when=absent("pk"))
    assert table.get(pk, "a") == {"pk": pk, "sk": "a", "n": 1}
    assert table.put({"pk": pk, "sk": "a", "n": 3}, when=exists("pk") & eq("n", 1))
    assert not table.put({"pk": pk, "sk": "a", "n": 4}, when=eq("n", 1))
    assert table.get(pk, "a")["n"] == 3  # type: ignore[index]


def test_comparisons_with_a_missing_attribute_are_false(table: ItemTable) -> None:
    pk = fresh()
    table.put({"pk": pk, "sk": "a"})
    assert not table.put({"pk": pk, "sk": "a", "v": 1}, when=lt("version", 5))
    assert not table.put({"pk": pk, "sk": "a", "v": 1}, when=eq("version", 5))
    assert table.put({"pk": pk, "sk": "a", "v": 1}, when=absent("version") | lt("version", 5))


@pytest.mark.parametrize(("condition", "holds"), [
    (eq("status", "running"), True), (compare("status", "<>", "running"), False),
    (one_of("status", ["queued", "running"]), True), (one_of("status", ["succeeded", "failed"]), False),
    (~one_of("status", ["succeeded", "failed"]), True), (le("n", 5), True), (lt("n", 5), False),
    (compare("n", ">", 4), True), (compare("n", ">=", 6), False),
    (eq("status", "running") & lt("n", 5), False), (eq("status", "running") | lt("n", 5), True),
    (~(eq("status", "queued") | absent("n")), True),
])
def test_conditions_combine_as_dynamodb_evaluates_them(table: ItemTable, condition: Any, holds: bool) -> None:
    pk = fresh()
    table.put({"pk": pk, "sk": "a", "status": "running", "n": 5})
    assert (table.update(pk, "a", Update(set={"seen": True}), when=condition) is not None) is holds
    assert table.get(pk, "a").get("seen") is (True if holds else None)  # type: ignore[union-attr]


def test_updates_set_add_and_keep_existing_values(table: ItemTable) -> None:
    pk = fresh()
    created = table.update(pk, "day", Update(add={"spent": 5, "calls": 1}, set={"limit": 100},
                                             set_if_absent={"expires_at": 10}))
    assert created == {"pk": pk, "sk": "day", "spent": 5, "calls": 1, "limit": 100, "expires_at": 10}
    again = table.update(pk, "day", Update(add={"spent": -2}, set_if_absent={"expires_at": 99}))
    assert again is not None
    assert (again["spent"], again["calls"], again["expires_at"]) == (3, 1, 10)


def test_a_conditional_update_changes_nothing_when_refused(table: ItemTable) -> None:
    pk = fresh()
    table.put({"pk": pk, "sk": "job", "status": "succeeded"})
    assert table.update(pk, "job", Update(set={"status": "cancelled"}),
                        when=exists("pk") & one_of("status", ["queued", "running"])) is None
    assert table.get(pk, "job") == {"pk": pk, "sk": "job", "status": "succeeded"}
    assert table.update(fresh(), "missing", Update(set={"status": "x"}), when=exists("pk")) is None


def test_queries_are_ordered_filtered_by_prefix_and_limited(table: ItemTable) -> None:
    pk, other = fresh(), fresh()
    for index in range(1, 8):
        table.put({"pk": pk, "sk": f"job#{index:03}", "n": index})
    table.put({"pk": pk, "sk": "other#001"})
    table.put({"pk": other, "sk": "job#001"})
    newest = table.query(pk, sk_prefix="job#", newest_first=True, limit=3)
    assert [item["sk"] for item in newest] == ["job#007", "job#006", "job#005"]
    assert [item["n"] for item in table.query(pk, sk_prefix="job#")] == list(range(1, 8))
    assert len(table.query(pk)) == 8


def test_get_many_returns_what_exists(table: ItemTable) -> None:
    pk = fresh()
    table.put({"pk": pk, "sk": "a", "n": 1})
    table.put({"pk": pk, "sk": "b", "n": 2})
    found = table.get_many([(pk, "a"), (pk, "b"), (pk, "c"), (pk, "a")])
    assert found == {(pk, "a"): {"pk": pk, "sk": "a", "n": 1}, (pk, "b"): {"pk": pk, "sk": "b", "n": 2}}


def test_delete(table: ItemTable) -> None:
    pk = fresh()
    table.put({"pk": pk, "sk": "a"})
    table.delete(pk, "a")
    assert table.get(pk, "a") is None


def test_partition_only_tables(cache_table: ItemTable) -> None:
    key = fresh("plan")
    assert cache_table.put({"pk": key, "plan": {"goal": "x"}, "expires_at": 1}, when=absent("pk"))
    assert not cache_table.put({"pk": key}, when=absent("pk"))
    assert cache_table.get(key) == {"pk": key, "plan": {"goal": "x"}, "expires_at": 1}
    assert cache_table.get_many([(key, None)]) == {(key, None): {"pk": key, "plan": {"goal": "x"}, "expires_at": 1}}


def test_a_versioned_cache_item_never_goes_back(cache_table: ItemTable) -> None:
    key = fresh("canon")
    assert cache_table.put({"pk": key, "version": 3}, when=only_if_newer(3))
    assert not cache_table.put({"pk": key, "version": 2}, when=only_if_newer(2))
    assert cache_table.put({"pk": key, "version": 4}, when=only_if_newer(4))
    assert cache_table.get(key)["version"] == 4  # type: ignore[index]


def test_an_expired_item_of_the_same_version_is_renewed(cache_table: ItemTable) -> None:
    key = fresh("canon")
    assert cache_table.put({"pk": key, "version": 2, "expires_at": 1}, when=only_if_newer(2, now=100))
    assert cache_table.put({"pk": key, "version": 2, "expires_at": 2**40}, when=only_if_newer(2, now=100))
    assert not cache_table.put({"pk": key, "version": 2, "expires_at": 2**41}, when=only_if_newer(2, now=100))
    assert cache_table.get(key)["expires_at"] == 2**40  # type: ignore[index]


def test_concurrent_conditional_adds_never_pass_the_limit(table: ItemTable) -> None:
    """What the budget relies on: 20 reservations of 1 against a limit of 5 commit exactly 5."""
    pk = fresh()

    def reserve(_: int) -> bool:
        return table.update(pk, "budget", Update(add={"committed": 1}),
                            when=absent("committed") | le("committed", 4)) is not None

    with ThreadPoolExecutor(max_workers=8) as pool:
        granted = sum(pool.map(reserve, range(20)))
    assert granted == 5
    assert table.get(pk, "budget")["committed"] == 5  # type: ignore[index]
