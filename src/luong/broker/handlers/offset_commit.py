"""OffsetCommit (key 8), versions 2-9: store committed offsets durably.

Members commit with their generation; simple commits (generation -1 and no
member id, from admin clients and consumers that assign partitions themselves)
are accepted for a group without members and get UNKNOWN_MEMBER_ID while it has
some (Kafka checks membership first). The coordinator's verdict
(UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS)
applies to every partition; metadata
strings longer than 4,096 bytes get OFFSET_METADATA_TOO_LARGE.
"""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult
from luong.broker.handlers.commits import accepted, commit_answers, commit_requests

__all__ = ["HANDLER", "handle"]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    wanted = commit_requests(ctx, request.group_id, request.topics)
    membership = ctx.broker.groups.coordinator.check_commit(
        request.group_id,
        request.member_id,
        request.generation_id_or_member_epoch,
        getattr(request, "group_instance_id", None),
    )
    return commit_answers(wanted, await ctx.broker.offsets.commit(accepted(wanted), membership))


HANDLER = ApiHandler(8, "OffsetCommit", 2, 9, handle)
