"""InitProducerId (key 22), versions 0-4: producer ids and epochs.

Without a transactional id (an idempotent producer) every call gets a new id from
the persisted blocks, epoch 0: ids are never handed out twice, across restarts
too. With one, the transaction coordinator bumps the id's epoch (fencing older
instances and aborting their open transaction) or starts the id; v3+ callers that
name their current (producer id, epoch) are refused with PRODUCER_FENCED if it is
not the current one (KIP-360); versions before 4 get INVALID_PRODUCER_EPOCH instead,
the code they know (KIP-588).
"""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult, fenced_code
from luong.errors import ErrorCode, LuongError

__all__ = ["HANDLER", "handle"]


async def _handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    transactional_id = request.transactional_id
    transactions = ctx.broker.transactions
    try:
        if transactional_id is None:
            return _answer(0, await transactions.new_producer_id(), 0)
        if not transactional_id:
            return _answer(ErrorCode.INVALID_REQUEST, -1, -1)
        expected = None
        if ctx.version >= 3 and request.producer_id != -1:
            expected = (request.producer_id, request.producer_epoch)
        timeout_ms = int(request.transaction_timeout.total_seconds() * 1000)
        return _answer(*await transactions.init_producer_id(transactional_id, timeout_ms, expected))
    except LuongError as error:
        ctx.broker.log_client_error(ctx, error)
        return _answer(error.error_code, -1, -1)


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    answer = await _handle(ctx, request)
    return {**answer, "error_code": fenced_code(answer["error_code"], ctx.version, 4)}


def _answer(error_code: int, producer_id: int, epoch: int) -> dict[str, Any]:
    return {
        "throttle_time": 0,
        "error_code": error_code,
        "producer_id": producer_id,
        "producer_epoch": epoch,
    }


HANDLER = ApiHandler(22, "InitProducerId", 0, 4, handle)
