"""ChaosProxy: a Kafka-aware TCP proxy that loses responses, for retry tests.

It forwards every connection to the broker and reads the broker's answers frame by
frame (int32 size prefix). For a request of one of `api_keys` (Produce by default),
with probability `drop_probability` it lets the broker handle the request, then
throws the response away and closes the client's connection: the client cannot
know whether the request was applied, so it retries on a new connection. Start the
broker with `--advertised` set to the proxy's address so that clients use it for
every request, not just the bootstrap.

Runs as a child process; `with ChaosProxy(...) as proxy:`. Requests with acks=0
get no answer and would put the frame matching out of step: use acks=1 or all.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import subprocess
import sys
from collections import deque
from pathlib import Path
from types import TracebackType

from luong.testing.node import free_port, wait_until

__all__ = ["ChaosProxy"]

_SIZE = struct.Struct(">i")
_API_KEY = struct.Struct(">h")


class ChaosProxy:
    """Forward 127.0.0.1:`port` to the broker at `target_port`, losing some responses.

    The proxy runs in a child process (`python -m luong.testing.proxy`), so it shares
    neither an event loop nor the GIL with the test's clients; each lost response
    adds a byte to `drop_file`.
    """

    def __init__(
        self,
        target_port: int,
        drop_file: Path,
        *,
        drop_probability: float = 0.05,
        api_keys: frozenset[int] = frozenset({0}),
        seed: int = 0,
        port: int | None = None,
    ) -> None:
        self.target_port = target_port
        self.port = port or free_port()
        self.drop_file = drop_file
        self.drop_probability = drop_probability
        self.api_keys = api_keys
        self._random = random.Random(seed)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def drops(self) -> int:
        """Responses thrown away so far."""
        return self.drop_file.stat().st_size if self.drop_file.exists() else 0

    def __enter__(self) -> ChaosProxy:
        keys = ",".join(map(str, sorted(self.api_keys)))
        arguments = [str(self.target_port), str(self.port), str(self.drop_probability)]
        arguments += [str(self._random.randrange(2**32)), keys, str(self.drop_file)]
        self.process = subprocess.Popen([sys.executable, "-m", "luong.testing.proxy", *arguments])
        wait_until(self._listening, 10, f"chaos proxy on {self.address}")
        return self

    def _listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
        except OSError:
            return False
        return True

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)


class _Proxy:
    """The proxy itself (in the child process)."""

    def __init__(
        self, target_port: int, probability: float, seed: int, keys: set[int], drop_file: str
    ) -> None:
        self.target_port = target_port
        self.drop_probability = probability
        self.api_keys = keys
        self._random = random.Random(seed)
        self._drop_file = drop_file

    def _dropped(self) -> None:
        with open(self._drop_file, "ab") as file:
            file.write(b"x")

    async def serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        try:
            broker_in, broker_out = await asyncio.open_connection("127.0.0.1", self.target_port)
        except (OSError, asyncio.CancelledError):
            client_out.close()
            return
        keys: deque[int] = deque()  # api keys of requests whose answers are due, in order
        upstream = asyncio.ensure_future(self._requests(client_in, broker_out, keys))
        try:
            await self._responses(broker_in, client_out, keys)
        finally:
            upstream.cancel()
            await asyncio.gather(upstream, return_exceptions=True)
            for writer in (client_out, broker_out):
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()

    async def _requests(
        self, client_in: asyncio.StreamReader, broker_out: asyncio.StreamWriter, keys: deque[int]
    ) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                frame = await _read_frame(client_in)
                keys.append(_API_KEY.unpack_from(frame, 4)[0])
                broker_out.write(frame)
                await broker_out.drain()

    async def _responses(
        self, broker_in: asyncio.StreamReader, client_out: asyncio.StreamWriter, keys: deque[int]
    ) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                frame = await _read_frame(broker_in)
                key = keys.popleft() if keys else -1
                if key in self.api_keys and self._random.random() < self.drop_probability:
                    self._dropped()
                    return  # the broker applied it; the client never hears
                client_out.write(frame)
                await client_out.drain()


async def _main(port: int, proxy: _Proxy) -> None:
    server = await asyncio.start_server(proxy.serve, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    size_bytes = await reader.readexactly(4)
    (size,) = _SIZE.unpack(size_bytes)
    return size_bytes + await reader.readexactly(size)


if __name__ == "__main__":
    target, listen, probability, seed, keys, drop_file = sys.argv[1:]
    api_keys = {int(k) for k in keys.split(",") if k}
    proxy = _Proxy(int(target), float(probability), int(seed), api_keys, drop_file)
    asyncio.run(_main(int(listen), proxy))
