"""EndTxn (key 26), versions 0-3: commit or abort the producer's transaction. The
answer comes once every partition holds its marker (so a read_committed consumer
sees a committed transaction as soon as the producer hears of it); a retried EndTxn
of a completed transaction succeeds again. A fenced producer gets PRODUCER_FENCED
from v2, INVALID_PRODUCER_EPOCH before (KIP-588)."""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult, fenced_code
from luong.errors import LuongError

__all__ = ["HANDLER", "handle"]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    try:
        code = await ctx.broker.transactions.end_transaction(
            request.transactional_id, request.producer_id, request.producer_epoch, request.committed
        )
    except LuongError as error:
        ctx.broker.log_client_error(ctx, error)
        code = error.error_code
    return {"throttle_time": 0, "error_code": fenced_code(code, ctx.version, 2)}


HANDLER = ApiHandler(26, "EndTxn", 0, 3, handle)
