"""Wire primitives for the hand-rolled encoders (big-endian, Kafka's layouts)."""

from __future__ import annotations

import struct

__all__ = [
    "INT8",
    "INT16",
    "INT32",
    "INT64",
    "compact_length",
    "legacy_string",
    "length_prefix",
    "compact_string",
    "read_uvarint",
    "string",
    "uvarint",
]

INT8 = struct.Struct(">b")
INT16 = struct.Struct(">h")
INT32 = struct.Struct(">i")
INT64 = struct.Struct(">q")


def uvarint(value: int) -> bytes:
    """Unsigned varint (flexible versions' lengths and tag counts)."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def read_uvarint(buf: bytes | memoryview, position: int) -> tuple[int, int]:
    """(value, next position); ValueError when the buffer ends inside it."""
    result = shift = 0
    while True:
        if position >= len(buf) or shift > 28:
            raise ValueError("truncated or overlong unsigned varint")
        byte = buf[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7


def compact_length(length: int | None) -> bytes:
    """Compact array/bytes/string length: uvarint(length + 1), 0 for null."""
    return uvarint(0 if length is None else length + 1)


def compact_string(text: str | None) -> bytes:
    if text is None:
        return b"\x00"
    data = text.encode()
    return compact_length(len(data)) + data


def length_prefix(length: int | None, flexible: bool) -> bytes:
    """An array/bytes length: compact in flexible versions, else int32 (-1 for null)."""
    if flexible:
        return compact_length(length)
    return INT32.pack(-1 if length is None else length)


def string(text: str | None, flexible: bool) -> bytes:
    """A nullable string: compact in flexible versions, else int16-length."""
    return compact_string(text) if flexible else legacy_string(text)


def legacy_string(text: str | None) -> bytes:
    if text is None:
        return INT16.pack(-1)
    data = text.encode()
    return INT16.pack(len(data)) + data
