"""MemoryStorage: the reference engine every other engine is tested against.

Each partition is a list of stored batches; the newest batch plays the part of the
active segment (retention and compaction leave it alone). Nothing survives close.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from luong.clock import Clock, SystemClock
from luong.config import TopicConfig
from luong.errors import KafkaStorageError
from luong.protocol.records import BatchHeader, stamp_header
from luong.storage.api import (
    AppendResult,
    MemoryRegion,
    OffsetAndTimestamp,
    ReadResult,
    TopicInfo,
)
from luong.storage.base import AppendingStorage
from luong.storage.common import (
    check_delete_records_offset,
    check_fetch_offset,
    check_partition,
    first_record_at_or_after,
    grown_topic,
    max_timestamp_record,
    new_topic,
)
from luong.storage.compaction import OffsetMap, compact_batch
from luong.storage.producers import ProducerStateTable
from luong.types import EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, MAX_TIMESTAMP, TopicPartition

__all__ = ["MemoryStorage"]

LEADER_EPOCH = 0


@dataclass(slots=True)
class _StoredBatch:
    base_offset: int
    last_offset: int
    max_timestamp: int
    data: bytes


@dataclass(slots=True)
class _Partition:
    config: TopicConfig
    batches: list[_StoredBatch] = field(default_factory=list)
    log_start_offset: int = 0
    log_end_offset: int = 0
    first_dirty_offset: int = 0
    producers: ProducerStateTable = field(default_factory=ProducerStateTable)

    def first_index(self, offset: int) -> int:
        """Index of the first batch whose last offset is ≥ `offset`."""
        return bisect.bisect_left(self.batches, offset, key=lambda b: b.last_offset)

    def size(self) -> int:
        return sum(len(b.data) for b in self.batches)


class MemoryStorage(AppendingStorage):
    """Topics held in dicts; owned by one event loop, not thread-safe."""

    def __init__(
        self, clock: Clock | None = None, topic_defaults: Mapping[str, str] | None = None
    ) -> None:
        self._clock = clock or SystemClock()
        self._topic_defaults = dict(topic_defaults or {})
        self._topics: dict[str, TopicInfo] = {}
        self._partitions: dict[TopicPartition, _Partition] = {}
        self._closed = False

    def topics(self) -> Mapping[str, TopicInfo]:
        return dict(self._topics)

    def find_topic(self, name: str) -> TopicInfo | None:
        return self._topics.get(name)

    async def create_topic(
        self, name: str, partitions: int, configs: Mapping[str, str | None] | None = None
    ) -> TopicInfo:
        self._check_open()
        info = new_topic(name, partitions, configs, self._topics, self._topic_defaults)
        self._topics[name] = info
        for partition in range(partitions):
            self._partitions[TopicPartition(name, partition)] = _Partition(info.config)
        return info

    async def delete_topic(self, name: str) -> None:
        info = self.topic(name)
        del self._topics[name]
        for partition in range(info.partitions):
            del self._partitions[TopicPartition(name, partition)]

    async def create_partitions(self, name: str, total: int) -> TopicInfo:
        info = self.topic(name)
        grown = grown_topic(info, total)
        for partition in range(info.partitions, total):
            self._partitions[TopicPartition(name, partition)] = _Partition(info.config)
        self._topics[name] = grown
        return self._topics[name]

    async def alter_topic_configs(self, name: str, changes: Mapping[str, str | None]) -> TopicInfo:
        info = self.topic(name)
        altered = self._topics[name] = replace(info, config=info.config.with_overrides(changes))
        for partition in range(altered.partitions):
            self._partitions[TopicPartition(name, partition)].config = altered.config
        return altered

    def _partition(self, tp: TopicPartition) -> _Partition:
        self._check_open()
        check_partition(self._topics.get(tp.topic), tp)
        return self._partitions[tp]

    def _write(self, tp: TopicPartition, batches: list[memoryview], now_ms: int) -> AppendResult:
        log = self._partitions[tp]
        append_time = now_ms if log.config.log_append_time else None
        base_offset = log.log_end_offset
        for view in batches:
            header = BatchHeader.parse(view)
            offset = log.log_end_offset
            data = stamp_header(view, offset, LEADER_EPOCH, append_time) + bytes(view[61:])
            max_ts = append_time if append_time is not None else header.max_timestamp
            last = offset + header.last_offset_delta
            log.batches.append(_StoredBatch(offset, last, max_ts, data))
            log.log_end_offset = offset + header.last_offset_delta + 1
        return AppendResult(
            base_offset, log.log_end_offset - 1, now_ms if append_time else -1, log.log_start_offset
        )

    async def _make_durable(self, tp: TopicPartition, written: bool) -> None:
        """Nothing to wait for: nothing is ever more durable than memory here."""

    async def read(
        self, tp: TopicPartition, offset: int, max_bytes: int, *, committed: bool = False
    ) -> ReadResult:
        log = self._partition(tp)
        check_fetch_offset(offset, log.log_start_offset, log.log_end_offset)
        stable = log.producers.last_stable_offset(log.log_end_offset)
        limit = stable if committed else log.log_end_offset
        regions: list[MemoryRegion] = []
        size = 0
        for batch in log.batches[log.first_index(offset) :]:
            if batch.base_offset >= limit or (regions and size + len(batch.data) > max_bytes):
                break
            regions.append(MemoryRegion(batch.data))
            size += len(batch.data)
        aborted = log.producers.aborted_between(offset, stable) if committed else ()
        return ReadResult(regions, log.log_end_offset, log.log_start_offset, stable, aborted)

    async def list_offset(
        self, tp: TopicPartition, timestamp: int, *, committed: bool = False
    ) -> OffsetAndTimestamp:
        log = self._partition(tp)
        if timestamp == EARLIEST_TIMESTAMP:
            return OffsetAndTimestamp(log.log_start_offset, -1)
        if timestamp == LATEST_TIMESTAMP:
            end = log.log_end_offset
            return OffsetAndTimestamp(
                log.producers.last_stable_offset(end) if committed else end, -1
            )
        live = log.batches[log.first_index(log.log_start_offset) :]
        if timestamp == MAX_TIMESTAMP:
            if not live:
                return OffsetAndTimestamp(-1, -1)
            best = max(live, key=lambda b: b.max_timestamp)  # first batch on ties
            return max_timestamp_record(best.data, log.log_start_offset)
        candidates = (b.data for b in live if b.max_timestamp >= timestamp)
        found = first_record_at_or_after(candidates, timestamp, log.log_start_offset)
        return found or OffsetAndTimestamp(-1, -1)

    async def delete_records(self, tp: TopicPartition, before_offset: int) -> int:
        log = self._partition(tp)
        target = log.log_end_offset if before_offset == -1 else before_offset
        check_delete_records_offset(target, log.log_end_offset)
        if target <= log.log_start_offset:
            return log.log_start_offset
        log.log_start_offset = target
        del log.batches[: log.first_index(target)]
        log.producers.truncate_before(target)
        return target

    async def expire_producers(self, expiration_ms: int) -> None:
        now = self._clock.time_ms()
        for log in self._partitions.values():
            log.producers.expire(now, expiration_ms)

    async def run_maintenance(self) -> None:
        self._check_open()
        now = self._clock.time_ms()
        for tp, log in self._partitions.items():
            config = self._topics[tp.topic].config
            if config.delete:
                self._apply_retention(log, config, now)
            if config.compact:
                self._compact(log, config, now)

    def _apply_retention(self, log: _Partition, config: TopicConfig, now: int) -> None:
        while log.batches and self._expired(log, config, now):
            dropped = log.batches.pop(0)
            log.log_start_offset = max(log.log_start_offset, dropped.last_offset + 1)
        log.producers.truncate_before(log.log_start_offset)

    @staticmethod
    def _expired(log: _Partition, config: TopicConfig, now: int) -> bool:
        """Time retention may take every batch; size retention spares the newest."""
        oldest = log.batches[0]
        if config.retention_ms >= 0 and now - oldest.max_timestamp > config.retention_ms:
            return True
        if config.retention_bytes < 0 or len(log.batches) == 1:
            return False
        return log.size() - len(oldest.data) >= config.retention_bytes

    def _compact(self, log: _Partition, config: TopicConfig, now: int) -> None:
        closed = log.batches[:-1]  # the newest batch stands for the active segment
        eligible = [b for b in closed if b.max_timestamp <= now - config.min_compaction_lag_ms]
        offset_map = OffsetMap(max_entries=1_000_000)
        for batch in eligible:
            if batch.last_offset < log.first_dirty_offset:
                continue
            if not offset_map.add_batch(batch.data):
                break
        if offset_map.end_offset < 0:
            return
        horizon = now - config.delete_retention_ms
        rewritten = []
        for batch in log.batches:
            if batch.last_offset >= offset_map.end_offset:
                rewritten.append(batch)
                continue
            data = compact_batch(batch.data, offset_map, horizon)
            if data is not None:
                rewritten.append(replace(batch, data=data))
        log.batches = rewritten
        log.first_dirty_offset = offset_map.end_offset

    async def close(self) -> None:
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise KafkaStorageError("storage is closed")
