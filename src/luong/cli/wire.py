"""WireClient: a raw Kafka-protocol socket client (blocking, no retries).

For the CLI commands that confluent-kafka's AdminClient does not cover
(transactions) and for tests that speak raw frames:

    with WireClient("127.0.0.1", port) as wire:
        response = wire.call(18, 3, {"client_software_name": "t",
                                     "client_software_version": "1"})

`call` encodes a request with kio at the given version, `request_frame` builds
the bytes without sending, `send_raw` sends anything at all (garbage included).
"""

from __future__ import annotations

import io
import socket
import struct
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from kio.index import load_request_schema, load_response_schema
from kio.serial import entity_reader, entity_writer

from luong.protocol.entities import build

__all__ = ["WireClient", "request_frame"]


def request_frame(
    api_key: int,
    version: int,
    body: Mapping[str, Any],
    correlation_id: int = 1,
    client_id: str = "wire",
) -> bytes:
    """A whole request frame (size prefix included) for a plain-dict body."""
    cls = load_request_schema(api_key, version)
    flexible = cls.__header_schema__.__module__.endswith("v2.header")
    client = client_id.encode()
    header = struct.pack(">hhih", api_key, version, correlation_id, len(client)) + client
    out = io.BytesIO()
    entity_writer(cls)(out, build(cls, body))
    payload = header + (b"\x00" if flexible else b"") + out.getvalue()
    return struct.pack(">i", len(payload)) + payload


class WireClient:
    """One blocking TCP connection speaking raw frames."""

    def __init__(self, host: str, port: int, timeout_s: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout_s)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv_frame(self) -> bytes:
        """One response frame's payload (after the size); EOFError if the server closed."""
        (size,) = struct.unpack(">i", self._recv_exactly(4))
        return self._recv_exactly(size)

    def _recv_exactly(self, count: int) -> bytes:
        data = bytearray()
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise EOFError("connection closed by the server")
            data += chunk
        return bytes(data)

    def closed_by_server(self) -> bool:
        """True when the server has closed this connection (reads EOF)."""
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True

    def call(
        self, api_key: int, version: int, body: Mapping[str, Any], correlation_id: int = 1
    ) -> Any:
        """Send a request, return the decoded response entity."""
        self.send_raw(request_frame(api_key, version, body, correlation_id))
        return self.receive(api_key, version, correlation_id)

    def receive(self, api_key: int, version: int, correlation_id: int = 1) -> Any:
        """Read the next response frame and decode it as that API's response."""
        payload = self.recv_frame()
        cls = load_response_schema(api_key, version)
        (got,) = struct.unpack_from(">i", payload)
        assert got == correlation_id, f"correlation id {got}, expected {correlation_id}"
        offset = 5 if cls.__header_schema__.__module__.endswith("v1.header") else 4
        entity, _ = entity_reader(cls)(payload, offset)
        return entity

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> WireClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
