"""ProduceService: records that arrive decoded (over HTTP) appended as Kafka batches.

Each partition's records of one call become one v2 batch (no compression,
CreateTime = now, producer id -1) appended with the same durability as a Kafka
acks=all produce; Kafka clients read them like any other. A record without a
partition goes where Kafka's default partitioner would put it (partitioner.py).
Every partition is checked before anything is written, so a call naming a
partition that does not exist writes nothing; a failure while appending fails
only that partition's records (one batch is all or nothing, as in Kafka).
Owned by the broker on the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from luong.broker.partitioner import RoundRobin, partition_for_key
from luong.clock import Clock
from luong.errors import LuongError, UnknownTopicOrPartitionError
from luong.protocol.records import Header, Record, build_batch
from luong.storage import Storage, TopicInfo
from luong.types import TopicPartition

__all__ = ["ProduceService", "ProducerRecord", "RecordResult"]


@dataclass(frozen=True, slots=True)
class ProducerRecord:
    """One record to append; `partition` None lets the partitioner choose."""

    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()
    partition: int | None = None


@dataclass(frozen=True, slots=True)
class RecordResult:
    """Where a record landed, or why it did not (`offset` -1 then)."""

    partition: int
    offset: int
    error: LuongError | None = None


class ProduceService:
    def __init__(self, storage: Storage, clock: Clock) -> None:
        self._storage = storage
        self._clock = clock
        self._round_robin = RoundRobin()

    async def produce(self, topic: str, records: Sequence[ProducerRecord]) -> list[RecordResult]:
        """Append `records` to `topic`; one result per record, in order.

        UnknownTopicOrPartitionError, before anything is written, for an unknown
        topic or a partition it does not have.
        """
        info = self._storage.topic(topic)
        partitions = [self._partition(info, record) for record in records]
        chosen: dict[int, list[int]] = {}
        for index, partition in enumerate(partitions):
            chosen.setdefault(partition, []).append(index)
        answers = await asyncio.gather(
            *(self._append(topic, p, [records[i] for i in ids]) for p, ids in chosen.items())
        )
        results: list[RecordResult] = [RecordResult(-1, -1)] * len(records)
        for (partition, indexes), (base_offset, error) in zip(chosen.items(), answers, strict=True):
            for position, index in enumerate(indexes):
                offset = -1 if error else base_offset + position
                results[index] = RecordResult(partition, offset, error)
        return results

    def _partition(self, info: TopicInfo, record: ProducerRecord) -> int:
        if record.partition is None:
            if record.key is None:
                return self._round_robin.next(info.name, info.partitions)
            return partition_for_key(record.key, info.partitions)
        if not 0 <= record.partition < info.partitions:
            raise UnknownTopicOrPartitionError(
                f"topic {info.name!r} has no partition {record.partition}"
                f" (it has {info.partitions})"
            )
        return record.partition

    async def _append(
        self, topic: str, partition: int, records: list[ProducerRecord]
    ) -> tuple[int, LuongError | None]:
        now = self._clock.time_ms()
        batch = build_batch(
            [Record(i, now, r.key, r.value, r.headers) for i, r in enumerate(records)]
        )
        try:
            result = await self._storage.append(TopicPartition(topic, partition), batch)
        except LuongError as error:
            return -1, error
        return result.base_offset, None
