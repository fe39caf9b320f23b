"""`GET /topics/{topic}/ws`: a WebSocket that streams a topic and takes records to produce.

The query chooses the stream exactly as for `/topics/{topic}/events` (events.py:
partition, from, offset, timestamp, last_event_id, filter, format, max_events,
timeout_ms); `subscribe=false` opens a socket for producing only. Text frames,
JSON both ways:

    server -> {"type": "record", "id": "0:13", "record": {...as an SSE event's data}}
    client -> {"type": "produce", "ref": ANY, "format": "json"|"binary",
               "records": [{"key", "value", "partition"}]}
    server -> {"type": "ack", "ref": ANY, "offsets": [...as REST Proxy's]}
    server -> {"type": "error", "ref": ANY, "error_code": N, "message": "..."}

A bad message gets an error frame (REST Proxy codes: 400 not JSON, 422 invalid,
40402 no such partition) and the socket stays open; nothing of it is produced.
When the stream ends the server sends `{"type": "end", "reason": ...}`; at its own
limits (max_events, timeout_ms) the socket stays open for producing, when cut off
(too slow, topic deleted, broker stopping) the server closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import WSMsgType, web

from luong.gateway.access import check_write
from luong.gateway.errors import RestError
from luong.gateway.events import STREAMS, StreamSpec, run_stream, stream_spec
from luong.gateway.topics import CLUSTER, produce_records, records_from_body, topic_info

__all__ = ["websocket_routes"]

websocket_routes = web.RouteTableDef()
MAX_MESSAGE_BYTES = 4 << 20


@websocket_routes.get("/topics/{topic}/ws")
async def _websocket(request: web.Request) -> web.WebSocketResponse:
    info = topic_info(request)
    subscribe = request.query.get("subscribe", "true") != "false"
    spec = await stream_spec(request) if subscribe else None  # 4xx before the upgrade
    socket = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES, heartbeat=30)
    await socket.prepare(request)
    streaming = None
    if spec is not None:
        streaming = asyncio.get_running_loop().create_task(_stream(request, socket, spec))
    try:
        async for message in socket:
            if message.type is not WSMsgType.TEXT:
                await _error(socket, None, RestError(422, 422, "send JSON text frames"))
                continue
            await _handle(request, socket, info.name, message.data)
    finally:
        if streaming is not None:
            streaming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await streaming
    return socket


async def _stream(request: web.Request, socket: web.WebSocketResponse, spec: StreamSpec) -> None:
    """Stream records until the stream ends, then say why and close the socket."""

    async def send(kind: str, event_id: str | None, data: str) -> None:
        if kind == "record" and not socket.closed:
            head = json.dumps({"type": "record", "id": event_id})[:-1]
            await socket.send_str(f'{head}, "record": {data}}}')
        elif kind == "error":
            ended.append(json.loads(data)["reason"])

    ended: list[str] = []
    await run_stream(request.app[STREAMS], spec, send)
    if socket.closed:
        return
    if ended:  # cut off (too slow, topic gone, broker stopping): say why and close
        await socket.send_json({"type": "end", "reason": ended[0]})
        await socket.close()
    else:  # its own limits: the socket stays open for producing until the client closes
        reason = "the stream's max_events or timeout_ms was reached"
        await socket.send_json({"type": "end", "reason": reason})


async def _handle(
    request: web.Request, socket: web.WebSocketResponse, topic: str, text: str
) -> None:
    ref = None
    try:
        try:
            message = json.loads(text)
        except ValueError as error:
            raise RestError(400, 400, f"Malformed JSON: {error}") from None
        if not isinstance(message, dict) or message.get("type") != "produce":
            raise RestError(422, 422, 'messages are {"type": "produce", "records": [...]}')
        ref = message.get("ref")
        check_write(request)
        fmt = message.get("format", "json")
        if fmt not in ("json", "binary"):
            raise RestError(422, 422, f"format must be json or binary, got {fmt!r}")
        records = records_from_body(fmt, {"records": message.get("records")}, None)
        offsets = await produce_records(request.app[CLUSTER], topic, records)
    except RestError as error:
        await _error(socket, ref, error)
        return
    await socket.send_json({"type": "ack", "ref": ref, "offsets": offsets})


async def _error(socket: web.WebSocketResponse, ref: Any, error: RestError) -> None:
    await socket.send_json(
        {"type": "error", "ref": ref, "error_code": error.error_code, "message": error.message}
    )
