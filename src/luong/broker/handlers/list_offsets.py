"""ListOffsets (key 2), versions 1-8: earliest (-2), latest (-1), max timestamp (-3, v7+)
or the first offset at or after a timestamp, per partition; latest is the last
stable offset under isolation_level read_committed (v2+)."""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult
from luong.errors import LuongError
from luong.types import TopicPartition

__all__ = ["HANDLER", "handle"]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    committed = getattr(request, "isolation_level", 0) == 1
    topics = []
    for topic in request.topics:
        partitions = [
            await _partition(
                ctx, TopicPartition(topic.name, p.partition_index), p.timestamp, committed
            )
            for p in topic.partitions
        ]
        topics.append({"name": topic.name, "partitions": partitions})
    return {"throttle_time": 0, "topics": topics}


async def _partition(
    ctx: RequestContext, tp: TopicPartition, timestamp: int, committed: bool
) -> dict[str, Any]:
    answer: dict[str, Any] = {"partition_index": tp.partition, "leader_epoch": 0}
    try:
        found = await ctx.broker.logs.list_offset(tp, timestamp, committed=committed)
    except LuongError as error:
        return {**answer, "error_code": error.error_code, "timestamp": -1, "offset": -1}
    return {**answer, "error_code": 0, "timestamp": found.timestamp, "offset": found.offset}


HANDLER = ApiHandler(2, "ListOffsets", 1, 8, handle)
