"""The field encodings the internal topics' records share (Kafka's non-flexible ones).

string            int16 length (-1: null) + UTF-8 bytes
"""

from __future__ import annotations

import struct

from luong.errors import CorruptRecordError

__all__ = ["INT16", "read_string", "string"]

INT16 = struct.Struct(">h")


def string(text: str | None) -> bytes:
    if text is None:
        return INT16.pack(-1)
    data = text.encode()
    return INT16.pack(len(data)) + data


def read_string(buf: bytes, position: int) -> tuple[str, int]:
    """A non-null string at `position` and the position after it."""
    (length,) = INT16.unpack_from(buf, position)
    end = position + 2 + length
    if length < 0 or end > len(buf):
        raise CorruptRecordError("record string out of bounds")
    return buf[position + 2 : end].decode(), end
