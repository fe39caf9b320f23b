"""ProduceService: every client write to a partition, from the Kafka listener or HTTP.

`append` takes a client's Kafka batches (Produce): internal topics are refused
(INVALID_TOPIC_EXCEPTION, as Kafka does); an idempotent batch must carry a producer
id this cluster handed out (UNKNOWN_PRODUCER_ID; Kafka accepts any id); a
transactional one must go to a partition of its producer's open transaction
(INVALID_TXN_STATE, as Kafka's partition verification, KIP-890); a topic whose
`compression.type` is a codec gets batches that arrive otherwise recompressed
with it (the default, `producer`, stores them as sent and costs nothing).

`produce` takes records that arrive decoded (HTTP): each partition's records of
one call become one v2 batch (CreateTime = now, producer id -1) appended through
`append` with acks=all durability, so Kafka clients read them like any other. A
topic that does not exist is created as a Kafka producer's Metadata request would
create it (`auto.create.topics.enable`, `num.partitions`); a record without a
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
from typing import Protocol

from luong.broker.internal import is_internal_topic
from luong.broker.partitioner import RoundRobin, partition_for_key
from luong.broker.topic_service import TopicService
from luong.broker.transactions import TransactionService
from luong.clock import Clock
from luong.errors import (
    InvalidTopicError,
    InvalidTxnStateError,
    LuongError,
    TopicAuthorizationFailedError,
    UnknownProducerIdError,
    UnknownTopicOrPartitionError,
)
from luong.protocol.records import (
    BATCH_HEADER_SIZE,
    Compression,
    Header,
    Record,
    build_batch,
    recompress,
    split_batches,
)
from luong.storage import AppendResult, Storage, TopicInfo
from luong.storage.producers import batch_info
from luong.types import TopicPartition

__all__ = ["ProduceService", "ProducerRecord", "RecordResult"]

CODECS = {
    "uncompressed": Compression.NONE,
    "gzip": Compression.GZIP,
    "snappy": Compression.SNAPPY,
    "lz4": Compression.LZ4,
    "zstd": Compression.ZSTD,
}


class ProducerRecord(Protocol):
    """One record to append; `partition` None lets the partitioner choose (the
    gateway's ProducerRecord dataclass is one)."""

    @property
    def key(self) -> bytes | None: ...

    @property
    def value(self) -> bytes | None: ...

    @property
    def headers(self) -> tuple[Header, ...]: ...

    @property
    def partition(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class RecordResult:
    """Where a record landed, or why it did not (`offset` -1 then)."""

    partition: int
    offset: int
    error: LuongError | None = None


class ProduceService:
    def __init__(
        self,
        storage: Storage,
        topics: TopicService,
        transactions: TransactionService,
        clock: Clock,
    ) -> None:
        self._storage = storage
        self._topics = topics
        self._transactions = transactions
        self._clock = clock
        self._round_robin = RoundRobin()

    async def append(
        self, tp: TopicPartition, records: bytes | memoryview, *, durable: bool = True
    ) -> AppendResult:
        """Append a client's batches (see the module docstring for what is refused)."""
        if is_internal_topic(tp.topic):
            raise InvalidTopicError(f"cannot append to internal topic {tp.topic}")
        self._check_producer(tp, records)
        info = self._storage.find_topic(tp.topic)
        if info is not None and info.config.compression_type != "producer":
            records = _recompressed(records, CODECS[info.config.compression_type])
        return await self._storage.append(tp, records, durable=durable)

    def _check_producer(self, tp: TopicPartition, records: bytes | memoryview) -> None:
        if len(records) < BATCH_HEADER_SIZE:
            return  # storage refuses it as corrupt
        info = batch_info(records)
        if info.producer_id < 0:
            return
        if not self._transactions.coordinator.was_allocated(info.producer_id):
            raise UnknownProducerIdError(f"producer id {info.producer_id} was never allocated here")
        if info.transactional and not self._transactions.check_produce(
            info.producer_id, info.epoch, tp
        ):
            raise InvalidTxnStateError(
                f"producer {info.producer_id} epoch {info.epoch} has no open transaction with {tp}"
            )

    async def produce(self, topic: str, records: Sequence[ProducerRecord]) -> list[RecordResult]:
        """Append `records` to `topic` (created if allowed); one result per record, in order.

        UnknownTopicOrPartitionError, before anything is written, for a topic that
        does not exist and may not be created, or a partition it does not have;
        TopicAuthorizationFailedError for an internal topic.
        """
        if is_internal_topic(topic):
            raise TopicAuthorizationFailedError(f"{topic!r} is an internal topic")
        info = await self._topics.find_or_create(topic, auto_create=True)
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
            result = await self.append(TopicPartition(topic, partition), batch)
        except LuongError as error:
            return -1, error
        return result.base_offset, None


def _recompressed(records: bytes | memoryview, codec: Compression) -> bytes:
    """Every batch of a produce payload compressed with `codec` (validated first)."""
    return b"".join(recompress(batch, codec) for batch in split_batches(records))
