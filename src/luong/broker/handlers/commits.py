"""What OffsetCommit and TxnOffsetCommit share: reading the request's partitions and
shaping the per-partition answers (unknown partitions get UNKNOWN_TOPIC_OR_PARTITION
and are not committed)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from luong.broker.context import RequestContext
from luong.coordinator.offsets import CommitRequest, OffsetKey
from luong.errors import ErrorCode

__all__ = ["Wanted", "accepted", "commit_answers", "commit_requests"]

Wanted = list[tuple[str, int, CommitRequest | None]]  # (topic, partition, None if unknown)


def commit_requests(ctx: RequestContext, group_id: str, topics: Iterable[Any]) -> Wanted:
    wanted: Wanted = []
    for topic in topics:
        info = ctx.broker.topics.get(topic.name)
        for p in topic.partitions:
            known = info is not None and 0 <= p.partition_index < info.partitions
            proposal = CommitRequest(
                OffsetKey(group_id, topic.name, p.partition_index),
                p.committed_offset,
                getattr(p, "committed_leader_epoch", -1),
                p.committed_metadata,
            )
            wanted.append((topic.name, p.partition_index, proposal if known else None))
    return wanted


def accepted(wanted: Wanted) -> list[CommitRequest]:
    return [c for _, _, c in wanted if c is not None]


def commit_answers(wanted: Wanted, codes: Iterable[int]) -> dict[str, Any]:
    """The response body: `codes` has one code per known partition, in order."""
    given = iter(codes)
    answers: dict[str, list[dict[str, Any]]] = {}
    for name, partition, commit in wanted:
        code = next(given) if commit is not None else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        answers.setdefault(name, []).append({"partition_index": partition, "error_code": code})
    return {
        "throttle_time": 0,
        "topics": [{"name": name, "partitions": parts} for name, parts in answers.items()],
    }
