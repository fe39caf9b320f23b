"""CreatePartitions (key 37), versions 0-3: grow topics to `count` partitions.

Partitions only grow: a count at or below the current one is INVALID_PARTITIONS.
assignments, when not null, hold one replica list per new partition, each naming
only this node (one node, replication factor 1); otherwise INVALID_REPLICA_ASSIGNMENT.
validate_only checks without creating. A topic named twice in one request is
INVALID_REQUEST at each mention (as Kafka does); an unknown topic is
UNKNOWN_TOPIC_OR_PARTITION. The growth is done when the answer is sent, so the
request's timeout is not needed.
"""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult, error_fields
from luong.errors import InvalidReplicaAssignmentError, InvalidRequestError, LuongError

__all__ = ["HANDLER", "handle"]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    names = [topic.name for topic in request.topics]
    results = []
    for topic in request.topics:
        if names.count(topic.name) > 1:
            error = InvalidRequestError("Duplicate topic in request.")
            results.append({"name": topic.name, **error_fields(error)})
        else:
            results.append(await _grow(ctx, topic, request.validate_only))
    return {"throttle_time": 0, "results": results}


async def _grow(ctx: RequestContext, topic: Any, validate_only: bool) -> dict[str, Any]:
    try:
        info = ctx.broker.topics.topic(topic.name)
        _check_assignments(ctx.broker.identity.node_id, topic, info.partitions)
        await ctx.broker.topics.create_partitions(
            topic.name, topic.count, validate_only=validate_only
        )
    except LuongError as error:
        return {"name": topic.name, **error_fields(error)}
    return {"name": topic.name, **error_fields(None)}


def _check_assignments(node_id: int, topic: Any, current: int) -> None:
    if topic.assignments is None or topic.count <= current:
        return  # a count that does not grow the topic is refused as INVALID_PARTITIONS
    added = topic.count - current
    if len(topic.assignments) != added:
        raise InvalidReplicaAssignmentError(
            f"Increasing the number of partitions by {added} "
            f"but {len(topic.assignments)} assignments provided."
        )
    if any(list(a.broker_ids) != [node_id] for a in topic.assignments):
        raise InvalidReplicaAssignmentError(
            f"replica assignments may only name node {node_id} (one node, replication factor 1)"
        )


HANDLER = ApiHandler(37, "CreatePartitions", 0, 3, handle)
