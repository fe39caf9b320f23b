"""AppendingStorage: the append sequence every engine shares, written once.

    append:        validate → producer check → (a retry: wait, answer the original)
                   → write → record in the producer state → notify → durability
    write_marker:  marker check → build the marker → write → record → notify → durability

An engine supplies three steps: `_partition(tp)` (the partition's settings, producer
state and log start offset, or UnknownTopicOrPartitionError), `_write(tp, batches,
now_ms)` (store the batches at the log end, synchronously, and say where), and
`_make_durable(tp, batches_written)` (wait for the topic's flush policy; called
with False for a retried batch, whose original may still be in flight). Between the
producer check and the record there is no await, so two appends of one partition
never interleave there: the producer state always describes the log.
"""

from __future__ import annotations

import abc
from typing import Protocol

from luong.clock import Clock
from luong.config import TopicConfig
from luong.protocol.records import build_marker
from luong.storage.api import AppendResult, Storage
from luong.storage.common import validate_batches
from luong.storage.producers import ProducerStateTable
from luong.types import TopicPartition

__all__ = ["AppendTarget", "AppendingStorage"]


class AppendTarget(Protocol):
    """What the shared append sequence needs of one partition."""

    @property
    def config(self) -> TopicConfig: ...

    @property
    def producers(self) -> ProducerStateTable: ...

    @property
    def log_start_offset(self) -> int: ...


class AppendingStorage(Storage):
    """A Storage whose append and write_marker are the shared sequence above."""

    _clock: Clock

    @abc.abstractmethod
    def _partition(self, tp: TopicPartition) -> AppendTarget:
        """The partition appends go to (UnknownTopicOrPartitionError, KafkaStorageError)."""

    @abc.abstractmethod
    def _write(self, tp: TopicPartition, batches: list[memoryview], now_ms: int) -> AppendResult:
        """Store validated batches at the log end, stamping offsets; no await."""

    @abc.abstractmethod
    async def _make_durable(self, tp: TopicPartition, written: bool) -> None:
        """Wait until what was appended to `tp` is durable per its flush policy."""

    async def append(
        self, tp: TopicPartition, records: bytes | memoryview, *, durable: bool = True
    ) -> AppendResult:
        partition = self._partition(tp)
        batches = validate_batches(records, partition.config)
        duplicate = partition.producers.check(batches)
        if duplicate is not None:
            if durable:
                await self._make_durable(tp, False)  # the original may still be in flight
            return AppendResult(*duplicate, -1, partition.log_start_offset)
        result = self._write_checked(tp, partition, batches)
        if durable:
            await self._make_durable(tp, True)
        return result

    async def write_marker(
        self,
        tp: TopicPartition,
        producer_id: int,
        producer_epoch: int,
        commit: bool,
        coordinator_epoch: int = 0,
        *,
        durable: bool = True,
    ) -> AppendResult:
        partition = self._partition(tp)
        partition.producers.check_marker(producer_id, producer_epoch)
        now = self._clock.time_ms()
        marker = build_marker(producer_id, producer_epoch, commit, coordinator_epoch, now)
        result = self._write_checked(tp, partition, [memoryview(marker)])
        if durable:
            await self._make_durable(tp, True)
        return result

    def _write_checked(
        self, tp: TopicPartition, partition: AppendTarget, batches: list[memoryview]
    ) -> AppendResult:
        """Write what passed the checks and record it, with no await in between."""
        now = self._clock.time_ms()
        result = self._write(tp, batches, now)
        partition.producers.record(batches, result.base_offset, now)
        self._appended(tp)
        return result
