"""Heartbeat (key 12), versions 0-4: keep a member alive; REBALANCE_IN_PROGRESS tells
it to rejoin; FENCED_INSTANCE_ID (v3+, with group_instance_id) that a newer instance
of the same static member took its place."""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult

__all__ = ["HANDLER", "handle"]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    code = ctx.broker.groups.heartbeat(
        request.group_id,
        request.member_id,
        request.generation_id,
        getattr(request, "group_instance_id", None),
    )
    return {"throttle_time": 0, "error_code": code}


HANDLER = ApiHandler(12, "Heartbeat", 0, 4, handle)
