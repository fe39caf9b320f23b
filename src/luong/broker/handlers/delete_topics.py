"""DeleteTopics (key 20), versions 1-6 (topics by name; v6 also by id)."""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult, error_fields
from luong.errors import LuongError

__all__ = ["HANDLER", "handle"]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    if ctx.version >= 6:
        wanted = [(t.name, t.topic_id) for t in request.topics]
    else:
        wanted = [(name, None) for name in request.topic_names]
    return {"throttle_time": 0, "responses": [await _delete(ctx, n, i) for n, i in wanted]}


async def _delete(ctx: RequestContext, name: str | None, topic_id: Any) -> dict[str, Any]:
    try:
        info = await ctx.broker.topics.delete(name, topic_id)
    except LuongError as error:
        return {"name": name, "topic_id": topic_id, **error_fields(error)}
    return {"name": info.name, "topic_id": info.topic_id, **error_fields(None)}


HANDLER = ApiHandler(20, "DeleteTopics", 1, 6, handle)
