"""ListTransactions (key 66), versions 0-1: transactional ids with their producer id
and state, filtered by state names (unknown ones echoed back), producer ids and,
from v1, the least time a transaction has been open (ms)."""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult
from luong.coordinator.transactions import TxnState

__all__ = ["HANDLER", "handle"]

STATE_NAMES = {state.display for state in TxnState}


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    states = set(request.state_filters)
    producers = set(request.producer_id_filters)
    min_open_ms = getattr(request, "duration_filter", -1)
    now = ctx.broker.clock.time_ms()
    listed = []
    for txn in ctx.broker.transactions.coordinator.txns.values():
        if states and txn.state.display not in states:
            continue
        if producers and txn.producer_id not in producers:
            continue
        if min_open_ms >= 0 and (
            txn.state is not TxnState.ONGOING or now - txn.start_ms < min_open_ms
        ):
            continue
        listed.append(
            {
                "transactional_id": txn.transactional_id,
                "producer_id": txn.producer_id,
                "transaction_state": txn.state.display,
            }
        )
    return {
        "throttle_time": 0,
        "error_code": 0,
        "unknown_state_filters": sorted(states - STATE_NAMES),
        "transaction_states": listed,
    }


HANDLER = ApiHandler(66, "ListTransactions", 0, 1, handle)
