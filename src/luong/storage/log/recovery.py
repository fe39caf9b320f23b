"""Crash recovery of a segment's tail: validate batches, cut what is torn or corrupt.

The bytes before `position` are trusted (they were fsynced and checkpointed); from
there every batch must be whole, carry magic 2, a matching CRC32C and offsets past
the previous batch's. The first batch that fails ends the segment: the file is
truncated there and index entries past it are dropped and rebuilt. The cost is a
sequential read of the scanned bytes in large chunks plus one CRC per batch.
"""

from __future__ import annotations

import os
import struct

from luong.errors import LuongError
from luong.protocol.records import BATCH_HEADER_SIZE, LOG_OVERHEAD, check_batch
from luong.storage.log.segment import LogSegment

__all__ = ["recover_segment"]

CHUNK_BYTES = 8 << 20
# No request can carry a larger batch (socket.request.max.bytes is 100 MiB by default);
# a longer declared length is a torn or garbled header, not a reason to read it all.
MAX_BATCH_BYTES = 256 << 20
_PREFIX = struct.Struct(">qi")
_DELTA_AND_MAX_TIMESTAMP = struct.Struct(">i8xq")  # lastOffsetDelta at 23, maxTimestamp at 35


def recover_segment(
    segment: LogSegment, position: int, index_interval_bytes: int, *, dense: bool = True
) -> int:
    """Scan `segment` from byte `position`; return how many bytes were cut off the end.

    `segment.next_offset`, `max_timestamp` and `offset_of_max_timestamp` must
    describe the trusted prefix when called. With `dense` every batch must start
    right after the previous one (baseOffset lies outside the CRC, so this is what
    catches a damaged one); compacted logs have gaps and pass False.
    """
    file_size = os.fstat(segment.fd).st_size
    segment.index.truncate_to_position(position)
    segment.time_index.truncate_to_offset(segment.next_offset)
    segment.size = position
    segment.bytes_since_index_entry = position - segment.index.last_position()
    needed = 0
    while position < file_size:
        want = min(file_size - position, max(CHUNK_BYTES, needed))
        view = memoryview(os.pread(segment.fd, want, position))
        consumed, needed = _scan_chunk(segment, view, position, index_interval_bytes, dense)
        position += consumed
        if needed < 0 or (consumed == 0 and position + needed > file_size):
            break
    segment.write_indexes()
    if position < file_size:
        segment.truncate_to(position)
    return file_size - position


def _scan_chunk(
    segment: LogSegment, view: memoryview, start: int, index_interval_bytes: int, dense: bool
) -> tuple[int, int]:
    """Account for the valid batches in `view`: (bytes consumed, bytes needed next).

    bytes needed is the size of a batch running past the chunk, 0 if the chunk
    ended on a boundary, -1 if a corrupt batch stops the scan. The loop is the
    cost of recovery: one header unpack and one CRC per batch, nothing more.
    """
    p = 0
    end = len(view)
    while p < end:
        if end - p < BATCH_HEADER_SIZE:
            return p, BATCH_HEADER_SIZE
        base_offset, batch_length = _PREFIX.unpack_from(view, p)
        size = batch_length + LOG_OVERHEAD
        if size > MAX_BATCH_BYTES:
            return p, -1
        if size >= BATCH_HEADER_SIZE and size > end - p:
            return p, size
        try:
            check_batch(view, p)
        except LuongError:
            return p, -1
        delta, max_timestamp = _DELTA_AND_MAX_TIMESTAMP.unpack_from(view, p + 23)
        expected = segment.next_offset
        if delta < 0 or base_offset < expected or (dense and base_offset != expected):
            return p, -1
        segment.note_batch(
            start + p,
            size,
            base_offset,
            base_offset + delta,
            max_timestamp,
            index_interval_bytes,
            defer=True,
        )
        p += size
    return p, 0
