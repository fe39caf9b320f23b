"""Server-Sent Events: the response, the event lines, and a record's JSON payload.

Shared by every stream that speaks SSE or reuses its payloads (events.py,
group_streams.py, websocket.py, webhooks). A record is sent as

    id: <the stream's position>
    event: record
    data: {"topic", "partition", "offset", "timestamp", "key", "value", "headers"}

with key and value as JSON when they parse (format=json), as text, or as base64
(format=binary); a record's payload is encoded once per format and kept on the
shared record, so a thousand streams of one partition encode it once.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from luong.gateway.errors import RestError
from luong.gateway.filters import FilterError, compile_filters
from luong.gateway.streams import StreamRecord

__all__ = [
    "FORMATS",
    "KEEPALIVE_S",
    "Send",
    "query_int",
    "record_payload",
    "sse_response",
    "stream_options",
]

KEEPALIVE_S = 15.0
FORMATS = ("json", "text", "binary")
Send = Callable[[str, str | None, str], Awaitable[None]]


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
    return fmt, accept, query_int(query, "max_events", 0), query_int(query, "timeout_ms", 0)


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


def query_int(query: Any, name: str, default: int) -> int:
    """A non-negative integer query parameter (422 if it is something else)."""
    text = query.get(name)
    if text is None:
        return default
    if not text.isdigit():
        raise RestError(422, 422, f"{name} must be a non-negative integer, got {text!r}")
    return int(text)


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
