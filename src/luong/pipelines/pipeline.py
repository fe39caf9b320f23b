"""`Pipeline`: a named graph of streams and its settings.

A pipeline's `name` is its Kafka Streams `application.id`: the consumer group of its
workers, the prefix of its internal topics (`<name>-<store>-changelog`,
`<name>-<store>-repartition`) and of its transactional ids. Running the same
pipeline N times (same name) splits the partitions among the N workers.

Settings, with their defaults:
    bootstrap            "127.0.0.1:9092" (the cluster; `luong pipeline run --bootstrap`)
    guarantee            "exactly_once": outputs, changelog writes and input offsets
                         commit in one transaction; "at_least_once": outputs and state
                         first, offsets after (a crash may repeat some outputs)
    on_error             "dead_letter": a record that fails to decode or raises in an
                         operator goes to `dead_letter_topic` (default `<name>-dlq`)
                         with `luong.dlq.*` headers; "stop": the worker stops with the
                         error and the record's coordinates (nothing past it commits)
    commit_interval_ms   100: how often work is committed (Kafka Streams' EOS default)
    state_dir            "luong-state": local stores live in STATE_DIR/<name>/<slot>
    state_store          "rocksdb" (rocksdict) or "memory" (rebuilt from the
                         changelogs at every start)
    config               librdkafka settings for every client (e.g. security.protocol);
                         `consumer.NAME` / `producer.NAME` for consumers or producers
                         only (Kafka Streams' prefixes), e.g. consumer.session.timeout.ms
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from luong.pipelines.codecs import Codec, resolve_codec
from luong.pipelines.graph import Node, walk
from luong.pipelines.joins import Table
from luong.pipelines.stream import Stream, check_name
from luong.pipelines.topology import RepartitionNode, SourceNode

__all__ = ["GUARANTEES", "ON_ERROR", "Pipeline", "Subtopology"]

GUARANTEES = ("exactly_once", "at_least_once")
ON_ERROR = ("dead_letter", "stop")
STATE_STORES = ("rocksdb", "memory")


class Subtopology:
    """The operators fed by one set of co-partitioned source topics."""

    def __init__(self, index: int, sources: list[SourceNode]) -> None:
        self.index = index
        self.sources = sources
        self.topics = [s.topic for s in sources]
        self.nodes = walk(sources)
        self.stores = [name for node in self.nodes for name in node.stores()]
        self.repartitions = [n for n in self.nodes if isinstance(n, RepartitionNode)]


class Pipeline:
    """A stream-processing application: sources, operators, sinks, settings."""

    def __init__(
        self,
        name: str,
        *,
        bootstrap: str = "127.0.0.1:9092",
        guarantee: str = "exactly_once",
        on_error: str = "dead_letter",
        dead_letter_topic: str | None = None,
        commit_interval_ms: int = 100,
        state_dir: str = "luong-state",
        state_store: str = "rocksdb",
        config: dict[str, Any] | None = None,
    ) -> None:
        self.name = check_name(name, "a pipeline name")
        self.bootstrap = bootstrap
        self.guarantee = _choice(guarantee, GUARANTEES, "guarantee")
        self.on_error = _choice(on_error, ON_ERROR, "on_error")
        self.dead_letter_topic = check_name(dead_letter_topic or f"{name}-dlq", "a topic")
        if not isinstance(commit_interval_ms, int) or commit_interval_ms <= 0:
            raise ValueError(f"commit_interval_ms must be a positive int: {commit_interval_ms!r}")
        self.commit_interval_ms = commit_interval_ms
        self.state_dir = state_dir
        self.state_store = _choice(state_store, STATE_STORES, "state_store")
        self.config = dict(config or {})
        self._sources: dict[str, SourceNode] = {}
        self._tables: dict[str, Table] = {}
        self._sinks: set[str] = set()
        self._stores: set[str] = set()
        self._queryable: dict[str, Any] = {}
        self._counts: dict[str, int] = {}

    def source(
        self,
        topic: str | Iterable[str],
        *,
        key_codec: str | Codec = "str",
        value_codec: str | Codec = "json",
    ) -> Stream:
        """The records of `topic` (or several topics, merged), decoded by the codecs."""
        topics = [topic] if isinstance(topic, str) else list(topic)
        if not topics:
            raise ValueError("source() wants a topic")
        streams = [self._source(t, key_codec, value_codec) for t in topics]
        return streams[0] if len(streams) == 1 else streams[0].merge(*streams[1:])

    def table(
        self,
        topic: str,
        *,
        key_codec: str | Codec = "str",
        value_codec: str | Codec = "json",
        name: str | None = None,
    ) -> Table:
        """A table of the latest value per key of a (compacted) topic, read whole by
        every worker, for `Stream.join`; versioned by record time, so a join sees the
        value the table had at the stream record's time."""
        check_name(topic, "a topic")
        table_name = self._store_name("table", name or topic)
        table = Table(topic, resolve_codec(key_codec), resolve_codec(value_codec), table_name)
        self._tables[table_name] = table
        self._queryable[table_name] = table
        return table

    def subtopologies(self) -> list[Subtopology]:
        """Groups of source topics whose records meet in shared operators."""
        groups: list[list[SourceNode]] = []
        reach: list[set[int]] = []
        for source in self._sources.values():
            ids = {id(n) for n in walk([source])}
            joined = [i for i, r in enumerate(reach) if r & ids]
            group, merged = [source], set(ids)
            for i in reversed(joined):
                group = groups.pop(i) + group
                merged |= reach.pop(i)
            groups.append(group)
            reach.append(merged)
        return [Subtopology(i, group) for i, group in enumerate(groups)]

    @property
    def tables(self) -> dict[str, Table]:
        return dict(self._tables)

    @property
    def queryable(self) -> dict[str, Any]:
        """Store name -> the node (or table) that keeps it."""
        return dict(self._queryable)

    @property
    def sinks(self) -> set[str]:
        return set(self._sinks)

    def client_config(self, kind: str, bootstrap: str | None = None) -> dict[str, Any]:
        """librdkafka settings for a `kind` ("consumer", "producer", "admin") client:
        `config`'s plain names, and its `consumer.`/`producer.` ones for that kind.
        librdkafka's log lines go to the `luong.pipelines.librdkafka` logger. A consumer
        given a session timeout heartbeats three times per timeout."""
        import logging

        settings: dict[str, Any] = {
            "bootstrap.servers": bootstrap or self.bootstrap,
            "logger": logging.getLogger("luong.pipelines.librdkafka"),
        }
        for name, value in self.config.items():
            prefix, _, rest = name.partition(".")
            if prefix in ("consumer", "producer") and rest:
                if prefix == kind:
                    settings[rest] = value
            else:
                settings[name] = value
        session = settings.get("session.timeout.ms")
        if kind == "consumer" and session is not None:
            settings.setdefault("heartbeat.interval.ms", max(100, int(session) // 3))
        return settings

    def run(self, **options: Any) -> int:
        """Run a worker of this pipeline here until stopped (see `luong pipeline run`)."""
        from luong.pipelines.worker import run

        return run(self, **options)

    # -- for Stream --------------------------------------------------------------------

    def _source(self, topic: str, key_codec: str | Codec, value_codec: str | Codec) -> Stream:
        check_name(topic, "a topic")
        if topic in self._sources:
            raise ValueError(f"topic {topic!r} is already a source of this pipeline")
        node = SourceNode(topic, resolve_codec(key_codec), resolve_codec(value_codec), False)
        self._sources[topic] = node
        return Stream(self, node)

    def _internal_source(self, topic: str) -> SourceNode:
        node = SourceNode(topic, resolve_codec("json"), resolve_codec("json"), True)
        self._sources[topic] = node
        return node

    def _store_name(self, kind: str, name: str | None) -> str:
        if name is None:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            name = f"{kind}-{self._counts[kind]}"
        check_name(name, "a store name")
        if name in self._stores:
            raise ValueError(f"two operators of pipeline {self.name!r} are named {name!r}")
        self._stores.add(name)
        return name

    def _nodes(self) -> list[Node]:
        return walk(self._sources.values())


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, got {value!r}")
    return value
