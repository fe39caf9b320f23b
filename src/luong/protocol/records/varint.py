"""Zig-zag varints (protobuf style), as Kafka records use them."""

from __future__ import annotations

from luong.errors import CorruptRecordError

__all__ = ["read_varint", "write_varint"]


def write_varint(out: bytearray, value: int) -> None:
    """Append `value` (a signed 64-bit integer) zig-zag encoded."""
    encoded = (value << 1) ^ (value >> 63)
    while encoded > 0x7F:
        out.append((encoded & 0x7F) | 0x80)
        encoded >>= 7
    out.append(encoded)


def read_varint(buf: bytes | memoryview, position: int) -> tuple[int, int]:
    """Read a zig-zag varint at `position`; return (value, next position)."""
    result = 0
    shift = 0
    while True:
        if position >= len(buf):
            raise CorruptRecordError("record truncated inside a varint")
        byte = buf[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (result >> 1) ^ -(result & 1), position
        shift += 7
        if shift > 63:
            raise CorruptRecordError("varint longer than 10 bytes")
