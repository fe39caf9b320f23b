"""KafkaConnection: one client's TCP connection.

Frames (`size int32` + body) are cut from the byte stream and handled in order;
responses go out in the same order. Produce requests are pipelined: up to
MAX_PIPELINED_PRODUCES of them, holding up to MAX_PIPELINED_BYTES of frames, are
handled at once, each started (its batches appended, in request order) before the
next, each answered when durable; so a producer's next batches are appended while
earlier ones wait for their fsync, and one group-commit fsync covers several of
its requests. Every other request waits until all earlier ones are answered and
is itself answered before the next one starts, as Kafka handles a connection's
requests one at a time. Stored records are never copied in Python: they go from
their segment files to the socket with `os.sendfile` while the transport has
nothing buffered, otherwise to the transport as memory-mapped views (uvloop has no
native sendfile). Memory stays bounded: reading pauses while requests wait
unhandled or while the client does not read its responses, and a frame larger
than `socket.request.max.bytes` closes the connection.
"""

from __future__ import annotations

import asyncio
import logging
import mmap
import os
import struct
from collections import deque
from collections.abc import Sequence

from luong.broker import Broker, ProtocolViolation
from luong.protocol.fetch_response import Chunk
from luong.protocol.framing import FRAME_PREFIX
from luong.storage import FileRegion, MemoryRegion

__all__ = ["KafkaConnection"]

log = logging.getLogger("luong.server")
MAX_QUEUED_REQUESTS = 64
MAX_PIPELINED_PRODUCES = 256
MAX_PIPELINED_BYTES = 32 << 20
PRODUCE_KEY = 0
_API_KEY = struct.Struct(">h")
PAGE = mmap.ALLOCATIONGRANULARITY


class KafkaConnection(asyncio.Protocol):
    """Frames in, responses out, in order. Owned by the event loop."""

    def __init__(self, broker: Broker, max_request_bytes: int) -> None:
        self._broker = broker
        self._max_request_bytes = max_request_bytes
        self._buffer = bytearray()
        self._requests: asyncio.Queue[bytes] = asyncio.Queue()
        self._writable = asyncio.Event()
        self._writable.set()
        self._transport: asyncio.Transport | None = None
        self._socket_fd = -1  # for os.sendfile; -1 where the transport has no socket
        self._worker: asyncio.Task[None] | None = None
        self._responder: asyncio.Task[None] | None = None
        # requests being handled, in arrival order; the responder answers them in order
        self._in_flight: deque[asyncio.Task[Sequence[bytes | Chunk] | None]] = deque()
        self._in_flight_bytes = 0  # the sizes of their frames
        self._answered = asyncio.Event()  # an answer went out (or a request needed none)
        self._idle = asyncio.Event()  # set while no request is being handled
        self._idle.set()
        self.peer = "?"
        self.client_host = ""
        self.closed = asyncio.Event()

    # -- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        peer = transport.get_extra_info("peername")
        socket = transport.get_extra_info("socket")
        self._socket_fd = socket.fileno() if socket is not None else -1
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        self.client_host = f"/{peer[0]}" if peer else ""  # as Kafka shows it
        loop = asyncio.get_running_loop()
        self._worker = loop.create_task(self._serve())
        self._responder = loop.create_task(self._respond())

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= FRAME_PREFIX.size:
            (size,) = FRAME_PREFIX.unpack_from(self._buffer)
            if not 0 < size <= self._max_request_bytes:
                self.abort(
                    f"request frame of {size} bytes (socket.request.max.bytes is "
                    f"{self._max_request_bytes})"
                )
                return
            if len(self._buffer) < FRAME_PREFIX.size + size:
                break
            frame = bytes(self._buffer[FRAME_PREFIX.size : FRAME_PREFIX.size + size])
            del self._buffer[: FRAME_PREFIX.size + size]
            self._requests.put_nowait(frame)
        if self._requests.qsize() >= MAX_QUEUED_REQUESTS and self._transport is not None:
            self._transport.pause_reading()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        for task in (self._worker, self._responder):
            if task is not None:
                task.cancel()
        self._writable.set()
        self.closed.set()

    # -- serving ---------------------------------------------------------------------

    async def _serve(self) -> None:
        """Start requests in arrival order (see the module docstring for which overlap)."""
        loop = asyncio.get_running_loop()
        while True:
            frame = await self._requests.get()
            self._idle.clear()
            if self._requests.qsize() < MAX_QUEUED_REQUESTS // 2 and self._transport:
                self._transport.resume_reading()
            pipelined = len(frame) >= 2 and _API_KEY.unpack_from(frame)[0] == PRODUCE_KEY
            while self._in_flight and not (pipelined and self._room_for(len(frame))):
                await self._wait_answered()
            self._in_flight.append(loop.create_task(self._handle(frame)))
            self._in_flight_bytes += len(frame)
            self._answered.set()  # wakes the responder
            if not pipelined:
                while self._in_flight:
                    await self._wait_answered()
            if not self._in_flight and self._requests.empty():
                self._idle.set()

    def _room_for(self, size: int) -> bool:
        """Whether another Produce may join those in flight (all of which are Produce)."""
        return (
            len(self._in_flight) < MAX_PIPELINED_PRODUCES
            and self._in_flight_bytes + size <= MAX_PIPELINED_BYTES
        )

    async def _handle(self, frame: bytes) -> Sequence[bytes | Chunk] | None:
        try:
            return await self._broker.handle(frame, self.client_host)
        finally:
            self._in_flight_bytes -= len(frame)

    async def _wait_answered(self) -> None:
        self._answered.clear()
        await self._answered.wait()

    async def _respond(self) -> None:
        """Answer the requests in flight, in order, each once its handler is done."""
        while True:
            if not self._in_flight:
                await self._wait_answered()
                continue
            task = self._in_flight[0]
            try:
                response = await asyncio.shield(task)
                if response is not None:
                    await self._send(response)
            except ProtocolViolation as error:
                self.abort(str(error))
                return
            except (BrokenPipeError, ConnectionResetError) as error:
                # the client went away while its answer was being sent: a normal close
                log.debug("client %s: gone while being answered (%s)", self.peer, error)
                self.abort(None)
                return
            except Exception:
                log.exception("client %s: request failed; closing the connection", self.peer)
                self.abort(None)
                return
            self._in_flight.popleft()
            if not self._in_flight and self._requests.empty():
                self._idle.set()
            self._answered.set()

    async def _send(self, pieces: Sequence[bytes | Chunk]) -> None:
        await self._writable.wait()
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if self._socket_fd < 0 or not any(isinstance(p, FileRegion) for p in pieces):
            transport.writelines([_as_buffer(piece) for piece in pieces])
            return
        for piece in pieces:
            if isinstance(piece, FileRegion) and transport.get_write_buffer_size() == 0:
                sent = _sendfile_now(self._socket_fd, piece)
                if sent < piece.length:
                    rest = FileRegion(piece.fd, piece.position + sent, piece.length - sent)
                    transport.write(_map_region(rest))
            else:
                transport.write(_as_buffer(piece))

    def abort(self, reason: str | None) -> None:
        """Close this connection (after logging why); other clients are unaffected."""
        if reason:
            log.warning("client %s: %s; closing the connection", self.peer, reason)
        if self._transport is not None:
            self._transport.close()

    async def finish(self) -> None:
        """Stop reading, let the requests in hand complete and their answers go, then close."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.pause_reading()
        while not self._requests.empty():
            self._requests.get_nowait()
        while self._in_flight:
            await self._wait_answered()
        for task in (self._worker, self._responder):
            if task is not None:
                task.cancel()
        if self._transport is not None:
            self._transport.close()


def _as_buffer(piece: bytes | Chunk) -> bytes | memoryview:
    if isinstance(piece, bytes):
        return piece
    if isinstance(piece, FileRegion):
        return _map_region(piece)
    if isinstance(piece, MemoryRegion):
        return piece.data
    raise TypeError(f"cannot send {type(piece).__name__}")


def _sendfile_now(socket_fd: int, region: FileRegion) -> int:
    """Send as much of `region` as the socket takes now, kernel to kernel; bytes sent.

    Called only when the transport has nothing buffered, so these bytes follow
    everything written before them. The socket is non-blocking: a full send buffer
    ends the loop (the caller hands the rest to the transport).
    """
    sent = 0
    while sent < region.length:
        try:
            count = os.sendfile(socket_fd, region.fd, region.position + sent, region.length - sent)
        except BlockingIOError:
            break
        if count == 0:
            break  # the file is shorter than the region: let the mmap path raise
        sent += count
    return sent


def _map_region(region: FileRegion) -> memoryview:
    """A read-only view of the region's file bytes through mmap (no copy in Python)."""
    start = region.position - region.position % PAGE
    skip = region.position - start
    mapped = mmap.mmap(region.fd, skip + region.length, offset=start, access=mmap.ACCESS_READ)
    return memoryview(mapped)[skip : skip + region.length]
