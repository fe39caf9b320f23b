"""ListGroups (key 16), versions 0-4 (states_filter from v4): every group, those known
only from committed offsets included as Empty."""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult

__all__ = ["HANDLER", "handle"]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    wanted = {s.lower() for s in getattr(request, "states_filter", ())}
    groups = ctx.broker.groups.listing(ctx.broker.offsets.store.groups())
    return {
        "throttle_time": 0,
        "error_code": 0,
        "groups": [
            {"group_id": g, "protocol_type": kind, "group_state": state}
            for g, kind, state in groups
            if not wanted or state.lower() in wanted
        ],
    }


HANDLER = ApiHandler(16, "ListGroups", 0, 4, handle)
