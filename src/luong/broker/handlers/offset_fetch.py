"""OffsetFetch (key 9), versions 1-9: committed offsets of groups.

v1-7 ask for one group; v8+ for several (`groups`). A null topic list (v2+) asks
for every committed offset of the group. A partition without a committed offset
answers offset -1 and empty metadata, as Kafka does. With require_stable (v7+), a
partition whose offset waits in an open transaction answers UNSTABLE_OFFSET_COMMIT
(the consumer retries) instead of the older offset (KIP-447).
"""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult
from luong.errors import ErrorCode

__all__ = ["HANDLER", "handle"]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    stable = getattr(request, "require_stable", False)
    if ctx.version >= 8:
        groups = [
            {
                "group_id": g.group_id,
                "error_code": 0,
                "topics": _topics(ctx, g.group_id, g.topics, stable),
            }
            for g in request.groups
        ]
        return {"throttle_time": 0, "groups": groups}
    return {
        "throttle_time": 0,
        "error_code": 0,
        "topics": _topics(ctx, request.group_id, request.topics, stable),
    }


def _topics(
    ctx: RequestContext, group: str, topics: Any, require_stable: bool
) -> list[dict[str, Any]]:
    wanted = None if topics is None else [(t.name, p) for t in topics for p in t.partition_indexes]
    committed = ctx.broker.offsets.fetch(group, wanted)
    unstable = ctx.broker.offsets.store.pending(group) if require_stable else set()
    answers: dict[str, list[dict[str, Any]]] = {}
    for (topic, partition), found in sorted(committed.items()):
        answers.setdefault(topic, []).append(
            {
                "partition_index": partition,
                "committed_offset": found.offset if found else -1,
                "committed_leader_epoch": found.leader_epoch if found else -1,
                "metadata": found.metadata if found else "",
                "error_code": ErrorCode.UNSTABLE_OFFSET_COMMIT
                if (topic, partition) in unstable
                else 0,
            }
        )
    return [{"name": name, "partitions": parts} for name, parts in answers.items()]


HANDLER = ApiHandler(9, "OffsetFetch", 1, 9, handle)
