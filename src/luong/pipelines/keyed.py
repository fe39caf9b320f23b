"""Keyed state for user functions, running aggregations per key, named aggregations.

`KeyState` is what `map(fn, stateful=True)` hands to `fn`: values by name for the
current record's key, each with an optional time to live in event time (a value set
at stream time t with `ttl_ms` is gone once the operator's stream time reaches
t + ttl_ms). Store layout: `key_bytes(key) + b"\\x00" + name` -> `[value, expires]`.

`AggregateNode` folds every record into its key's accumulator and emits the new
result each time (a table's change stream); its store maps `key_bytes(key)` to the
aggregator's `dump` of the accumulator.
"""

from __future__ import annotations

import heapq
from typing import Any

import orjson

from luong.pipelines.aggregations import Aggregator
from luong.pipelines.codecs import key_bytes
from luong.pipelines.graph import Node
from luong.pipelines.record import Record
from luong.pipelines.state import STREAM_TIME_KEY, StateStore, json_decode, json_encode
from luong.pipelines.task import Emit, TaskContext, fanout

__all__ = ["AggregateNode", "Aggregations", "KeyState", "aggregator_codec", "as_aggregator"]

_NAME_SEPARATOR = b"\x00"


class KeyState:
    """get/set/delete of named values for the key of the record being processed."""

    def __init__(self, store: StateStore) -> None:
        self._store = store
        self._prefix = b""
        self._stream_time = -1
        self._expiry: list[tuple[int, bytes]] = []

    def open(self) -> None:
        self._stream_time = self._store.get(STREAM_TIME_KEY) or -1
        self._expiry = []
        for key, (_, expires) in self._store.scan():
            if expires is not None:
                heapq.heappush(self._expiry, (expires, key))

    def bind(self, record: Record) -> KeyState:
        self._prefix = key_bytes(record.key) + _NAME_SEPARATOR
        if record.timestamp > self._stream_time:
            self._stream_time = record.timestamp
            self._store.put(STREAM_TIME_KEY, record.timestamp)
            self._expire()
        return self

    def get(self, name: str, default: Any = None) -> Any:
        """The value stored under `name` for this key, or `default`."""
        entry = self._store.get(self._prefix + name.encode())
        if entry is None or (entry[1] is not None and entry[1] <= self._stream_time):
            return default
        return entry[0]

    def set(self, name: str, value: Any, ttl_ms: int | None = None) -> None:
        """Store a JSON-serialisable `value`; with `ttl_ms`, for that long in event time."""
        key = self._prefix + name.encode()
        expires = None if ttl_ms is None else self._stream_time + ttl_ms
        self._store.put(key, [value, expires])
        if expires is not None:
            heapq.heappush(self._expiry, (expires, key))

    def delete(self, name: str) -> None:
        self._store.delete(self._prefix + name.encode())

    def _expire(self) -> None:
        while self._expiry and self._expiry[0][0] <= self._stream_time:
            _, key = heapq.heappop(self._expiry)
            entry = self._store.get(key)
            if entry is not None and entry[1] is not None and entry[1] <= self._stream_time:
                self._store.delete(key)


class Aggregations(Aggregator[dict[str, Any], dict[str, Any]]):
    """Several named aggregators over the same records; the result is a dict."""

    def __init__(self, named: dict[str, Aggregator[Any, Any]]) -> None:
        if not named:
            raise ValueError("aggregate() wants at least one aggregation")
        self.named = named

    def initial(self) -> dict[str, Any]:
        return {name: agg.initial() for name, agg in self.named.items()}

    def add(self, acc: dict[str, Any], value: Any) -> dict[str, Any]:
        for name, agg in self.named.items():
            acc[name] = agg.add(acc[name], value)
        return acc

    def merge(self, left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
        return {name: agg.merge(left[name], right[name]) for name, agg in self.named.items()}

    def result(self, acc: dict[str, Any]) -> dict[str, Any]:
        return {name: agg.result(acc[name]) for name, agg in self.named.items()}

    def dump(self, acc: dict[str, Any]) -> Any:
        return {name: agg.dump(acc[name]) for name, agg in self.named.items()}

    def load(self, data: Any) -> dict[str, Any]:
        return {name: agg.load(data[name]) for name, agg in self.named.items()}


def as_aggregator(
    single: Aggregator[Any, Any] | None, named: dict[str, Aggregator[Any, Any]]
) -> Aggregator[Any, Any]:
    """`aggregate(Count())` or `aggregate(n=Count(), mean=Mean("t"))`, not both."""
    if single is not None and named:
        raise ValueError("aggregate() takes one aggregation or named ones, not both")
    if single is not None:
        if not isinstance(single, Aggregator):
            raise TypeError(f"{single!r} is not an Aggregator (Count(), Sum(...), ...)")
        return single
    for name, agg in named.items():
        if not isinstance(agg, Aggregator):
            raise TypeError(f"{name}={agg!r} is not an Aggregator (Count(), Sum(...), ...)")
    return Aggregations(named)


def aggregator_codec(agg: Aggregator[Any, Any]) -> tuple[Any, Any]:
    """(encode, decode) for a store holding `agg`'s accumulators."""

    def encode(acc: Any) -> bytes:
        return json_encode(agg.dump(acc))

    def decode(data: bytes) -> Any:
        return agg.load(json_decode(data))

    return encode, decode


class AggregateNode(Node):
    """Running aggregation per key: emits `result` after every record (a table)."""

    kind = "aggregate"

    def __init__(self, aggregator: Aggregator[Any, Any], store_name: str) -> None:
        super().__init__(f"aggregate:{store_name}")
        self.aggregator = aggregator
        self.store_name = store_name

    def stores(self) -> list[str]:
        return [self.store_name]

    def rows(self, store_key: bytes, value: Any) -> list[dict[str, Any]]:
        return [{"key": orjson.loads(store_key), "value": self.aggregator.result(value)}]

    def build(self, task: TaskContext, emits: list[Emit]) -> Emit:
        agg = self.aggregator
        encode, decode = aggregator_codec(agg)
        store = task.open_store(self.store_name, encode, decode)
        emit = fanout(emits)

        def process(r: Record) -> None:
            kb = key_bytes(r.key)
            acc = store.get(kb)
            acc = agg.add(agg.initial() if acc is None else acc, r.value)
            store.put(kb, acc)
            emit(r.replace(agg.result(acc)))

        return process
