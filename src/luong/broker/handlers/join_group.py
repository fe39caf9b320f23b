"""JoinGroup (key 11), versions 0-9: join a classic group; the answer may wait for the
rest of the group (see luong.coordinator.groups).

From v4 a member without an id is answered MEMBER_ID_REQUIRED with an id to
rejoin with (KIP-394). A session timeout outside group.min.session.timeout.ms ..
group.max.session.timeout.ms is INVALID_SESSION_TIMEOUT; a static member id that a
newer instance replaced is FENCED_INSTANCE_ID. protocol_name is nullable only from
v7: older versions get "" when there is none yet.
"""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult
from luong.coordinator.groups import JoinRequest
from luong.errors import ErrorCode

__all__ = ["HANDLER", "handle"]

# answers that give the member its id; a refusal echoes the id the request carried
ASSIGNED_ID = (ErrorCode.NONE, ErrorCode.MEMBER_ID_REQUIRED)


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    session_ms = int(request.session_timeout.total_seconds() * 1000)
    rebalance = getattr(request, "rebalance_timeout", None)
    join = JoinRequest(
        group_id=request.group_id,
        member_id=request.member_id,
        group_instance_id=getattr(request, "group_instance_id", None),
        client_id=ctx.header.client_id or "",
        client_host=ctx.client_host,
        session_timeout_ms=session_ms,
        rebalance_timeout_ms=int(rebalance.total_seconds() * 1000) if rebalance else session_ms,
        protocol_type=request.protocol_type,
        protocols=[(p.name, p.metadata) for p in request.protocols],
        require_known_member_id=ctx.version >= 4,
    )
    reply = await ctx.broker.groups.join(join)
    nullable = ctx.version >= 7
    return {
        "throttle_time": 0,
        "error_code": reply.error_code,
        "generation_id": reply.generation_id,
        "protocol_type": reply.protocol_type,
        "protocol_name": reply.protocol_name if nullable else (reply.protocol_name or ""),
        "leader": reply.leader_id,
        "skip_assignment": False,
        "member_id": reply.member_id if reply.error_code in ASSIGNED_ID else request.member_id,
        "members": [
            {"member_id": m, "group_instance_id": i, "metadata": meta}
            for m, i, meta in reply.members
        ],
    }


HANDLER = ApiHandler(11, "JoinGroup", 0, 9, handle)
