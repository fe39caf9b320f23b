"""Metadata (key 3), versions 0-12: brokers, topics, partitions and leaders.

v0: an empty topic list means every topic; v1+: null means every topic, empty
means none. An unknown, legally named topic is created on the spot when the
broker allows it (`auto.create.topics.enable`) and the request does (v4+), with
`num.partitions` partitions. Topic ids (v10+) are the stored, stable ones.

Encoded answers are cached (the last CACHED_RESPONSES, keyed by version and each
topic's name, id and partition count, so a topic created, deleted or grown is a
new key): a 2,048-partition topic costs ~13 ms of the event loop to encode and
~0.1 ms to serve from the cache. Answers that create topics or carry errors are
never cached. With include_cluster/topic_authorized_operations (v8+) the answer
carries the operations the principal may perform (broker/authorizer.py).
"""

from __future__ import annotations

from typing import Any

from luong.broker.authorizer import cluster_operations, topic_operations
from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult
from luong.broker.internal import is_internal_topic
from luong.broker.topic_service import TopicInfo
from luong.errors import LuongError

__all__ = ["HANDLER", "handle"]

CACHED_RESPONSES = 64


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    names = _requested_names(ctx.version, request)
    known = _known_topics(ctx, names)
    if known is None:  # some topic to create or to answer with an error: not cached
        return await _answer(ctx, request, names)
    key = (ctx.version, _asked(request), tuple((i.name, i.topic_id, i.partitions) for i in known))
    cache = ctx.broker.metadata_cache
    body = cache.pop(key, None) or ctx.spec.encode_body(
        _response(ctx, request, [_topic(ctx, request, i) for i in known])
    )
    cache[key] = body  # most recently used last
    while len(cache) > CACHED_RESPONSES:
        del cache[next(iter(cache))]
    return ctx.spec.frame(ctx.header.correlation_id, body)


def _known_topics(ctx: RequestContext, names: list[str] | None) -> list[TopicInfo] | None:
    """The requested topics' infos, or None if any of them does not exist."""
    topics = ctx.broker.topics.visible()
    if names is None:
        return list(topics.values())
    infos = [topics.get(name) for name in names]
    return None if None in infos else infos  # type: ignore[return-value]


async def _answer(ctx: RequestContext, request: Any, names: list[str] | None) -> HandlerResult:
    """The uncached path: auto-creates what it may, answers errors per topic."""
    if names is None:
        topics = [_topic(ctx, request, info) for info in ctx.broker.topics.visible().values()]
    else:
        auto_create = getattr(request, "allow_auto_topic_creation", True)
        topics = [await _named_topic(ctx, request, name, auto_create) for name in names]
    return _response(ctx, request, topics)


def _asked(request: Any) -> tuple[bool, bool]:
    """Whether the client asks for the cluster's and the topics' authorized operations."""
    return (
        bool(getattr(request, "include_cluster_authorized_operations", False)),
        bool(getattr(request, "include_topic_authorized_operations", False)),
    )


def _response(ctx: RequestContext, request: Any, topics: list[dict[str, Any]]) -> dict[str, Any]:
    node = ctx.broker.identity
    return {
        "throttle_time": 0,
        "brokers": [{"node_id": node.node_id, "host": node.host, "port": node.port, "rack": None}],
        "cluster_id": node.cluster_id,
        "controller_id": node.node_id,
        "topics": topics,
        "cluster_authorized_operations": cluster_operations(_asked(request)[0]),
    }


def _requested_names(version: int, request: Any) -> list[str] | None:
    """Topic names asked for; None for every topic."""
    if request.topics is None or (version == 0 and not request.topics):
        return None
    return [topic.name for topic in request.topics if topic.name is not None]


async def _named_topic(
    ctx: RequestContext, request: Any, name: str, auto_create: bool
) -> dict[str, Any]:
    try:
        info = await ctx.broker.topics.find_or_create(name, auto_create=auto_create)
    except LuongError as error:
        return {"error_code": error.error_code, "name": name, "partitions": []}
    return _topic(ctx, request, info)


def _topic(ctx: RequestContext, request: Any, info: TopicInfo) -> dict[str, Any]:
    node_id = ctx.broker.identity.node_id
    partitions = [
        {
            "error_code": 0,
            "partition_index": p,
            "leader_id": node_id,
            "leader_epoch": 0,
            "replica_nodes": [node_id],
            "isr_nodes": [node_id],
            "offline_replicas": [],
        }
        for p in range(info.partitions)
    ]
    return {
        "error_code": 0,
        "name": info.name,
        "topic_id": info.topic_id,
        "is_internal": is_internal_topic(info.name),
        "partitions": partitions,
        "topic_authorized_operations": topic_operations(info.name, _asked(request)[1]),
    }


HANDLER = ApiHandler(3, "Metadata", 0, 12, handle)
