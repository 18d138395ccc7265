"""Typed records and the one way they become table items and back.

A record is a frozen dataclass whose fields are the item's attributes. Attributes the record does not name are
ignored on the way in (an older or newer item shape still reads), and unset (None) fields are not written.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from sgd.adapters.tables import Item

Record = TypeVar("Record")


def from_item(cls: type[Record], item: Item, **fields: Any) -> Record:
    """The record of `cls` an item holds; `fields` fill or override attributes (e.g. ones derived from the key)."""
    names = {field.name for field in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**({name: value for name, value in item.items() if name in names} | fields))


def to_item(record: Any, **key: str) -> Item:
    """The item of a record, under `key` (pk, and sk where the table has one); None fields are left out."""
    attributes = {field.name: getattr(record, field.name) for field in dataclasses.fields(record)}
    return {name: value for name, value in attributes.items() if value is not None} | key
