"""`GET /topics/{topic}/events?group=NAME`: a live stream as a member of a consumer group.

The stream joins NAME as an ordinary Kafka consumer (aiokafka, on this broker's
own listener): the topic's partitions are shared with the group's other members,
Kafka clients or streams; it starts at the group's committed offsets (`from`
for partitions without one: latest by default) and commits each event's next
offset once the event is written to the stream, so a stream that closes and
reconnects, or another member, carries on after the last event sent (at least
once). The event id is `partition:next offset`; format, filter, max_events and
timeout_ms work as for the other streams, records the filter drops are committed
too. The group's join takes `group.initial.rebalance.delay.ms` at first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata, TopicPartition

from luong.gateway.errors import RestError
from luong.gateway.sse import (
    KEEPALIVE_S,
    Send,
    record_payload,
    sse_response,
    stream_options,
)
from luong.gateway.streams import StreamRecord
from luong.gateway.topics import CLUSTER, topic_info

__all__ = ["group_stream"]

START_TIMEOUT_S = 5.0


async def group_stream(request: web.Request) -> web.StreamResponse:
    info = topic_info(request)
    fmt, accept, max_events, timeout_ms = stream_options(request)
    consumer = await _join(request)
    consumer.subscribe([info.name])
    response, send = await sse_response(request)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_ms / 1000 if timeout_ms else None
    sent = 0
    try:
        while not max_events or sent < max_events:
            wait_s = KEEPALIVE_S if deadline is None else min(KEEPALIVE_S, deadline - loop.time())
            if wait_s <= 0:
                break
            batch = await consumer.getmany(timeout_ms=int(wait_s * 1000))
            if not batch:
                await send("keep-alive", None, "")
                continue
            left = max_events - sent if max_events else None
            sent += await _send_batch(consumer, batch, send, fmt, accept, left)
    except ConnectionResetError:
        pass  # the client went away
    except KafkaError as error:
        with contextlib.suppress(ConnectionResetError):
            await send("error", None, json.dumps({"reason": f"the group failed: {error}"}))
    finally:
        await _stop(consumer)
    return response


async def _join(request: web.Request) -> AIOKafkaConsumer:
    """A started consumer of the request's group (422 bad query, 409 cannot join)."""
    group = request.query["group"]
    if not group:
        raise RestError(422, 422, "group must name a consumer group")
    reset = request.query.get("from", "latest")
    if reset not in ("latest", "earliest"):
        raise RestError(422, 422, f"from must be latest or earliest, got {reset!r}")
    consumer = AIOKafkaConsumer(
        bootstrap_servers=request.app[CLUSTER].bootstrap,
        group_id=group,
        client_id="luong-sse",
        enable_auto_commit=False,
        auto_offset_reset=reset,
    )
    try:
        await asyncio.wait_for(consumer.start(), START_TIMEOUT_S)
    except (TimeoutError, KafkaError) as error:
        await _stop(consumer)
        raise RestError(409, 40903, f"Illegal state: cannot join group {group} ({error})") from None
    return consumer


async def _send_batch(
    consumer: AIOKafkaConsumer,
    batch: dict[TopicPartition, list[Any]],
    send: Send,
    fmt: str,
    accept: Callable[[StreamRecord], bool],
    left: int | None,
) -> int:
    """Send what the filter accepts (at most `left` events), then commit every record
    handled; the number of events sent."""
    sent = 0
    done: dict[TopicPartition, OffsetAndMetadata] = {}
    for tp, records in batch.items():
        for r in records:
            if left is not None and sent >= left:
                break
            record = StreamRecord(
                r.topic, r.partition, r.offset, r.timestamp, r.key, r.value, tuple(r.headers)
            )
            if accept(record):
                await send("record", f"{r.partition}:{r.offset + 1}", record_payload(record, fmt))
                sent += 1
            done[tp] = OffsetAndMetadata(r.offset + 1, "")
    if done:
        await consumer.commit(done)
    return sent


async def _stop(consumer: AIOKafkaConsumer) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(consumer.stop(), START_TIMEOUT_S)
