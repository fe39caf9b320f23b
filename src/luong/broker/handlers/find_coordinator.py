"""FindCoordinator (key 10), versions 0-5: this node coordinates every group and
transactional id (a single node). The batched form (coordinator_keys) is v4+."""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult

__all__ = ["HANDLER", "handle"]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    node = ctx.broker.identity
    me = {
        "node_id": node.node_id,
        "host": node.host,
        "port": node.port,
        "error_code": 0,
        "error_message": None,
    }
    if ctx.version >= 4:
        return {
            "throttle_time": 0,
            "coordinators": [{"key": key, **me} for key in request.coordinator_keys],
        }
    return {"throttle_time": 0, **me}


HANDLER = ApiHandler(10, "FindCoordinator", 0, 5, handle)
