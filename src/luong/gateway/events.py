"""`GET /topics/{topic}/events`: a topic's records as Server-Sent Events.

Query parameters (all optional):

- `partition=N`: one partition (default: all of the topic's);
- where to start: `from=latest` (default) or `from=earliest`, `offset=N` (with
  `partition`), `timestamp=MS` (the first record at or after it), or the
  `Last-Event-ID` header / `last_event_id` parameter of an earlier event, which
  resumes right after it;
- `format=json` (default: a value or key that parses as JSON is sent as that
  JSON, anything else as text), `text` or `binary` (base64);
- `filter=EXPR` (repeatable, all must match): only records whose headers, key or
  JSON value fields match (filters.py: `header.type=order`, `value.qty>=2`,
  `value.city^=Ha`, `header.trace`); the broker does the filtering;
- `max_events=N` and `timeout_ms=N` end the stream after N events or N ms;
- `group=NAME`: read as a member of that consumer group instead (group_streams.py).

Each record is one event:

    id: 0:13,1:40           the next offset of every partition of the stream
    event: record
    data: {"topic", "partition", "offset", "timestamp", "key", "value", "headers"}

A comment line is sent every 15 s of silence; a stream that ends for a reason
other than its limits (a subscriber too slow to keep up, the topic deleted, the
broker stopping) ends with `event: error` and `data: {"reason": "..."}`. Only
committed records are sent (aborted transactions are skipped). Records come from
the partition's shared tail (streams.py): a subscriber reading from the end costs
no log read of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from luong.gateway.cluster import TopicDescription
from luong.gateway.errors import RestError
from luong.gateway.group_streams import group_stream
from luong.gateway.sse import (
    KEEPALIVE_S,
    Send,
    query_int,
    record_payload,
    sse_response,
    stream_options,
)
from luong.gateway.streams import Closed, StreamHub, StreamRecord, Subscriber
from luong.gateway.topics import CLUSTER, topic_info
from luong.types import EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, TopicPartition

__all__ = ["STREAMS", "StreamSpec", "event_routes", "run_stream", "stream_spec"]

event_routes = web.RouteTableDef()
STREAMS = web.AppKey("streams", StreamHub)
MAX_QUEUED = 10_000


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """What a live stream sends: from where, how, which records, for how long."""

    starts: dict[TopicPartition, int]
    fmt: str
    accept: Callable[[StreamRecord], bool]
    max_events: int
    timeout_ms: int


async def stream_spec(request: web.Request) -> StreamSpec:
    """The stream a request asks for (query and Last-Event-ID; see the module docstring)."""
    info = topic_info(request)
    starts = await _starts(request, info, _partitions(request.query, info))
    return StreamSpec(starts, *stream_options(request))


@event_routes.get("/topics/{topic}/events")
async def _events(request: web.Request) -> web.StreamResponse:
    if "group" in request.query:
        return await group_stream(request)
    spec = await stream_spec(request)
    response, send = await sse_response(request)
    await run_stream(request.app[STREAMS], spec, send)
    return response


def _partitions(query: Any, info: TopicDescription) -> list[int]:
    if "partition" not in query:
        return list(range(info.partitions))
    partition = query_int(query, "partition", 0)
    if partition >= info.partitions:
        raise RestError(404, 40402, f"topic {info.name} has no partition {partition}")
    return [partition]


async def _starts(
    request: web.Request, info: TopicDescription, partitions: list[int]
) -> dict[TopicPartition, int]:
    """The first offset to send, per partition (see the module docstring)."""
    query, cluster = request.query, request.app[CLUSTER]
    resume = request.headers.get("Last-Event-ID") or query.get("last_event_id")
    if resume:
        return _parse_event_id(resume, info, partitions)
    if "offset" in query:
        if "partition" not in query:
            raise RestError(422, 422, "offset needs a partition")
        return {TopicPartition(info.name, partitions[0]): query_int(query, "offset", 0)}
    where = query.get("from", "latest")
    if "timestamp" in query:
        when = query_int(query, "timestamp", 0)
    elif where in ("latest", "earliest"):
        when = LATEST_TIMESTAMP if where == "latest" else EARLIEST_TIMESTAMP
    else:
        raise RestError(422, 422, f"from must be latest or earliest, got {where!r}")
    starts = {}
    for p in partitions:
        tp = TopicPartition(info.name, p)
        found = await cluster.list_offset(tp, when)
        if found < 0:  # no record at or after the timestamp: the end
            found = await cluster.list_offset(tp, LATEST_TIMESTAMP)
        starts[tp] = found
    return starts


def _parse_event_id(
    text: str, info: TopicDescription, partitions: list[int]
) -> dict[TopicPartition, int]:
    """`0:13,1:40` -> the next offset per partition (422 if it does not fit the stream)."""
    try:
        pairs = [item.split(":") for item in text.split(",")]
        positions = {int(p): int(o) for p, o in pairs}
    except ValueError:
        raise RestError(422, 422, f"Last-Event-ID {text!r} is not partition:offset,...") from None
    if sorted(positions) != partitions or min(positions.values()) < 0:
        raise RestError(
            422, 422, f"Last-Event-ID {text!r} does not name this stream's partitions {partitions}"
        )
    return {TopicPartition(info.name, p): o for p, o in positions.items()}


async def run_stream(hub: StreamHub, spec: StreamSpec, send: Send) -> None:
    """Feed `spec`'s records to `send("record", id, data)` until its limits, the
    client leaving, or the subscriber's end (`send("error", None, data)` with a
    reason); `send("keep-alive", None, "")` after KEEPALIVE_S of silence. `data` is
    JSON text: a record's is encoded once per format and shared by every stream."""
    subscriber = Subscriber(MAX_QUEUED, spec.accept)
    positions = {tp.partition: offset for tp, offset in spec.starts.items()}
    loop = asyncio.get_running_loop()
    feeders = [loop.create_task(hub.subscribe(tp, o, subscriber)) for tp, o in spec.starts.items()]
    deadline = loop.time() + spec.timeout_ms / 1000 if spec.timeout_ms else None
    sent = 0
    try:
        while not spec.max_events or sent < spec.max_events:
            wait_s = KEEPALIVE_S if deadline is None else min(KEEPALIVE_S, deadline - loop.time())
            if wait_s <= 0:
                return
            try:
                item = await asyncio.wait_for(subscriber.queue.get(), wait_s)
            except TimeoutError:
                await send("keep-alive", None, "")
                continue
            if isinstance(item, Closed):
                await send("error", None, json.dumps({"reason": item.reason}))
                return
            positions[item.partition] = item.offset + 1
            event_id = ",".join(f"{p}:{o}" for p, o in sorted(positions.items()))
            await send("record", event_id, record_payload(item, spec.fmt))
            sent += 1
    except ConnectionResetError:
        pass  # the client went away
    finally:
        for feeder in feeders:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeder
        hub.unsubscribe(subscriber)
        subscriber.close("the stream ended")
