"""CreateTopics (key 19), versions 2-7, with validate_only and configs.

num_partitions -1 takes `num.partitions`; replication_factor must be -1 or 1 (one
node: INVALID_REPLICATION_FACTOR otherwise); manual assignments may only name
this node. From v5 the answer carries the topic's resulting settings.
"""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult, error_fields
from luong.broker.topic_service import TopicInfo
from luong.errors import InvalidReplicationFactorError, InvalidRequestError, LuongError

__all__ = ["HANDLER", "config_entries", "handle"]

CONFIG_SOURCES = {"TOPIC_CONFIG": 1, "STATIC_BROKER_CONFIG": 4, "DEFAULT_CONFIG": 5}


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    results = [await _create(ctx, topic, request.validate_only) for topic in request.topics]
    return {"throttle_time": 0, "topics": results}


async def _create(ctx: RequestContext, topic: Any, validate_only: bool) -> dict[str, Any]:
    try:
        partitions = _partition_count(ctx, topic)
        configs = {config.name: config.value for config in topic.configs}
        info = await ctx.broker.topics.create(
            topic.name, partitions, configs, validate_only=validate_only
        )
    except LuongError as error:
        return {
            "name": topic.name,
            **error_fields(error),
            "num_partitions": -1,
            "replication_factor": -1,
            "configs": None,
        }
    return {
        "name": topic.name,
        "topic_id": info.topic_id,
        **error_fields(None),
        "num_partitions": info.partitions,
        "replication_factor": 1,
        "configs": config_entries(info),
    }


def _partition_count(ctx: RequestContext, topic: Any) -> int:
    node_id = ctx.broker.identity.node_id
    if topic.replication_factor not in (-1, 1):
        raise InvalidReplicationFactorError(
            f"replication factor {topic.replication_factor} is larger than the 1 available node"
        )
    if topic.assignments:
        if any(list(a.broker_ids) != [node_id] for a in topic.assignments):
            raise InvalidRequestError(f"replica assignments may only name node {node_id}")
        return len(topic.assignments)
    if topic.num_partitions == -1:
        return int(ctx.broker.config["num.partitions"])
    return int(topic.num_partitions)


def config_entries(info: TopicInfo) -> list[dict[str, Any]]:
    """A topic's settings as CreateTopics v5+ and DescribeConfigs list them."""
    return [
        {
            "name": name,
            "value": value,
            "read_only": False,
            "is_default": source != "TOPIC_CONFIG",
            "config_source": CONFIG_SOURCES[source],
            "is_sensitive": False,
        }
        for name, value, source in info.config.entries()
    ]


HANDLER = ApiHandler(19, "CreateTopics", 2, 7, handle)
