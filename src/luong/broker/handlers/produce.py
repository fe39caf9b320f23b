"""Produce (key 0): advertised 0-11, accepted 3-11 (v0-2 carry old message formats).

Every partition's batches are validated and appended whole or refused with
Kafka's error (through the ProduceService, which also says what it refuses);
partitions are appended concurrently so that, with acks=all, one group-commit
fsync covers them all. acks=0 gets no response at all, acks=1 returns once the
batches are written, acks=-1 (all) once the topic's flush policy made them
durable. Other acks values get INVALID_REQUIRED_ACKS. Idempotent producers'
retries are answered from the partition's producer state (storage/producers.py).
A batch refused because of particular records (a keyless record on a compacted
topic, a record over max.message.bytes) names them in record_errors (v8+, KIP-467).
"""

from __future__ import annotations

import asyncio
from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult
from luong.errors import (
    InvalidRecordError,
    InvalidRequiredAcksError,
    LuongError,
)
from luong.protocol.produce_response import PartitionProduceResult, encode_produce_response
from luong.types import TopicPartition

__all__ = ["HANDLER", "handle"]

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
        result = await ctx.broker.produce.append(tp, records, durable=durable)
    except LuongError as error:
        ctx.broker.log_client_error(ctx, error)
        return _failure(tp.partition, error)
    return PartitionProduceResult(
        tp.partition, 0, result.base_offset, result.log_append_time_ms, result.log_start_offset
    )


def _failure(index: int, error: LuongError) -> PartitionProduceResult:
    return PartitionProduceResult(
        index, error.error_code, error_message=str(error), record_errors=error.record_errors
    )


HANDLER = ApiHandler(0, "Produce", 0, 11, handle, min_accepted=3)
