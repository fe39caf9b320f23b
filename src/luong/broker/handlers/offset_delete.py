"""OffsetDelete (key 47), version 0: delete a group's committed offsets on partitions.

An unknown group gets GROUP_ID_NOT_FOUND; a partition of a topic the group's
members subscribe to gets GROUP_SUBSCRIBED_TO_TOPIC and keeps its offset.
"""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult
from luong.errors import ErrorCode

__all__ = ["HANDLER", "handle"]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    broker = ctx.broker
    group = request.group_id
    if (
        group not in broker.offsets.store.groups()
        and broker.groups.coordinator.describe(group) is None
    ):
        return {"error_code": ErrorCode.GROUP_ID_NOT_FOUND, "throttle_time": 0, "topics": []}
    subscribed = broker.groups.coordinator.subscribed_topics(group)
    deleted = []
    topics = []
    for topic in request.topics:
        busy = topic.name in subscribed or "*" in subscribed
        code = ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC if busy else 0
        topics.append(
            {
                "name": topic.name,
                "partitions": [
                    {"partition_index": p.partition_index, "error_code": code}
                    for p in topic.partitions
                ],
            }
        )
        if not busy:
            deleted += [(topic.name, p.partition_index) for p in topic.partitions]
    await broker.offsets.delete_offsets(group, deleted)
    return {"error_code": 0, "throttle_time": 0, "topics": topics}


HANDLER = ApiHandler(47, "OffsetDelete", 0, 0, handle)
