"""DeleteGroups (key 42), versions 0-2: forget groups without members and their
committed offsets. A group with members gets NON_EMPTY_GROUP, an unknown one
GROUP_ID_NOT_FOUND."""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult
from luong.errors import ErrorCode

__all__ = ["HANDLER", "handle"]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    results = [{"group_id": g, "error_code": await _delete(ctx, g)} for g in request.groups_names]
    return {"throttle_time": 0, "results": results}


async def _delete(ctx: RequestContext, group_id: str) -> int:
    broker = ctx.broker
    known = broker.groups.coordinator.describe(group_id) is not None
    if not known and group_id not in broker.offsets.store.groups():
        return ErrorCode.GROUP_ID_NOT_FOUND
    code = await broker.groups.delete(group_id)
    if code == 0:
        await broker.offsets.delete_group(group_id)
    return code


HANDLER = ApiHandler(42, "DeleteGroups", 0, 2, handle)
