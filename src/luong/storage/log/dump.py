"""Read a segment file offline, batch by batch (for `luong dump-log`)."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator

from luong.errors import CorruptRecordError, LuongError
from luong.protocol.records import BATCH_HEADER_SIZE, LOG_OVERHEAD, check_batch

__all__ = ["iter_segment_batches"]

_PREFIX = struct.Struct(">qi")


def iter_segment_batches(path: str) -> Iterator[tuple[int, bytes]]:
    """(position, batch) for every valid batch; CorruptRecordError at the first bad one."""
    fd = os.open(path, os.O_RDONLY)
    try:
        end = os.fstat(fd).st_size
        position = 0
        while position < end:
            batch = _read_batch(fd, position)
            yield position, batch
            position += len(batch)
    finally:
        os.close(fd)


def _read_batch(fd: int, position: int) -> bytes:
    """The whole, validated batch at `position`."""
    head = os.pread(fd, LOG_OVERHEAD, position)
    size = _PREFIX.unpack_from(head)[1] + LOG_OVERHEAD if len(head) == LOG_OVERHEAD else 0
    data = os.pread(fd, max(size, BATCH_HEADER_SIZE), position)
    try:
        check_batch(memoryview(data))  # refuses a size below the header's too
    except LuongError as error:
        raise CorruptRecordError(f"at byte {position}: {error}") from None
    return data[:size]
