"""SyncGroup (key 14), versions 0-5: the leader hands in every member's assignment;
every member gets its own once the leader's is durable in `__consumer_offsets`, all
at the same time (see luong.coordinator.groups). A static member whose instance id
a newer instance took over gets FENCED_INSTANCE_ID (v3+)."""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult

__all__ = ["HANDLER", "handle"]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    assignments = [(a.member_id, a.assignment) for a in request.assignments]
    reply = await ctx.broker.groups.sync(
        request.group_id,
        request.member_id,
        request.generation_id,
        assignments,
        getattr(request, "group_instance_id", None),
    )
    return {
        "throttle_time": 0,
        "error_code": reply.error_code,
        "protocol_type": reply.protocol_type,
        "protocol_name": reply.protocol_name,
        "assignment": reply.assignment,
    }


HANDLER = ApiHandler(14, "SyncGroup", 0, 5, handle)
