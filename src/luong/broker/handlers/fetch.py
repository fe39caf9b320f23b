"""Fetch (key 1), versions 4-12: stored batches straight from the log.

Per partition, whole batches from the one holding fetch_offset, limited by
partition_max_bytes and by what is left of the response's max_bytes; the first
partition with data always gets at least one batch (KIP-74), later ones get
nothing once the budget is spent. When less than min_bytes is ready the fetch
waits in the purgatory until new data arrives or max_wait passes, then reads
again. No fetch sessions are created (session_id 0): every fetch is a full one.
isolation_level read_committed (1) stops at the last stable offset and lists the
aborted transactions in what it returns, so clients drop their records.
"""

from __future__ import annotations

import asyncio
from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult
from luong.errors import LuongError
from luong.protocol.fetch_response import PartitionFetchData, encode_fetch_response
from luong.types import EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, TopicPartition

__all__ = ["HANDLER", "handle"]

Wanted = list[tuple[TopicPartition, int, int]]  # (partition, fetch offset, partition max bytes)
READ_COMMITTED = 1


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    committed = request.isolation_level == READ_COMMITTED
    wanted: Wanted = [
        (TopicPartition(topic.topic, p.partition), p.fetch_offset, p.partition_max_bytes)
        for topic in request.topics
        for p in topic.partitions
    ]
    max_wait_s = max(request.max_wait.total_seconds(), 0.0)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_wait_s
    while True:
        answers, size, failed = await _read_all(ctx, wanted, request.max_bytes, committed)
        remaining = deadline - loop.time()
        if size >= request.min_bytes or failed or remaining <= 0 or not wanted:
            break
        if not await ctx.broker.logs.wait([tp for tp, _, _ in wanted], remaining):
            answers, size, failed = await _read_all(ctx, wanted, request.max_bytes, committed)
            break
    return encode_fetch_response(ctx.version, ctx.header.correlation_id, _by_topic(wanted, answers))


async def _read_all(
    ctx: RequestContext, wanted: Wanted, max_bytes: int, committed: bool
) -> tuple[list[PartitionFetchData], int, bool]:
    """Read every partition within the budget: (answers, bytes, any partition failed)."""
    answers, size, failed = [], 0, False
    for tp, offset, partition_max_bytes in wanted:
        budget = min(partition_max_bytes, max_bytes - size)
        answer = await _read_one(ctx, tp, offset, budget, first=size == 0, committed=committed)
        failed = failed or answer.error_code != 0
        size += sum(chunk.length for chunk in answer.records)
        answers.append(answer)
    return answers, size, failed


async def _read_one(
    ctx: RequestContext,
    tp: TopicPartition,
    offset: int,
    budget: int,
    *,
    first: bool,
    committed: bool,
) -> PartitionFetchData:
    try:
        result = await ctx.broker.logs.read(tp, offset, max(budget, 0), committed=committed)
    except LuongError as error:
        return await _failure(ctx, tp, error)
    records = result.regions if first or result.size <= budget else ()
    aborted = [(t.producer_id, t.first_offset) for t in result.aborted] if committed else None
    return PartitionFetchData(
        tp.partition,
        0,
        result.high_watermark,
        result.last_stable_offset,
        result.log_start_offset,
        aborted,
        records,
    )


async def _failure(
    ctx: RequestContext, tp: TopicPartition, error: LuongError
) -> PartitionFetchData:
    try:
        latest = await ctx.broker.logs.list_offset(tp, LATEST_TIMESTAMP)
        earliest = await ctx.broker.logs.list_offset(tp, EARLIEST_TIMESTAMP)
    except LuongError:
        return PartitionFetchData(tp.partition, error.error_code)
    return PartitionFetchData(
        tp.partition, error.error_code, latest.offset, latest.offset, earliest.offset
    )


def _by_topic(
    wanted: Wanted, answers: list[PartitionFetchData]
) -> list[tuple[str, list[PartitionFetchData]]]:
    topics: dict[str, list[PartitionFetchData]] = {}
    for (tp, _, _), answer in zip(wanted, answers, strict=True):
        topics.setdefault(tp.topic, []).append(answer)
    return list(topics.items())


HANDLER = ApiHandler(1, "Fetch", 4, 12, handle)
