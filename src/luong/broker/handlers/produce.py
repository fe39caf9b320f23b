"""Produce (key 0): advertised 0-11, accepted 3-11 (v0-2 carry old message formats).

Every partition's batches are validated and appended whole or refused with
Kafka's error; partitions are appended concurrently so that, with acks=all, one
group-commit fsync covers them all. acks=0 gets no response at all, acks=1
returns once the batches are written, acks=-1 (all) once the topic's flush
policy made them durable. Other acks values get INVALID_REQUIRED_ACKS.
Idempotent producers' retries are answered from the partition's producer state
(storage/producers.py); a producer id the cluster never allocated gets
UNKNOWN_PRODUCER_ID (Kafka accepts any id); transactional batches must go to
partitions of the producer's open transaction (INVALID_TXN_STATE otherwise, as
Kafka's partition verification, KIP-890).
"""

from __future__ import annotations

import asyncio
from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult
from luong.errors import (
    InvalidRecordError,
    InvalidRequiredAcksError,
    InvalidTxnStateError,
    LuongError,
    UnknownProducerIdError,
)
from luong.protocol.produce_response import PartitionProduceResult, encode_produce_response
from luong.protocol.records import BATCH_HEADER_SIZE
from luong.storage.producers import batch_info
from luong.types import TopicPartition

VALID_ACKS = (0, 1, -1)


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    acks = request.acks
    work = [
        (topic.name, part.index, part.records)
        for topic in request.topic_data
        for part in topic.partition_data
    ]
    if acks in VALID_ACKS:
        answers = await asyncio.gather(
            *(
                _append(ctx, TopicPartition(name, index), records, acks == -1)
                for name, index, records in work
            )
        )
    else:
        error = InvalidRequiredAcksError(f"acks must be 0, 1 or -1, not {acks}")
        answers = [_failure(index, error) for _, index, _ in work]
    if acks == 0:
        return None
    by_topic: dict[str, list[PartitionProduceResult]] = {}
    for (name, _, _), answer in zip(work, answers, strict=True):
        by_topic.setdefault(name, []).append(answer)
    return encode_produce_response(ctx.version, ctx.header.correlation_id, list(by_topic.items()))


async def _append(
    ctx: RequestContext, tp: TopicPartition, records: bytes | None, durable: bool
) -> PartitionProduceResult:
    try:
        if records is None:
            raise InvalidRecordError("produce request with null records")
        _check_producer(ctx, tp, records)
        result = await ctx.broker.storage.append(tp, records, durable=durable)
    except LuongError as error:
        ctx.broker.log_client_error(ctx, error)
        return _failure(tp.partition, error)
    return PartitionProduceResult(
        tp.partition, 0, result.base_offset, result.log_append_time_ms, result.log_start_offset
    )


def _check_producer(ctx: RequestContext, tp: TopicPartition, records: bytes) -> None:
    """An idempotent batch must carry a producer id this cluster handed out
    (UNKNOWN_PRODUCER_ID otherwise); a transactional one must go to a partition of its
    producer's open transaction (added by AddPartitionsToTxn), or its markers would
    never be written (INVALID_TXN_STATE)."""
    if len(records) < BATCH_HEADER_SIZE:
        return  # storage refuses it as corrupt
    info = batch_info(records)
    if info.producer_id < 0:
        return
    transactions = ctx.broker.transactions
    if not transactions.coordinator.was_allocated(info.producer_id):
        raise UnknownProducerIdError(f"producer id {info.producer_id} was never allocated here")
    if info.transactional and not transactions.check_produce(info.producer_id, info.epoch, tp):
        raise InvalidTxnStateError(
            f"producer {info.producer_id} epoch {info.epoch} has no open transaction with {tp}"
        )


def _failure(index: int, error: LuongError) -> PartitionProduceResult:
    return PartitionProduceResult(index, error.error_code, error_message=str(error))


HANDLER = ApiHandler(0, "Produce", 0, 11, handle, min_accepted=3)
