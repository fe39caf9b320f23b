"""OffsetFetch (key 9), versions 1-9: committed offsets of groups.

v1-7 ask for one group; v8+ for several (`groups`). A null topic list (v2+) asks
for every committed offset of the group. A partition without a committed offset
answers offset -1 and empty metadata, as Kafka does.
"""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    if ctx.version >= 8:
        groups = [
            {"group_id": g.group_id, "error_code": 0, "topics": _topics(ctx, g.group_id, g.topics)}
            for g in request.groups
        ]
        return {"throttle_time": 0, "groups": groups}
    return {
        "throttle_time": 0,
        "error_code": 0,
        "topics": _topics(ctx, request.group_id, request.topics),
    }


def _topics(ctx: RequestContext, group: str, topics: Any) -> list[dict[str, Any]]:
    wanted = None if topics is None else [(t.name, p) for t in topics for p in t.partition_indexes]
    committed = ctx.broker.offsets.fetch(group, wanted)
    answers: dict[str, list[dict[str, Any]]] = {}
    for (topic, partition), found in sorted(committed.items()):
        answers.setdefault(topic, []).append(
            {
                "partition_index": partition,
                "committed_offset": found.offset if found else -1,
                "committed_leader_epoch": found.leader_epoch if found else -1,
                "metadata": found.metadata if found else "",
                "error_code": 0,
            }
        )
    return [{"name": name, "partitions": parts} for name, parts in answers.items()]


HANDLER = ApiHandler(9, "OffsetFetch", 1, 9, handle)
