"""`PipelineTestDriver`: run a pipeline on records you hand it, without a cluster.

Kafka Streams' TopologyTestDriver, for luong pipelines:

    driver = PipelineTestDriver(pipeline)
    driver.send("payments", {"card": "c1", "country": "VN"}, key="c1", timestamp=0)
    assert driver.output("alerts") == [...]

Each `send` is processed as one segment and committed at once; outputs are decoded
with JSON values and str keys (`output_records` gives the whole records).
`restart()` rebuilds every task from the committed stores, as a restarted worker
does from its local state.
Repartitioning happens in process, as in a bounded run. A record that fails goes to
`dead_letters` (with on_error="stop" the exception is raised).
"""

from __future__ import annotations

from typing import Any

from luong.pipelines.codecs import JSON, CodecError, StrCodec, key_bytes
from luong.pipelines.engine import Engine
from luong.pipelines.pipeline import Pipeline
from luong.pipelines.record import Headers, Record
from luong.pipelines.state import MemoryBackend
from luong.protocol.records.partitioner import partition_for_key

__all__ = ["DeadLetter", "PipelineTestDriver"]

_KEYS = StrCodec()


class DeadLetter:
    """A record that failed, and why."""

    def __init__(self, record: Record, error: BaseException) -> None:
        self.record = record
        self.error = error

    def __repr__(self) -> str:
        return f"DeadLetter({self.record!r}, {self.error!r})"


class PipelineTestDriver:
    """A pipeline's tasks in memory, fed by `send` (partition counts per topic, 1 by
    default)."""

    def __init__(self, pipeline: Pipeline, partitions: dict[str, int] | None = None) -> None:
        self.pipeline = pipeline
        subs = pipeline.subtopologies()
        counts = {t: 1 for sub in subs for t in sub.topics if not _internal(sub, t)}
        counts.update(partitions or {})
        self._counts = counts
        self._backends: dict[tuple[str, int], MemoryBackend] = {}
        self.engine = self._engine()
        self.dead_letters: list[DeadLetter] = []
        self._outputs: list[Record] = []
        self._offsets: dict[tuple[str, int], int] = {}

    def send(
        self,
        topic: str,
        value: Any,
        *,
        key: Any = None,
        timestamp: int = 0,
        partition: int | None = None,
        headers: Headers | None = None,
    ) -> None:
        """Process one record of `topic` (a source or a table) and commit."""
        table = next((t for t in self.pipeline.tables.values() if t.topic == topic), None)
        if table is not None:
            decoded = table.value_codec.decode(table.value_codec.encode(value))
            table.versions.apply(
                key_bytes(table.key_codec.decode(_encode_key(key))), timestamp, decoded
            )
            return
        source = next(s for sub in self.engine.subs for s in sub.sources if s.topic == topic)
        raw_key = source.key_codec.encode(key)
        if partition is None:
            count = self.engine.partitions[topic]
            partition = 0 if raw_key is None else partition_for_key(raw_key, count)
        offset = self._offsets.get((topic, partition), 0)
        self._offsets[(topic, partition)] = offset + 1
        record = Record(
            source.value_codec.decode(source.value_codec.encode(value)),
            source.key_codec.decode(raw_key),
            timestamp,
            list(headers or []),
            topic,
            partition,
            offset,
        )
        self.engine.process(record)
        self._commit()

    def _engine(self) -> Engine:
        def backend(store: str, partition: int) -> MemoryBackend:
            return self._backends.setdefault((store, partition), MemoryBackend())

        return Engine(self.pipeline, self._counts, self._failed, backend, in_process=True)

    def restart(self) -> None:
        """Start over from the committed stores, as a restarted worker would."""
        self.engine = self._engine()

    def _commit(self) -> None:
        for store, _, changes in self.engine.flush():
            store.committed(changes, None)
        for topic, partition, key, value, headers, timestamp in self.engine.take_outbox():
            decoded = _decode(value)
            record = Record(decoded, _KEYS.decode(key), timestamp, headers, topic, partition or 0)
            self._outputs.append(record)

    def _failed(self, record: Record, error: BaseException) -> None:
        if self.pipeline.on_error == "stop":
            raise error
        self.dead_letters.append(DeadLetter(record, error))

    def output_records(self, topic: str) -> list[Record]:
        """Records written to `topic` so far, in order."""
        return [r for r in self._outputs if r.topic == topic]

    def output(self, topic: str) -> list[Any]:
        """Values written to `topic` so far, in order."""
        return [r.value for r in self.output_records(topic)]

    def keyed_output(self, topic: str) -> list[tuple[Any, Any]]:
        """(key, value) pairs written to `topic` so far, in order."""
        return [(r.key, r.value) for r in self.output_records(topic)]


def _encode_key(key: Any) -> bytes | None:
    return _KEYS.encode(key)


def _internal(sub: Any, topic: str) -> bool:
    return any(s.internal for s in sub.sources if s.topic == topic)


def _decode(value: bytes | None) -> Any:
    try:
        return JSON.decode(value)
    except CodecError:
        return value
