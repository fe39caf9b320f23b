"""DeleteRecords (key 21), versions 0-2: advance partitions' log start offsets.

Per partition, `offset` is the new log start offset; -1 means the high watermark
(delete everything). The answer's low_watermark is the log start offset afterwards.
An offset at or below the current log start deletes nothing and answers the
current one (as Kafka does); an offset above the high watermark, or below -1, is
OFFSET_OUT_OF_RANGE; an unknown topic or partition is UNKNOWN_TOPIC_OR_PARTITION;
an internal topic INVALID_TOPIC_EXCEPTION.
Failed partitions answer low_watermark -1. The deletion is done when the answer is
sent, so the request's timeout is not needed.
"""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult
from luong.errors import LuongError
from luong.types import TopicPartition

__all__ = ["HANDLER", "handle"]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    topics = []
    for topic in request.topics:
        partitions = [
            await _partition(ctx, TopicPartition(topic.name, p.partition_index), p.offset)
            for p in topic.partitions
        ]
        topics.append({"name": topic.name, "partitions": partitions})
    return {"throttle_time": 0, "topics": topics}


async def _partition(ctx: RequestContext, tp: TopicPartition, offset: int) -> dict[str, Any]:
    answer = {"partition_index": tp.partition}
    try:
        low_watermark = await ctx.broker.logs.delete_records(tp, offset)
    except LuongError as error:
        return {**answer, "low_watermark": -1, "error_code": error.error_code}
    return {**answer, "low_watermark": low_watermark, "error_code": 0}


HANDLER = ApiHandler(21, "DeleteRecords", 0, 2, handle)
