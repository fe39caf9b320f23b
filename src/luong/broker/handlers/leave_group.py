"""LeaveGroup (key 13), versions 0-5: one member (v0-2) or several (v3+) leave; the
group rebalances without them."""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult

__all__ = ["HANDLER", "handle"]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    if ctx.version >= 3:
        members = [(m.member_id, m.group_instance_id) for m in request.members]
    else:
        members = [(request.member_id, None)]
    codes = await ctx.broker.groups.leave(request.group_id, members)
    if ctx.version >= 3:
        return {
            "throttle_time": 0,
            "error_code": 0,
            "members": [
                {"member_id": m, "group_instance_id": i, "error_code": c}
                for (m, i), c in zip(members, codes, strict=True)
            ],
        }
    return {"throttle_time": 0, "error_code": codes[0]}


HANDLER = ApiHandler(13, "LeaveGroup", 0, 5, handle)
