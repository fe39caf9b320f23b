"""Request frames and headers, parsed by hand (no I/O).

A frame is `size int32` followed by `size` bytes. A request starts with

    api_key int16, api_version int16, correlation_id int32,
    client_id nullable string (int16 length, even in flexible versions)

and, for flexible API versions (request header v2), a tagged-field section.
The body follows. A response is `size int32`, `correlation_id int32`, a tagged
field section (one 0 byte) for flexible responses except ApiVersions, then the body.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from luong.errors import InvalidRequestError
from luong.protocol.primitives import read_uvarint

__all__ = ["FRAME_PREFIX", "RequestHeader", "parse_request_header", "skip_tagged_fields"]

FRAME_PREFIX = struct.Struct(">i")
_FIXED = struct.Struct(">hhih")


@dataclass(frozen=True, slots=True)
class RequestHeader:
    """A request header; `body_offset` is where the fixed part and client id end."""

    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None
    body_offset: int


def parse_request_header(frame: bytes | memoryview) -> RequestHeader:
    """The fixed header fields and client id; the tagged fields (if any) are not read."""
    if len(frame) < _FIXED.size:
        raise InvalidRequestError(f"request of {len(frame)} bytes is shorter than a header")
    api_key, api_version, correlation_id, length = _FIXED.unpack_from(frame, 0)
    end = _FIXED.size + max(length, 0)
    if end > len(frame):
        raise InvalidRequestError("request header truncated inside the client id")
    client_id = None if length < 0 else bytes(frame[_FIXED.size : end]).decode("utf-8", "replace")
    return RequestHeader(api_key, api_version, correlation_id, client_id, end)


def skip_tagged_fields(frame: bytes | memoryview, position: int) -> int:
    """Position after a tagged-field section starting at `position`."""
    try:
        count, position = read_uvarint(frame, position)
        for _ in range(count):
            _, position = read_uvarint(frame, position)
            size, position = read_uvarint(frame, position)
            position += size
    except ValueError as error:
        raise InvalidRequestError(f"malformed tagged fields: {error}") from None
    if position > len(frame):
        raise InvalidRequestError("tagged fields run past the end of the request")
    return position
