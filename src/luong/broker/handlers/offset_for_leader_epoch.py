"""OffsetForLeaderEpoch (key 23), versions 2-4: where a leader epoch ends.

One node that never changes leader: the leader epoch is always 0, and epoch 0 is
still being written to. So, per partition, as Kafka's leader epoch cache answers:
leader_epoch 0 gives end_offset = the log end offset and leader_epoch 0; any
other requested epoch (-1 "undefined", or one above 0, which no leader ever had)
gives leader_epoch -1 and end_offset -1 with no error.

current_leader_epoch fences clients with a stale or a future view: -1 skips the
check, one below 0 is FENCED_LEADER_EPOCH, one above 0 UNKNOWN_LEADER_EPOCH.
An unknown topic or partition is UNKNOWN_TOPIC_OR_PARTITION. v3+ replica_id
(consumers send -1) changes nothing.
"""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult
from luong.errors import FencedLeaderEpochError, LuongError, UnknownLeaderEpochError
from luong.types import LATEST_TIMESTAMP, TopicPartition

__all__ = ["HANDLER", "handle"]

LEADER_EPOCH = 0
NO_EPOCH = -1


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    topics = []
    for topic in request.topics:
        partitions = [await _partition(ctx, topic.topic, p) for p in topic.partitions]
        topics.append({"topic": topic.topic, "partitions": partitions})
    return {"throttle_time": 0, "topics": topics}


async def _partition(ctx: RequestContext, topic: str, partition: Any) -> dict[str, Any]:
    tp = TopicPartition(topic, partition.partition)
    answer = {"partition": tp.partition, "leader_epoch": NO_EPOCH, "end_offset": -1}
    try:
        log_end_offset = (await ctx.broker.logs.list_offset(tp, LATEST_TIMESTAMP)).offset
        _check_current_epoch(tp, partition.current_leader_epoch)
    except LuongError as error:
        return {**answer, "error_code": error.error_code}
    if partition.leader_epoch != LEADER_EPOCH:
        return {**answer, "error_code": 0}
    return {**answer, "error_code": 0, "leader_epoch": LEADER_EPOCH, "end_offset": log_end_offset}


def _check_current_epoch(tp: TopicPartition, current: int) -> None:
    if current in {NO_EPOCH, LEADER_EPOCH}:
        return
    if current < LEADER_EPOCH:
        raise FencedLeaderEpochError(f"leader epoch {current} of {tp} is older than 0")
    raise UnknownLeaderEpochError(f"leader epoch {current} of {tp} is newer than 0")


HANDLER = ApiHandler(23, "OffsetForLeaderEpoch", 2, 4, handle)
