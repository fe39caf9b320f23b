"""AddPartitionsToTxn (key 24), versions 0-3: partitions join the producer's open
transaction (it starts with the first). All or nothing: an unknown partition gets
UNKNOWN_TOPIC_OR_PARTITION and the others OPERATION_NOT_ATTEMPTED; the
coordinator's refusal (INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED,
CONCURRENT_TRANSACTIONS) applies to every partition; PRODUCER_FENCED is
INVALID_PRODUCER_EPOCH before v2 (KIP-588). The v4+ batched form is the
brokers' own (KIP-890) and not offered."""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult, fenced_code
from luong.broker.internal import is_internal_topic
from luong.broker.topic_service import TopicInfo
from luong.errors import ErrorCode, LuongError

__all__ = ["HANDLER", "handle"]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    topics = {t.name: ctx.broker.topics.get(t.name) for t in request.v3_and_below_topics}
    wanted = [(t.name, p) for t in request.v3_and_below_topics for p in t.partitions]
    unknown = {
        (name, p) for name, p in wanted if is_internal_topic(name) or not _has(topics[name], p)
    }
    if unknown:
        codes: dict[tuple[str, int], int] = {
            tp: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            if tp in unknown
            else ErrorCode.OPERATION_NOT_ATTEMPTED
            for tp in wanted
        }
    else:
        try:
            code = await ctx.broker.transactions.add_partitions(
                request.v3_and_below_transactional_id,
                request.v3_and_below_producer_id,
                request.v3_and_below_producer_epoch,
                wanted,
            )
        except LuongError as error:
            code = error.error_code
        codes = dict.fromkeys(wanted, fenced_code(code, ctx.version, 2))
    by_topic: dict[str, list[dict[str, int]]] = {}
    for (name, p), code in codes.items():
        by_topic.setdefault(name, []).append({"partition_index": p, "partition_error_code": code})
    return {
        "throttle_time": 0,
        "results_by_topic_v3_and_below": [
            {"name": name, "results_by_partition": results} for name, results in by_topic.items()
        ],
    }


def _has(info: TopicInfo | None, partition: int) -> bool:
    return info is not None and 0 <= partition < info.partitions


HANDLER = ApiHandler(24, "AddPartitionsToTxn", 0, 3, handle)
