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
import base64
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from luong.gateway.errors import RestError
from luong.gateway.filters import FilterError, compile_filters
from luong.gateway.streams import Closed, StreamHub, StreamRecord, Subscriber
from luong.gateway.topics import BROKER, topic_info
from luong.storage import TopicInfo
from luong.types import EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, TopicPartition

__all__ = [
    "STREAMS",
    "Send",
    "StreamSpec",
    "event_routes",
    "record_payload",
    "run_stream",
    "sse_response",
    "stream_options",
    "stream_spec",
]

event_routes = web.RouteTableDef()
STREAMS = web.AppKey("streams", StreamHub)
MAX_QUEUED = 10_000
KEEPALIVE_S = 15.0
FORMATS = ("json", "text", "binary")


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


def stream_options(request: web.Request) -> tuple[str, Callable[[StreamRecord], bool], int, int]:
    """format, filter, max_events and timeout_ms of a stream request (422 if bad)."""
    query = request.query
    fmt = query.get("format", "json")
    if fmt not in FORMATS:
        raise RestError(422, 422, f"format must be json, text or binary, got {fmt!r}")
    try:
        accept = compile_filters(query.getall("filter", []))
    except FilterError as error:
        raise RestError(422, 422, str(error)) from None
    return fmt, accept, _int(query, "max_events", 0), _int(query, "timeout_ms", 0)


@event_routes.get("/topics/{topic}/events")
async def events(request: web.Request) -> web.StreamResponse:
    if "group" in request.query:
        from luong.gateway.group_streams import group_stream  # imports this module

        return await group_stream(request)
    spec = await stream_spec(request)
    response, send = await sse_response(request)
    await run_stream(request.app[STREAMS], spec, send)
    return response


async def sse_response(request: web.Request) -> tuple[web.StreamResponse, Send]:
    """An open `text/event-stream` answer and the function that writes its events."""
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)

    async def send(kind: str, event_id: str | None, data: str) -> None:
        if kind == "keep-alive":
            await response.write(b": keep-alive\n\n")
        else:
            await response.write(_event(kind, event_id, data))

    return response, send


def _int(query: Any, name: str, default: int) -> int:
    text = query.get(name)
    if text is None:
        return default
    if not text.isdigit():
        raise RestError(422, 422, f"{name} must be a non-negative integer, got {text!r}")
    return int(text)


def _partitions(query: Any, info: TopicInfo) -> list[int]:
    if "partition" not in query:
        return list(range(info.partitions))
    partition = _int(query, "partition", 0)
    if partition >= info.partitions:
        raise RestError(404, 40402, f"topic {info.name} has no partition {partition}")
    return [partition]


async def _starts(
    request: web.Request, info: TopicInfo, partitions: list[int]
) -> dict[TopicPartition, int]:
    """The first offset to send, per partition (see the module docstring)."""
    query, storage = request.query, request.app[BROKER].storage
    resume = request.headers.get("Last-Event-ID") or query.get("last_event_id")
    if resume:
        return _parse_event_id(resume, info, partitions)
    if "offset" in query:
        if "partition" not in query:
            raise RestError(422, 422, "offset needs a partition")
        return {TopicPartition(info.name, partitions[0]): _int(query, "offset", 0)}
    where = query.get("from", "latest")
    if "timestamp" in query:
        when = _int(query, "timestamp", 0)
    elif where in ("latest", "earliest"):
        when = LATEST_TIMESTAMP if where == "latest" else EARLIEST_TIMESTAMP
    else:
        raise RestError(422, 422, f"from must be latest or earliest, got {where!r}")
    starts = {}
    for p in partitions:
        tp = TopicPartition(info.name, p)
        found = await storage.list_offset(tp, when, committed=True)
        if found.offset < 0:  # no record at or after the timestamp: the end
            found = await storage.list_offset(tp, LATEST_TIMESTAMP, committed=True)
        starts[tp] = found.offset
    return starts


def _parse_event_id(text: str, info: TopicInfo, partitions: list[int]) -> dict[TopicPartition, int]:
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


Send = Callable[[str, str | None, str], Awaitable[None]]


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


def _event(kind: str, event_id: str | None, data: str) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {data}\n\n".encode()


def record_payload(record: StreamRecord, fmt: str) -> str:
    """The record as JSON text in `fmt`, encoded once (kept on the shared record)."""
    payload = record.encoded.get(fmt)
    if payload is None:
        payload = record.encoded[fmt] = json.dumps(_record_json(record, fmt), separators=(",", ":"))
    return payload


def _record_json(record: StreamRecord, fmt: str) -> dict[str, Any]:
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": record.timestamp,
        "key": _field(record.key, fmt),
        "value": _field(record.value, fmt),
        "headers": {
            name: _field(value, "text" if fmt == "json" else fmt) for name, value in record.headers
        },
    }


def _field(data: bytes | None, fmt: str) -> Any:
    if data is None:
        return None
    if fmt == "binary":
        return base64.b64encode(data).decode()
    text = data.decode("utf-8", errors="replace")
    if fmt == "json":
        with contextlib.suppress(ValueError):
            return json.loads(text)
    return text
