"""DescribeGroups (key 15), versions 0-5: state, protocol and members of groups.

A group this node knows only from committed offsets is described as Empty; an
unknown one as Dead with no members, as Kafka does. With
include_authorized_operations (v3+) each group carries the operations the principal
may perform on it (broker/authorizer.py).
"""

from __future__ import annotations

from typing import Any

from luong.broker.authorizer import group_operations
from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult
from luong.coordinator.groups import Group

__all__ = ["HANDLER", "handle"]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    asked = getattr(request, "include_authorized_operations", False)
    return {"throttle_time": 0, "groups": [_describe(ctx, g, asked) for g in request.groups]}


def _describe(ctx: RequestContext, group_id: str, asked: bool) -> dict[str, Any]:
    operations = group_operations(group_id, asked)
    group = ctx.broker.groups.coordinator.describe(group_id)
    if group is None:
        state = "Empty" if group_id in ctx.broker.offsets.groups() else "Dead"
        return {
            "error_code": 0,
            "group_id": group_id,
            "group_state": state,
            "protocol_type": "",
            "protocol_data": "",
            "members": [],
            "authorized_operations": operations,
        }
    return {
        "error_code": 0,
        "group_id": group_id,
        "group_state": group.state.value,
        "protocol_type": group.protocol_type or "",
        "protocol_data": group.protocol_name or "",
        "members": _members(group),
        "authorized_operations": operations,
    }


def _members(group: Group) -> list[dict[str, Any]]:
    return [
        {
            "member_id": m.member_id,
            "group_instance_id": m.group_instance_id,
            "client_id": m.client_id,
            "client_host": m.client_host,
            "member_metadata": dict(m.protocols).get(group.protocol_name or "", b""),
            "member_assignment": m.assignment,
        }
        for m in group.members.values()
    ]


HANDLER = ApiHandler(15, "DescribeGroups", 0, 5, handle)
