"""Joins: a stream with a table, and two streams within a time interval.

Stream-table (`Stream.join(table, ...)`). A `Table` is a topic read whole by every
worker (Kafka Streams' GlobalKTable), kept in memory as the versions of each key by
record time. A stream record at time t sees the version with the greatest time <= t
(a tombstone's version is "no value"), so a replay joins as the live run did:
event time, not arrival, decides, provided table records are written before the
stream records that should see them. `how="inner"` drops a record without a match;
`"left"` emits it with `right=None`.

Interval join (`Stream.join_within(other, within_ms, ...)`). Records of the two
streams with the same key and times at most `within_ms` apart are combined, each
pair once, when the second of them arrives. Both streams must be keyed alike and
co-partitioned (repartitioned first if their keys changed). A record is late when
`timestamp < stream time - grace_ms` (stream time: the greatest time either side has
shown) and is then dropped. A buffered record is forgotten once no record that is
not late could match it (`timestamp < stream time - grace - within`); `"left"`
(left records) and `"outer"` (both sides) then emit it unmatched with None for the
other side. Store: `key_bytes(key) + b"\\x00L"` or `b"\\x00R"` -> `[[t, value, matched], ...]`.

`combine(left, right)` makes the joined value; by default `{"left": l, "right": r}`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

import orjson

from luong.pipelines.codecs import Codec, key_bytes
from luong.pipelines.graph import Node
from luong.pipelines.record import Record
from luong.pipelines.state import STREAM_TIME_KEY, StateStore
from luong.pipelines.task import Emit, TaskContext, TaskCounters, fanout
from luong.pipelines.visits import Visits as _Visits

__all__ = [
    "JOIN_HOW",
    "IntervalJoinNode",
    "IntervalJoinProcessor",
    "JoinSideNode",
    "Table",
    "TableJoinNode",
    "TableVersions",
    "default_combine",
]

JOIN_HOW = ("inner", "left", "outer")
Combine = Callable[[Any, Any], Any]


def default_combine(left: Any, right: Any) -> Any:
    return {"left": left, "right": right}


class TableVersions:
    """Versions of every key of a table: key bytes -> sorted [(time, value or None)].

    Filled by the worker's table reader (one per worker, shared by its tasks); read
    under the worker's lock."""

    def __init__(self) -> None:
        self._versions: dict[bytes, list[tuple[int, Any]]] = {}
        self.records = 0

    def apply(self, kb: bytes, timestamp: int, value: Any) -> None:
        versions = self._versions.setdefault(kb, [])
        index = bisect.bisect_right([t for t, _ in versions], timestamp)
        versions.insert(index, (timestamp, value))
        self.records += 1

    def at(self, kb: bytes, timestamp: int) -> Any:
        """The value of `kb` at `timestamp` (None: no value then)."""
        versions = self._versions.get(kb)
        if not versions:
            return None
        if versions[-1][0] <= timestamp:
            return versions[-1][1]
        index = bisect.bisect_right([t for t, _ in versions], timestamp)
        return versions[index - 1][1] if index else None

    def latest(self, kb: bytes) -> Any:
        versions = self._versions.get(kb)
        return versions[-1][1] if versions else None

    def items(self) -> list[tuple[bytes, Any]]:
        """(key bytes, latest value) in key order, tombstoned keys left out."""
        rows = ((kb, v[-1][1]) for kb, v in self._versions.items() if v and v[-1][1] is not None)
        return sorted(rows, key=lambda kv: kv[0])

    def __len__(self) -> int:
        return sum(1 for v in self._versions.values() if v and v[-1][1] is not None)


class Table:
    """A topic read as a table; the worker fills `versions`."""

    kind = "table"

    def __init__(self, topic: str, key_codec: Codec, value_codec: Codec, name: str) -> None:
        self.topic = topic
        self.key_codec = key_codec
        self.value_codec = value_codec
        self.name = name
        self.versions = TableVersions()


class TableJoinNode(Node):
    """Each record joined with its key's value in `table` at the record's time."""

    kind = "table_join"

    def __init__(
        self, table: Table, on: Callable[[Any], Any] | None, how: str, combine: Combine
    ) -> None:
        super().__init__(f"join:{table.name}")
        self.table = table
        self.on = on
        self.how = how
        self.combine = combine

    def build(self, task: TaskContext, emits: list[Emit]) -> Emit:
        emit, versions, on, combine = fanout(emits), self.table.versions, self.on, self.combine
        inner = self.how == "inner"

        def process(r: Record) -> None:
            right = versions.at(key_bytes(r.key if on is None else on(r.value)), r.timestamp)
            if right is None and inner:
                return
            emit(r.replace(combine(r.value, right)))

        return process


class IntervalJoinProcessor:
    """The state and rules of one interval join in one task."""

    def __init__(
        self,
        within_ms: int,
        grace_ms: int,
        how: str,
        combine: Combine,
        store: StateStore,
        emit: Emit,
        counters: TaskCounters,
    ) -> None:
        self.within_ms = within_ms
        self.grace_ms = grace_ms
        self.how = how
        self.combine = combine
        self.store = store
        self.emit = emit
        self.counters = counters
        self.stream_time = -(2**62)
        self._visits = _Visits()

    def open(self) -> None:
        stored = self.store.get(STREAM_TIME_KEY)
        self.stream_time = -(2**62) if stored is None else stored
        self._visits = _Visits()
        for sk, entries in self.store.scan():
            if entries:
                self._visits.at(self._forget_at(entries[0][0]), sk[:-2])

    def _forget_at(self, timestamp: int) -> int:
        return timestamp + self.grace_ms + self.within_ms + 1

    def process(self, record: Record, left: bool) -> None:
        ts = record.timestamp
        if ts > self.stream_time:
            self.stream_time = ts
            self.store.put(STREAM_TIME_KEY, ts)
        now = self.stream_time
        if ts < now - self.grace_ms:
            self.counters.late_dropped += 1
        else:
            self._match(record, key_bytes(record.key), left)
        for kb in self._visits.due(now):
            self._forget(record, kb, now)

    def _match(self, record: Record, kb: bytes, left: bool) -> None:
        ts, within = record.timestamp, self.within_ms
        mine, theirs = (kb + b"\x00L", kb + b"\x00R") if left else (kb + b"\x00R", kb + b"\x00L")
        others = self.store.get(theirs) or []
        matched = False
        for entry in others:
            if abs(entry[0] - ts) <= within:
                matched = entry[2] = True
                pair = (record.value, entry[1]) if left else (entry[1], record.value)
                self.emit(record.replace(self.combine(*pair), timestamp=max(ts, entry[0])))
        if matched:
            self.store.put(theirs, others)
        entries = self.store.get(mine) or []
        entries.insert(
            bisect.bisect_right([e[0] for e in entries], ts), [ts, record.value, matched]
        )
        self.store.put(mine, entries)
        self._visits.at(self._forget_at(entries[0][0]), kb)

    def _forget(self, cause: Record, kb: bytes, now: int) -> None:
        horizon = now - self.grace_ms - self.within_ms
        first: list[int] = []
        for side, is_left in ((b"\x00L", True), (b"\x00R", False)):
            entries = self.store.get(kb + side) or []
            old = [e for e in entries if e[0] < horizon]
            if self.how == "outer" or (self.how == "left" and is_left):
                for ts, value, matched in old:
                    if not matched:
                        pair = (value, None) if is_left else (None, value)
                        key = orjson.loads(kb)
                        self.emit(
                            Record(
                                self.combine(*pair),
                                key,
                                ts,
                                [],
                                cause.topic,
                                cause.partition,
                                cause.offset,
                            )
                        )
            kept = [e for e in entries if e[0] >= horizon]
            if kept:
                self.store.put(kb + side, kept)
                first.append(kept[0][0])
            elif entries:
                self.store.delete(kb + side)
        if first:
            self._visits.at(self._forget_at(min(first)), kb)


class IntervalJoinNode(Node):
    """The join itself; its two parents are `JoinSideNode`s."""

    kind = "interval_join"

    def __init__(
        self, within_ms: int, grace_ms: int, how: str, combine: Combine, store_name: str
    ) -> None:
        super().__init__(f"join:{store_name}")
        self.within_ms = within_ms
        self.grace_ms = grace_ms
        self.how = how
        self.combine = combine
        self.store_name = store_name

    def stores(self) -> list[str]:
        return [self.store_name]

    def key_of(self, store_key: bytes) -> bytes:
        return store_key[:-2]

    def rows(self, store_key: bytes, value: Any) -> list[dict[str, Any]]:
        """Records of one side waiting for a match."""
        side = "left" if store_key.endswith(b"L") else "right"
        key = orjson.loads(self.key_of(store_key))
        return [{"key": key, "side": side, "timestamp": t, "value": v} for t, v, _ in value]

    def processor(self, task: TaskContext, emit: Emit) -> IntervalJoinProcessor:
        """The task's one processor of this join (both sides share it)."""
        found = task.shared.get(id(self))
        if found is None:
            store = task.open_store(self.store_name)
            found = IntervalJoinProcessor(
                self.within_ms, self.grace_ms, self.how, self.combine, store, emit, task.counters
            )
            task.shared[id(self)] = found
            task.opened.append(found.open)
        assert isinstance(found, IntervalJoinProcessor)
        return found

    def build(self, task: TaskContext, emits: list[Emit]) -> Emit:
        return fanout(emits)


class JoinSideNode(Node):
    """Hands records of one side to the join's processor."""

    kind = "join_side"

    def __init__(self, join: IntervalJoinNode, left: bool) -> None:
        super().__init__("join-left" if left else "join-right")
        self.join = join
        self.left = left

    def build(self, task: TaskContext, emits: list[Emit]) -> Emit:
        processor = self.join.processor(task, emits[0])
        left = self.left
        return lambda r: processor.process(r, left)
