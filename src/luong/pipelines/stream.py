"""The pipeline API: streams of records and the operators that chain on them.

    p = Pipeline("clicks-per-page")
    clicks = p.source("clicks")                      # JSON values, str keys
    (clicks.filter(lambda v: v["page"] != "/health")
           .key_by(lambda v: v["page"])
           .window(tumbling(60_000), grace_ms=5_000)
           .aggregate(Count())
           .to("clicks-per-minute"))

Every function gets the record's value; pass `record=True` to get the `Record`
(value, key, timestamp, headers, topic, partition, offset) instead. With
`stateful=True` a function also gets a `KeyState` of the record's key. A map whose
function returns a `Record` emits that record as it is (new key, time, headers).

Repartitioning: `key_by` changes the key in place; the first operator after it that
keeps state by key (window, aggregate, a stateful function, a stream-stream join)
first sends the records through the internal topic `<app>-<store>-repartition`,
keyed by the new key, so that each key's records meet on one partition.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from luong.pipelines.aggregations import Aggregator
from luong.pipelines.codecs import Codec, resolve_codec
from luong.pipelines.graph import Node
from luong.pipelines.joins import (
    JOIN_HOW,
    IntervalJoinNode,
    JoinSideNode,
    Table,
    TableJoinNode,
    default_combine,
)
from luong.pipelines.keyed import AggregateNode, as_aggregator
from luong.pipelines.topology import (
    BranchNode,
    FnNode,
    PassNode,
    RepartitionNode,
    RouteNode,
    SinkNode,
)
from luong.pipelines.windowed import WindowNode
from luong.pipelines.windows import WindowSpec, to_ms

if TYPE_CHECKING:
    from luong.pipelines.pipeline import Pipeline

__all__ = ["Stream", "WindowedAggregation", "WindowedStream", "check_name"]

_NAME = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
_EMIT = ("close", "update")


def _check_how(how: str, allowed: tuple[str, ...]) -> None:
    if how not in allowed:
        raise ValueError(f"how must be one of {', '.join(allowed)}, got {how!r}")


def check_name(name: str, what: str) -> str:
    """A name that may be part of a topic name."""
    if not _NAME.match(name):
        raise ValueError(f"{what} {name!r} may hold only letters, digits, '.', '_' and '-'")
    return name


class Stream:
    """A stream of records; each operator returns the stream of what it emits."""

    def __init__(self, pipeline: Pipeline, node: Node, key_changed: bool = False) -> None:
        self._pipeline = pipeline
        self._node = node
        self._key_changed = key_changed

    # -- stateless ------------------------------------------------------------------

    def filter(
        self,
        fn: Callable[..., bool],
        *,
        record: bool = False,
        stateful: bool = False,
        name: str | None = None,
    ) -> Stream:
        """Keep the records for which `fn` is true."""
        return self._fn("filter", fn, record, stateful, name)

    def map(
        self,
        fn: Callable[..., Any],
        *,
        record: bool = False,
        stateful: bool = False,
        name: str | None = None,
    ) -> Stream:
        """Replace each value with `fn(value)` (a returned `Record` replaces the record)."""
        return self._fn("map", fn, record, stateful, name)

    def flat_map(
        self,
        fn: Callable[..., Iterable[Any]],
        *,
        record: bool = False,
        stateful: bool = False,
        name: str | None = None,
    ) -> Stream:
        """Replace each record with the values (or records) `fn` returns, in order."""
        return self._fn("flat_map", fn, record, stateful, name)

    def peek(
        self,
        fn: Callable[..., Any],
        *,
        record: bool = False,
        stateful: bool = False,
        name: str | None = None,
    ) -> Stream:
        """Call `fn` on each record for its side effect; records pass unchanged."""
        return self._fn("peek", fn, record, stateful, name)

    def key_by(self, fn: Callable[..., Any], *, record: bool = False) -> Stream:
        """Re-key each record with `fn(value)`; state after this is kept by the new key."""
        node = self._node.add(FnNode("key_by", fn, record, None))
        return Stream(self._pipeline, node, key_changed=True)

    def branch(
        self, *predicates: Callable[..., bool], default: bool = False, record: bool = False
    ) -> list[Stream]:
        """One stream per predicate: each record goes to the first whose predicate holds;
        with `default=True` one more stream gets the records no predicate took."""
        if not predicates:
            raise ValueError("branch() wants at least one predicate")
        node = self._node.add(BranchNode(list(predicates), record, default))
        outputs = len(predicates) + (1 if default else 0)
        return [
            Stream(self._pipeline, node.add(PassNode("branch-output")), self._key_changed)
            for _ in range(outputs)
        ]

    def merge(self, *others: Stream) -> Stream:
        """One stream of this stream's records and the others'."""
        node = PassNode("merge")
        for stream in (self, *others):
            stream._node.add(node)
        changed = any(s._key_changed for s in (self, *others))
        return Stream(self._pipeline, node, changed)

    def to(
        self, topic: str, *, key_codec: str | Codec = "str", value_codec: str | Codec = "json"
    ) -> None:
        """Write every record to `topic` (keys as text, values as JSON by default)."""
        check_name(topic, "a topic")
        self._node.add(SinkNode(topic, resolve_codec(key_codec), resolve_codec(value_codec)))
        self._pipeline._sinks.add(topic)

    def route(
        self,
        fn: Callable[..., str],
        *,
        record: bool = False,
        key_codec: str | Codec = "str",
        value_codec: str | Codec = "json",
    ) -> None:
        """Write each record to the topic `fn(value)` names."""
        self._node.add(RouteNode(fn, record, resolve_codec(key_codec), resolve_codec(value_codec)))

    # -- stateful ---------------------------------------------------------------------

    def repartition(self, name: str | None = None) -> Stream:
        """Send records through an internal topic keyed by their key (done for you
        before state is kept by a changed key)."""
        name = self._pipeline._store_name("repartition", name)
        return self._repartitioned(name)

    def aggregate(
        self,
        aggregation: Aggregator[Any, Any] | None = None,
        /,
        *,
        name: str | None = None,
        **named: Aggregator[Any, Any],
    ) -> Stream:
        """A running aggregation per key (a table): after each record, its key's result."""
        agg = as_aggregator(aggregation, named)
        store = self._pipeline._store_name("aggregate", name)
        node = self._keyed(store)._node.add(AggregateNode(agg, store))
        self._pipeline._queryable[store] = node
        return Stream(self._pipeline, node)

    def window(
        self, spec: WindowSpec, *, grace_ms: int = 0, name: str | None = None
    ) -> WindowedStream:
        """Group each key's records into event-time windows (`tumbling`, `hopping`,
        `sliding`, `session`); records up to `grace_ms` late still count."""
        if not isinstance(spec, WindowSpec):
            raise TypeError(f"{spec!r} is not a window: use tumbling(), hopping(), ...")
        if not isinstance(grace_ms, int) or grace_ms < 0:
            raise ValueError(f"grace_ms must be a non-negative int, got {grace_ms!r}")
        return WindowedStream(self, spec, grace_ms, name)

    def join(
        self,
        table: Table,
        *,
        on: Callable[[Any], Any] | None = None,
        how: str = "inner",
        combine: Callable[[Any, Any], Any] = default_combine,
    ) -> Stream:
        """Each record with the value `table` had for its key (or `on(value)`) at the
        record's time: `how="inner"` drops records without one, `"left"` keeps them
        (right side None); the value becomes `combine(value, table_value)`."""
        if not isinstance(table, Table):
            raise TypeError(f"join() wants a pipeline's table(), got {table!r}")
        _check_how(how, ("inner", "left"))
        node = self._node.add(TableJoinNode(table, on, how, combine))
        return Stream(self._pipeline, node, self._key_changed)

    def join_within(
        self,
        other: Stream,
        within_ms: int,
        *,
        how: str = "inner",
        grace_ms: int = 0,
        combine: Callable[[Any, Any], Any] = default_combine,
        name: str | None = None,
    ) -> Stream:
        """Pairs of this stream's and `other`'s records with the same key at most
        `within_ms` apart, as `combine(left, right)`; `how="left"` and `"outer"` also
        emit records that found no match once they can no longer find one."""
        _check_how(how, JOIN_HOW)
        within = to_ms(within_ms, "within_ms")
        if not isinstance(grace_ms, int) or grace_ms < 0:
            raise ValueError(f"grace_ms must be a non-negative int, got {grace_ms!r}")
        store = self._pipeline._store_name("join", name)
        node = IntervalJoinNode(within, grace_ms, how, combine, store)
        self._keyed(f"{store}-left")._node.add(JoinSideNode(node, True)).add(node)
        other._keyed(f"{store}-right")._node.add(JoinSideNode(node, False)).add(node)
        self._pipeline._queryable[store] = node
        return Stream(self._pipeline, node)

    def _fn(
        self, kind: str, fn: Callable[..., Any], record: bool, stateful: bool, name: str | None
    ) -> Stream:
        if not callable(fn):
            raise TypeError(f"{kind}() wants a function, got {fn!r}")
        if not stateful:
            if name is not None:
                raise ValueError(f"{kind}(name=...) names a store: pass stateful=True too")
            return Stream(
                self._pipeline, self._node.add(FnNode(kind, fn, record, None)), self._key_changed
            )
        store = self._pipeline._store_name(kind, name)
        upstream = self._keyed(store)
        node = upstream._node.add(FnNode(kind, fn, record, store))
        self._pipeline._queryable[store] = node
        return Stream(self._pipeline, node)

    def _keyed(self, store: str) -> Stream:
        """This stream, repartitioned first if its key was changed."""
        return self._repartitioned(store) if self._key_changed else self

    def _repartitioned(self, name: str) -> Stream:
        topic = f"{self._pipeline.name}-{name}-repartition"
        source = self._pipeline._internal_source(topic)
        self._node.add(RepartitionNode(topic, source))
        return Stream(self._pipeline, source)


class WindowedStream:
    """A stream grouped into windows, waiting for its aggregation."""

    def __init__(self, stream: Stream, spec: WindowSpec, grace_ms: int, name: str | None):
        self._stream = stream
        self._spec = spec
        self._grace_ms = grace_ms
        self._name = name

    def aggregate(
        self,
        aggregation: Aggregator[Any, Any] | None = None,
        /,
        *,
        emit: str = "close",
        **named: Aggregator[Any, Any],
    ) -> WindowedAggregation:
        """Each window's aggregation, emitted when the window closes (`emit="close"`)
        or after every record (`emit="update"`)."""
        if emit not in _EMIT:
            raise ValueError(f"emit must be 'close' or 'update', got {emit!r}")
        agg = as_aggregator(aggregation, named)
        pipeline = self._stream._pipeline
        store = pipeline._store_name(self._spec.kind, self._name)
        node = WindowNode(self._spec, self._grace_ms, agg, emit == "update", store)
        self._stream._keyed(store)._node.add(node)
        pipeline._queryable[store] = node
        return WindowedAggregation(pipeline, node)

    def count(self, *, emit: str = "close") -> WindowedAggregation:
        from luong.pipelines.aggregations import Count

        return self.aggregate(Count(), emit=emit)


class WindowedAggregation(Stream):
    """The results of a windowed aggregation; `late()` is its late side output."""

    def late(self) -> Stream:
        """The records that came after all their windows had closed (else dropped)."""
        node = self._node
        assert isinstance(node, WindowNode)
        if node.late_output is None:
            node.late_output = node.add(PassNode("late"))
        return Stream(self._pipeline, node.late_output)
