"""Bringing local state up to date: changelog tails into stores, tables into memory.

`Restorer` reads a store's changelog partition from the store's checkpoint (the
changelog offset its last committed write brought it to; the beginning for a new
store) to the end, read_committed, writing into the backend in batches, each batch
with its checkpoint, so an interrupted restore resumes where it stopped. A
checkpoint outside the changelog (the topic was deleted and made again) wipes the
store and replays the changelog whole.

`TableReader` keeps every `Table` of a pipeline: it reads each table topic from the
beginning (to its end before the worker processes anything) and then whatever
arrives, between the worker's batches.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from luong.pipelines.codecs import CodecError, key_bytes
from luong.pipelines.joins import Table
from luong.pipelines.state import StateStore, StoreChange

__all__ = ["RestoreResult", "Restorer", "TableReader", "changelog_topic"]

log = logging.getLogger("luong.pipelines")
_BATCH = 10_000


def changelog_topic(pipeline: str, store: str) -> str:
    return f"{pipeline}-{store}-changelog"


class RestoreResult:
    """What one store's restore read."""

    def __init__(self, store: str, partition: int, records: int, seconds: float) -> None:
        self.store = store
        self.partition = partition
        self.records = records
        self.seconds = seconds


class Restorer:
    """Restores stores from changelogs with one manually assigned consumer."""

    def __init__(self, config: dict[str, Any], pipeline: str, timeout_s: float = 30.0) -> None:
        settings = {
            **config,
            "group.id": f"{pipeline}-restore",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
            "fetch.max.bytes": 64 * 1024 * 1024,
            "max.partition.fetch.bytes": 16 * 1024 * 1024,
        }
        self._consumer = Consumer(settings)
        self._pipeline = pipeline
        self._timeout_s = timeout_s

    def restore(self, store: StateStore, partition: int) -> RestoreResult:
        started = time.monotonic()
        tp = TopicPartition(changelog_topic(self._pipeline, store.name), partition)
        low, high = self._consumer.get_watermark_offsets(tp, timeout=self._timeout_s)
        start = store.backend.checkpoint()
        if start is not None and not low <= start <= high:
            log.warning(
                "store %s-%d: checkpoint %d outside its changelog [%d, %d]: replaying it",
                store.name,
                partition,
                start,
                low,
                high,
            )
            store.backend.clear()
            start = None
        if start is not None and start >= high:
            return RestoreResult(store.name, partition, 0, time.monotonic() - started)
        records = self._read(store, tp, OFFSET_BEGINNING if start is None else start)
        return RestoreResult(store.name, partition, records, time.monotonic() - started)

    def _read(self, store: StateStore, tp: TopicPartition, start: int) -> int:
        tp.offset = start
        self._consumer.assign([tp])
        count = 0
        position = max(start, 0)  # OFFSET_BEGINNING is -2
        changes: list[StoreChange] = []
        deadline = time.monotonic() + self._timeout_s
        while True:
            messages = self._consumer.consume(_BATCH, 0.2)
            done = False
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        offset = message.offset()
                        done, position = True, position if offset is None else offset
                        continue
                    raise RuntimeError(f"restoring {tp.topic}[{tp.partition}]: {error.str()}")
                changes.append((message.key() or b"", message.value()))
                position = (message.offset() or 0) + 1
                deadline = time.monotonic() + self._timeout_s
            if changes and (done or len(changes) >= _BATCH):
                count += self._apply(store, changes, position)
                changes = []
            if done:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"restoring {tp.topic}[{tp.partition}]: no progress")
        store.backend.write([], position)
        self._consumer.unassign()
        return count

    @staticmethod
    def _apply(store: StateStore, changes: list[StoreChange], position: int) -> int:
        store.backend.write(changes, position)
        return len(changes)

    def close(self) -> None:
        self._consumer.close()


class TableReader:
    """Reads table topics into their `TableVersions`."""

    def __init__(
        self,
        config: dict[str, Any],
        pipeline: str,
        tables: list[Table],
        partitions: Callable[[str], int],
    ) -> None:
        self._tables = {table.topic: table for table in tables}
        self._consumer: Consumer | None = None
        self.undecodable = 0
        if not tables:
            return
        settings = {
            **config,
            "group.id": f"{pipeline}-tables",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
        }
        self._consumer = Consumer(settings)
        assignment = [
            TopicPartition(t.topic, p, OFFSET_BEGINNING)
            for t in tables
            for p in range(partitions(t.topic))
        ]
        self._pending_eof = {(tp.topic, tp.partition) for tp in assignment}
        self._consumer.assign(assignment)

    def catch_up(self, timeout_s: float) -> None:
        """Read until every table partition has reached its end once."""
        deadline = time.monotonic() + timeout_s
        while self._consumer is not None and self._pending_eof:
            if time.monotonic() > deadline:
                waiting = ", ".join(f"{t}[{p}]" for t, p in sorted(self._pending_eof))
                raise RuntimeError(f"tables not read to their end in {timeout_s:g} s: {waiting}")
            self.poll(0.2)

    def poll(self, timeout_s: float = 0.0) -> int:
        """Apply what has arrived; the number of table records applied."""
        if self._consumer is None:
            return 0
        applied = 0
        for message in self._consumer.consume(10_000, timeout_s):
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    self._pending_eof.discard((message.topic(), message.partition()))
                    continue
                log.warning("reading table %s: %s", message.topic(), error.str())
                continue
            applied += self._apply(message)
        return applied

    def _apply(self, message: Any) -> int:
        table = self._tables[message.topic()]
        try:
            kb = key_bytes(table.key_codec.decode(message.key()))
            value = table.value_codec.decode(message.value())
        except CodecError as error:
            self.undecodable += 1
            log.warning("table %s offset %d skipped: %s", table.topic, message.offset(), error)
            return 0
        table.versions.apply(kb, message.timestamp()[1], value)
        return 1

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
