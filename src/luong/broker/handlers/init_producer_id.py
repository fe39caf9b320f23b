"""InitProducerId (key 22), versions 0-4: hand out producer ids.

Idempotent producers (kafka-python's default) need an id to send at all. Ids come
from the broker's allocator; sequence checking and transactions come with the
exactly-once issue, so an epoch bump is not tracked yet.
"""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    producer_id = ctx.broker.allocate_producer_id()
    return {"throttle_time": 0, "error_code": 0, "producer_id": producer_id, "producer_epoch": 0}


HANDLER = ApiHandler(22, "InitProducerId", 0, 4, handle)
