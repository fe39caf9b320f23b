"""Interactive queries: a running worker's state, as JSON-ready rows.

Each queryable store's rows come from the node that keeps it (its `key_of(store
key)` and `rows(store key, value)`, next to the store's layout):

    window (tumbling, hopping)   {"key", "start", "end", "value"} per open window
    window (sliding)             {"key", "start", "end", "value"} per open window
    window (session)             {"key", "start", "end", "value"} per open session
    aggregate                    {"key", "value"}
    stateful function            {"key", "name", "value"} per name set for the key
    interval join                {"key", "side", "buffered"} (records awaiting a match)
    table                        {"key", "value"} (latest value)

Keys are given as the pipeline sees them (JSON values: a str key is a str). A key
lookup asks every partition of the store this worker holds; a key it does not hold
is simply not found here (ask the worker whose status lists the key's partition).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from luong.pipelines.codecs import key_bytes
from luong.pipelines.joins import Table
from luong.pipelines.state import StateStore
from luong.pipelines.windowed import WindowNode

__all__ = ["Row", "key_rows", "range_rows", "store_kind"]

Row = dict[str, Any]


def store_kind(owner: Any) -> str:
    if isinstance(owner, WindowNode):
        return f"window:{owner.spec.kind}"
    return str(getattr(owner, "kind", "store"))


def key_rows(owner: Any, stores: Iterable[StateStore], key: Any) -> list[Row]:
    """Rows of `key` in the worker's partitions of the store."""
    kb = key_bytes(key)
    if isinstance(owner, Table):
        value = owner.versions.latest(kb)
        return [] if value is None else [{"key": key, "value": value}]
    rows: list[Row] = []
    for store in stores:
        for sk, value in store.prefix(kb):
            if owner.key_of(sk) == kb:
                rows.extend(owner.rows(sk, value))
    return rows


def range_rows(
    owner: Any, stores: Iterable[StateStore], start: Any, stop: Any, limit: int
) -> list[Row]:
    """Rows of keys from `start` (inclusive) to `stop` (exclusive) in key order (keys
    compared as canonical JSON bytes: strings among themselves sort as strings)."""
    low = b"" if start is None else key_bytes(start)
    high = None if stop is None else key_bytes(stop)
    if isinstance(owner, Table):
        items = [
            (kb, v) for kb, v in owner.versions.items() if kb >= low and (high is None or kb < high)
        ]
        return [{"key": orjson.loads(kb), "value": v} for kb, v in items[:limit]]
    rows: list[Row] = []
    for store in stores:
        for sk, value in store.scan(low, high):
            rows.extend(owner.rows(sk, value))
    rows.sort(key=lambda row: key_bytes(row["key"]))
    return rows[:limit]
