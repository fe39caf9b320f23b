"""DescribeTransactions (key 65), version 0: state, producer id and epoch, timeout,
start time and partitions of transactional ids; TRANSACTIONAL_ID_NOT_FOUND for ids
the coordinator does not know."""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult
from luong.coordinator.transactions import TxnMetadata
from luong.errors import ErrorCode

__all__ = ["HANDLER", "handle"]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    states = [
        _state(transactional_id, txn)
        for transactional_id, txn in ctx.broker.transactions.describe(request.transactional_ids)
    ]
    return {"throttle_time": 0, "transaction_states": states}


def _state(transactional_id: str, txn: TxnMetadata | None) -> dict[str, Any]:
    if txn is None:
        return {
            "error_code": ErrorCode.TRANSACTIONAL_ID_NOT_FOUND,
            "transactional_id": transactional_id,
            "transaction_state": "",
            "transaction_timeout": 0,
            "transaction_start_time": -1,
            "producer_id": -1,
            "producer_epoch": -1,
            "topics": [],
        }
    by_topic: dict[str, list[int]] = {}
    for topic, partition in sorted(txn.partitions):
        by_topic.setdefault(topic, []).append(partition)
    return {
        "error_code": 0,
        "transactional_id": transactional_id,
        "transaction_state": txn.state.display,
        "transaction_timeout": txn.timeout_ms,
        "transaction_start_time": txn.start_ms,
        "producer_id": txn.producer_id,
        "producer_epoch": txn.epoch,
        "topics": [{"topic": t, "partitions": ps} for t, ps in by_topic.items()],
    }


HANDLER = ApiHandler(65, "DescribeTransactions", 0, 0, handle)
