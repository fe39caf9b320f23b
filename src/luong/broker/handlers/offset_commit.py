"""OffsetCommit (key 8), versions 2-9: store committed offsets durably.

Members commit with their generation; simple commits (generation -1 and no
member id, from consumers that assign partitions themselves) are accepted for a
group without members. The coordinator's verdict (UNKNOWN_MEMBER_ID,
ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS) applies to every partition; metadata
strings longer than 4,096 bytes get OFFSET_METADATA_TOO_LARGE.
"""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult
from luong.coordinator.offsets import CommitRequest, OffsetKey

UNKNOWN_TOPIC_OR_PARTITION = 3


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    topics = ctx.broker.storage.topics()
    wanted: list[tuple[str, int, CommitRequest | None]] = []
    for topic in request.topics:
        info = topics.get(topic.name)
        for p in topic.partitions:
            known = info is not None and 0 <= p.partition_index < info.partitions
            commit = (
                CommitRequest(
                    OffsetKey(request.group_id, topic.name, p.partition_index),
                    p.committed_offset,
                    getattr(p, "committed_leader_epoch", -1),
                    p.committed_metadata,
                )
                if known
                else None
            )
            wanted.append((topic.name, p.partition_index, commit))
    membership = ctx.broker.groups.coordinator.check_commit(
        request.group_id, request.member_id, request.generation_id_or_member_epoch
    )
    accepted = [c for _, _, c in wanted if c is not None]
    codes = iter(await ctx.broker.offsets.commit(accepted, membership))
    answers: dict[str, list[dict[str, Any]]] = {}
    for name, partition, commit in wanted:
        code = next(codes) if commit is not None else UNKNOWN_TOPIC_OR_PARTITION
        answers.setdefault(name, []).append({"partition_index": partition, "error_code": code})
    return {
        "throttle_time": 0,
        "topics": [{"name": name, "partitions": parts} for name, parts in answers.items()],
    }


HANDLER = ApiHandler(8, "OffsetCommit", 2, 9, handle)
