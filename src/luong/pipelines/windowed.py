"""Windowed aggregations over event time: fixed (tumbling, hopping), sliding, session.

Each is a node whose processor keeps, per task, one state store and an in-memory
index of when each key's windows close (rebuilt from the store when the task
opens). Stream time (the greatest record time seen; the rules are in `windows.py`)
is stored under `STREAM_TIME_KEY` and so survives restarts and moves with the
changelog. Results are emitted on close (`emit="close"`, the final result once) or
on every update (`emit="update"`), as records whose key is the record key and whose
value is `{"start": ms, "end": ms, "value": result}`, timestamped `end - 1`. Windows
closing together are emitted in key order. Late records go to the late side output
if the pipeline asked for one (`.late()`), else they are counted and dropped.

Store layouts (keys start with `key_bytes(key)`):
    fixed     key + start (8 bytes) + end (8 bytes) -> accumulator (aggregator's dump)
    sliding   key -> {"e": last closed window time, "r": [[t, dump of t's record], ...]}
    session   key -> [[start, last, dump], ...] (in time order)
"""

from __future__ import annotations

import bisect
import heapq
import struct
from collections.abc import Callable
from typing import Any

import orjson

from luong.pipelines.aggregations import Aggregator
from luong.pipelines.codecs import key_bytes
from luong.pipelines.graph import Node
from luong.pipelines.keyed import aggregator_codec
from luong.pipelines.record import Record
from luong.pipelines.state import STREAM_TIME_KEY, StateStore
from luong.pipelines.task import Emit, TaskContext, TaskCounters, fanout
from luong.pipelines.visits import Visits as _Visits
from luong.pipelines.windows import (
    HoppingWindows,
    SessionWindows,
    SlidingWindows,
    TumblingWindows,
    WindowSpec,
)

__all__ = [
    "FixedWindowProcessor",
    "SessionWindowProcessor",
    "SlidingWindowProcessor",
    "WindowNode",
    "fold",
    "window_record",
]

_BOUNDS = struct.Struct(">qq")
_pack = _BOUNDS.pack


def window_record(cause: Record, kb: bytes, start: int, end: int, result: Any) -> Record:
    """A window's result as a record (key decoded from its canonical bytes)."""
    value = {"start": start, "end": end, "value": result}
    return Record(value, orjson.loads(kb), end - 1, [], cause.topic, cause.partition, cause.offset)


def fold(agg: Aggregator[Any, Any], dumps: list[Any]) -> Any:
    """The merge of the accumulators `dumps` (at least one) holds. The dumps are
    state (aggregators may merge in place, and `load` may return its argument), so
    each is loaded from a copy."""
    acc = agg.load(_copy(dumps[0]))
    for dump in dumps[1:]:
        acc = agg.merge(acc, agg.load(_copy(dump)))
    return acc


def _copy(dump: Any) -> Any:
    if dump is None or isinstance(dump, int | float | str | bool):
        return dump
    return orjson.loads(orjson.dumps(dump))


def _sliding_dumps(entries: list[Any], t: int, size_ms: int) -> list[Any]:
    return [dump for ts, dump in entries if t - size_ms <= ts <= t]


class _WindowProcessor:
    """What the three kinds share: stream time, lateness, emission."""

    def __init__(
        self,
        agg: Aggregator[Any, Any],
        grace_ms: int,
        on_update: bool,
        store: StateStore,
        emit: Emit,
        late: Emit | None,
        counters: TaskCounters,
    ) -> None:
        self.agg = agg
        self.grace_ms = grace_ms
        self.on_update = on_update
        self.store = store
        self.emit = emit
        self.late = late
        self.counters = counters
        self.stream_time = -(2**62)

    def open(self) -> None:
        """(Re)build what is kept in memory from the store: at the start, after a rewind."""
        stored = self.store.get(STREAM_TIME_KEY)
        self.stream_time = -(2**62) if stored is None else stored

    def _advance(self, timestamp: int) -> int:
        if timestamp > self.stream_time:
            self.stream_time = timestamp
            self.store.put(STREAM_TIME_KEY, timestamp)
        return self.stream_time

    def _late(self, record: Record) -> None:
        if self.late is None:
            self.counters.late_dropped += 1
        else:
            self.counters.late_sent += 1
            self.late(record)

    def _fold(self, dumps: list[Any]) -> Any:
        return fold(self.agg, dumps)


class FixedWindowProcessor(_WindowProcessor):
    """Tumbling and hopping windows: one accumulator per (key, window)."""

    def __init__(self, spec: TumblingWindows | HoppingWindows, *args: Any) -> None:
        super().__init__(*args)
        self.windows_for = spec.windows_for
        self._ends: dict[int, set[bytes]] = {}
        self._heap: list[int] = []

    def open(self) -> None:
        super().open()
        self._ends, self._heap = {}, []
        for sk, _ in self.store.scan():
            self._register(sk, _BOUNDS.unpack(sk[-16:])[1])

    def _register(self, sk: bytes, end: int) -> None:
        keys = self._ends.get(end)
        if keys is None:
            keys = self._ends[end] = set()
            heapq.heappush(self._heap, end)
        keys.add(sk)

    def process(self, record: Record) -> None:
        timestamp = record.timestamp
        now = self._advance(timestamp) if timestamp > self.stream_time else self.stream_time
        kb = key_bytes(record.key)
        agg, store, grace, opened, ends = self.agg, self.store, self.grace_ms, False, self._ends
        for start, end in self.windows_for(timestamp):
            if end + grace <= now:
                continue
            opened = True
            sk = kb + _pack(start, end)
            keys = ends.get(end)
            # the index holds every window in the store: a window not in it is new
            acc = store.get(sk) if keys is not None and sk in keys else None
            if acc is None:
                acc = agg.initial()
                self._register(sk, end)
            acc = agg.add(acc, record.value)
            store.put(sk, acc)
            if self.on_update:
                self.emit(window_record(record, kb, start, end, agg.result(acc)))
        if not opened:
            self._late(record)
        if self._heap and self._heap[0] + grace <= now:
            self._close(record, now)

    def _close(self, cause: Record, now: int) -> None:
        while self._heap and self._heap[0] + self.grace_ms <= now:
            end = heapq.heappop(self._heap)
            for sk in sorted(self._ends.pop(end)):
                acc = self.store.get(sk)
                if acc is not None and not self.on_update:
                    start = _BOUNDS.unpack(sk[-16:])[0]
                    result = self.agg.result(acc)
                    self.emit(window_record(cause, sk[:-16], start, end, result))
                self.store.delete(sk)


class SlidingWindowProcessor(_WindowProcessor):
    """One window per distinct record time t of a key: the records in [t - size, t]."""

    def __init__(self, spec: SlidingWindows, *args: Any) -> None:
        super().__init__(*args)
        self.size_ms = spec.size_ms
        self._visits = _Visits()

    def open(self) -> None:
        super().open()
        self._visits = _Visits()
        for kb, state in self.store.scan():
            self._schedule(kb, state)

    def process(self, record: Record) -> None:
        now = self._advance(record.timestamp)
        ts = record.timestamp
        if ts < now - self.grace_ms:
            self._late(record)
        else:
            kb = key_bytes(record.key)
            state = self.store.get(kb) or {"e": -(2**62), "r": []}
            entries = state["r"]
            single = self.agg.add(self.agg.initial(), record.value)
            times = [entry[0] for entry in entries]
            entries.insert(bisect.bisect_right(times, ts), [ts, self.agg.dump(single)])
            self.store.put(kb, state)
            if self.on_update:
                for t in sorted({t for t, _ in entries if ts <= t <= ts + self.size_ms}):
                    self.emit(self._window(record, kb, entries, t))
            self._visits.at(ts + 1 + self.grace_ms, kb)
        for kb in self._visits.due(now):
            self._visit(record, kb, now)

    def _window(self, cause: Record, kb: bytes, entries: list[Any], t: int) -> Record:
        acc = self._fold(_sliding_dumps(entries, t, self.size_ms))
        return window_record(cause, kb, t - self.size_ms, t + 1, self.agg.result(acc))

    def _visit(self, cause: Record, kb: bytes, now: int) -> None:
        state = self.store.get(kb)
        if state is None:
            return
        closed_upto = now - self.grace_ms - 1
        entries = state["r"]
        if not self.on_update:
            for t in sorted({t for t, _ in entries if state["e"] < t <= closed_upto}):
                self.emit(self._window(cause, kb, entries, t))
        state["e"] = max(state["e"], closed_upto)
        state["r"] = [entry for entry in entries if entry[0] >= now - self.grace_ms - self.size_ms]
        if state["r"]:
            self.store.put(kb, state)
            self._schedule(kb, state)
        else:
            self.store.delete(kb)

    def _schedule(self, kb: bytes, state: Any) -> None:
        pending = [t for t, _ in state["r"] if t > state["e"]]
        if pending:
            self._visits.at(min(pending) + 1 + self.grace_ms, kb)
        else:
            self._visits.at(state["r"][0][0] + self.size_ms + self.grace_ms + 1, kb)


class SessionWindowProcessor(_WindowProcessor):
    """Per key, sessions [first, last] of records closer than `gap_ms` to a neighbour."""

    def __init__(self, spec: SessionWindows, *args: Any) -> None:
        super().__init__(*args)
        self.gap_ms = spec.gap_ms
        self._visits = _Visits()

    def open(self) -> None:
        super().open()
        self._visits = _Visits()
        for kb, sessions in self.store.scan():
            self._schedule(kb, sessions)

    def process(self, record: Record) -> None:
        now = self._advance(record.timestamp)
        ts, gap, agg = record.timestamp, self.gap_ms, self.agg
        if ts < now - self.grace_ms:
            self._late(record)
        else:
            kb = key_bytes(record.key)
            sessions = self.store.get(kb) or []
            near = [s for s in sessions if s[0] - gap < ts < s[1] + gap]
            acc = agg.add(self._fold([s[2] for s in near]) if near else agg.initial(), record.value)
            start = min([ts, *(s[0] for s in near)])
            last = max([ts, *(s[1] for s in near)])
            merged = [start, last, agg.dump(acc)]
            kept = [s for s in sessions if s not in near]
            kept.insert(bisect.bisect_left([s[0] for s in kept], start), merged)
            self.store.put(kb, kept)
            if self.on_update:
                self.emit(window_record(record, kb, start, last + 1, agg.result(acc)))
            self._schedule(kb, kept)
        for kb in self._visits.due(now):
            self._visit(record, kb, now)

    def _visit(self, cause: Record, kb: bytes, now: int) -> None:
        sessions = self.store.get(kb)
        if sessions is None:
            return
        ending = now - self.grace_ms - self.gap_ms
        for start, last, dump in sessions:
            if last <= ending and not self.on_update:
                result = self.agg.result(self.agg.load(dump))
                self.emit(window_record(cause, kb, start, last + 1, result))
        remaining = [s for s in sessions if s[1] > ending]
        if remaining:
            self.store.put(kb, remaining)
            self._schedule(kb, remaining)
        else:
            self.store.delete(kb)

    def _schedule(self, kb: bytes, sessions: list[Any]) -> None:
        self._visits.at(min(s[1] for s in sessions) + self.gap_ms + self.grace_ms, kb)


_PROCESSORS: dict[type[WindowSpec], Callable[..., _WindowProcessor]] = {
    TumblingWindows: FixedWindowProcessor,
    HoppingWindows: FixedWindowProcessor,
    SlidingWindows: SlidingWindowProcessor,
    SessionWindows: SessionWindowProcessor,
}


class WindowNode(Node):
    """A windowed aggregation; `late_output` (if any) is its late side output."""

    kind = "window"

    def __init__(
        self,
        spec: WindowSpec,
        grace_ms: int,
        agg: Aggregator[Any, Any],
        on_update: bool,
        store_name: str,
    ) -> None:
        super().__init__(f"window:{store_name}")
        self.spec = spec
        self.grace_ms = grace_ms
        self.agg = agg
        self.on_update = on_update
        self.store_name = store_name
        self.late_output: Node | None = None

    def stores(self) -> list[str]:
        return [self.store_name]

    def key_of(self, store_key: bytes) -> bytes:
        fixed = isinstance(self.spec, TumblingWindows | HoppingWindows)
        return store_key[:-16] if fixed else store_key

    def rows(self, store_key: bytes, value: Any) -> list[dict[str, Any]]:
        """The key's open windows (sessions) and their results so far."""
        key, agg = orjson.loads(self.key_of(store_key)), self.agg
        if isinstance(self.spec, SessionWindows):
            windows = [(s, last + 1, agg.load(dump)) for s, last, dump in value]
        elif isinstance(self.spec, SlidingWindows):
            size = self.spec.size_ms
            times = sorted({t for t, _ in value["r"] if t > value["e"]})
            windows = [
                (t - size, t + 1, fold(agg, _sliding_dumps(value["r"], t, size))) for t in times
            ]
        else:
            windows = [(*_BOUNDS.unpack(store_key[-16:]), value)]
        return [
            {"key": key, "start": s, "end": e, "value": agg.result(acc)} for s, e, acc in windows
        ]

    def build(self, task: TaskContext, emits: list[Emit]) -> Emit:
        late = None
        results = emits
        if self.late_output is not None:
            late = emits[self.children.index(self.late_output)]
            pairs = zip(self.children, emits, strict=True)
            results = [e for c, e in pairs if c is not self.late_output]
        if isinstance(self.spec, TumblingWindows | HoppingWindows):
            encode, decode = aggregator_codec(self.agg)
            store = task.open_store(self.store_name, encode, decode)
        else:
            store = task.open_store(self.store_name)
        make = _PROCESSORS[type(self.spec)]
        args = (self.agg, self.grace_ms, self.on_update, store, fanout(results), late)
        processor = make(self.spec, *args, task.counters)
        task.opened.append(processor.open)
        process: Emit = processor.process  # type: ignore[attr-defined]
        return process
