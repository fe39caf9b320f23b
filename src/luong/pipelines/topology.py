"""The stateless operators: sources, filter/map/flat_map/peek/key_by, branch, sinks,
repartitioning.

A `BranchNode`'s children are its outputs (the first predicate that holds picks
one, the last is the default when asked for).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from luong.pipelines.codecs import JSON, Codec, key_bytes
from luong.pipelines.graph import Node
from luong.pipelines.keyed import KeyState
from luong.pipelines.record import Record
from luong.pipelines.task import Emit, TaskContext, fanout

__all__ = [
    "BranchNode",
    "FnNode",
    "PassNode",
    "RepartitionNode",
    "RouteNode",
    "SinkNode",
    "SourceNode",
]


class SourceNode(Node):
    """Records of `topic` decoded with its codecs (the worker decodes, then calls this)."""

    kind = "source"

    def __init__(self, topic: str, key_codec: Codec, value_codec: Codec, internal: bool) -> None:
        super().__init__(f"source:{topic}")
        self.topic = topic
        self.key_codec = key_codec
        self.value_codec = value_codec
        self.internal = internal


class PassNode(Node):
    """Passes records on: a merge of streams, a branch's output."""

    kind = "pass"


class FnNode(Node):
    """filter, map, flat_map, peek and key_by over a user function.

    The function gets the value, or the `Record` (`record=True`); with
    `stateful=True` also a `KeyState` for the record's key (store `store_name`).
    """

    def __init__(
        self, kind: str, fn: Callable[..., Any], record: bool, store_name: str | None
    ) -> None:
        super().__init__(f"{kind}:{getattr(fn, '__name__', 'fn')}")
        self.kind = kind
        self.fn = fn
        self.record = record
        self.store_name = store_name

    def stores(self) -> list[str]:
        return [self.store_name] if self.store_name else []

    def key_of(self, store_key: bytes) -> bytes:
        return store_key[: store_key.rindex(b"\x00")]

    def rows(self, store_key: bytes, value: Any) -> list[dict[str, Any]]:
        """One row per name the function set for the key (KeyState's layout)."""
        kb = self.key_of(store_key)
        name = store_key[len(kb) + 1 :].decode()
        return [{"key": orjson.loads(kb), "name": name, "value": value[0], "expires": value[1]}]

    def build(self, task: TaskContext, emits: list[Emit]) -> Emit:
        call = self._caller(task)
        return _OPERATORS[self.kind](call, fanout(emits))

    def _caller(self, task: TaskContext) -> Callable[[Record], Any]:
        fn = self.fn
        if self.store_name is None:
            if self.record:
                return fn
            return lambda r: fn(r.value)
        state = KeyState(task.open_store(self.store_name))
        task.opened.append(state.open)
        if self.record:
            return lambda r: fn(r, state.bind(r))
        return lambda r: fn(r.value, state.bind(r))


def _filter(call: Callable[[Record], Any], emit: Emit) -> Emit:
    def process(record: Record) -> None:
        if call(record):
            emit(record)

    return process


def _map(call: Callable[[Record], Any], emit: Emit) -> Emit:
    def process(record: Record) -> None:
        result = call(record)
        emit(result if isinstance(result, Record) else record.replace(result))

    return process


def _flat_map(call: Callable[[Record], Any], emit: Emit) -> Emit:
    def process(record: Record) -> None:
        for result in call(record):
            emit(result if isinstance(result, Record) else record.replace(result))

    return process


def _peek(call: Callable[[Record], Any], emit: Emit) -> Emit:
    def process(record: Record) -> None:
        call(record)
        emit(record)

    return process


def _key_by(call: Callable[[Record], Any], emit: Emit) -> Emit:
    def process(record: Record) -> None:
        emit(record.with_key(call(record)))

    return process


_OPERATORS: dict[str, Callable[[Callable[[Record], Any], Emit], Emit]] = {
    "filter": _filter,
    "map": _map,
    "flat_map": _flat_map,
    "peek": _peek,
    "key_by": _key_by,
}


class BranchNode(Node):
    """Each record goes to the first output whose predicate holds (else the default)."""

    kind = "branch"

    def __init__(self, predicates: list[Callable[[Any], bool]], record: bool, default: bool):
        super().__init__("branch")
        self.predicates = predicates
        self.record = record
        self.default = default

    def build(self, task: TaskContext, emits: list[Emit]) -> Emit:
        pairs = list(zip(self.predicates, emits, strict=False))
        rest = emits[len(self.predicates)] if self.default else None
        record = self.record

        def process(r: Record) -> None:
            subject = r if record else r.value
            for predicate, emit in pairs:
                if predicate(subject):
                    emit(r)
                    return
            if rest is not None:
                rest(r)

        return process


class SinkNode(Node):
    """Encodes records and puts them in the outbox for `topic`."""

    kind = "sink"

    def __init__(self, topic: str, key_codec: Codec, value_codec: Codec) -> None:
        super().__init__(f"sink:{topic}")
        self.topic = topic
        self.key_codec = key_codec
        self.value_codec = value_codec

    def build(self, task: TaskContext, emits: list[Emit]) -> Emit:
        encode_key, encode_value = self.key_codec.encode, self.value_codec.encode
        topic, append = self.topic, task.outbox.append

        def process(r: Record) -> None:
            append((topic, None, encode_key(r.key), encode_value(r.value), r.headers, r.timestamp))

        return process


class RouteNode(SinkNode):
    """A sink whose topic a function picks per record."""

    kind = "route"

    def __init__(self, pick: Callable[[Any], str], record: bool, key: Codec, value: Codec):
        super().__init__("<routed>", key, value)
        self.pick = pick
        self.record = record

    def build(self, task: TaskContext, emits: list[Emit]) -> Emit:
        encode_key, encode_value, send = self.key_codec.encode, self.value_codec.encode, task.send
        pick, record = self.pick, self.record

        def process(r: Record) -> None:
            topic = pick(r if record else r.value)
            send(topic, encode_key(r.key), encode_value(r.value), r.headers, r.timestamp)

        return process


class RepartitionNode(Node):
    """Writes records to the internal `topic`, keyed by their canonical key bytes, so
    that the next sub-topology (its `source`) gets each key on one partition."""

    kind = "repartition"

    def __init__(self, topic: str, source: SourceNode) -> None:
        super().__init__(f"repartition:{topic}")
        self.topic = topic
        self.source = source
        self.partitions = 0  # set when the worker knows its upstream's partitions

    def build(self, task: TaskContext, emits: list[Emit]) -> Emit:
        topic, send, route = self.topic, task.send, task.route
        encode = JSON.encode

        def process(r: Record) -> None:
            kb = key_bytes(r.key)
            if route is not None:
                route(topic, kb, r)
            else:
                send(topic, kb, encode(r.value), r.headers, r.timestamp)

        return process
