"""AddOffsetsToTxn (key 25), versions 0-3: the group's offsets partition (luong's one
`__consumer_offsets` partition) joins the producer's transaction, so that a
TxnOffsetCommit can follow. A fenced producer gets PRODUCER_FENCED from v2,
INVALID_PRODUCER_EPOCH before (KIP-588)."""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult, fenced_code
from luong.broker.offsets import OFFSETS_TP
from luong.errors import LuongError

__all__ = ["HANDLER", "handle"]


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    try:
        code = await ctx.broker.transactions.add_partitions(
            request.transactional_id,
            request.producer_id,
            request.producer_epoch,
            [(OFFSETS_TP.topic, OFFSETS_TP.partition)],
        )
    except LuongError as error:
        code = error.error_code
    return {"throttle_time": 0, "error_code": fenced_code(code, ctx.version, 2)}


HANDLER = ApiHandler(25, "AddOffsetsToTxn", 0, 3, handle)
