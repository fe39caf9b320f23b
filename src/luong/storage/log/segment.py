"""LogSegment: one `.log` file of stored batches with its offset and time indexes.

Files, in the partition directory, named by the segment's base offset in 20 digits:
`00000000000000000000.log` holds v2 record batches back to back exactly as they
were appended (baseOffset and partitionLeaderEpoch stamped by the broker);
`.index` and `.timeindex` are described in their own modules. A file name with
a `.cleaned` suffix is a compaction result not yet swapped in.

Invariants: batches are whole and valid up to `size`; base offsets increase
(dense except where compaction removed records); `next_offset` is one past the
last stored offset. Owned by its PartitionLog on the owner's thread; a cleaner
may build a new segment on another thread, never touch a live one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence

from luong.errors import KafkaStorageError
from luong.protocol.records import BATCH_HEADER_SIZE, BatchHeader
from luong.storage.log.offset_index import OffsetIndex
from luong.storage.log.time_index import TimeIndex

__all__ = ["LogSegment", "segment_name"]

Buffer = bytes | bytearray | memoryview
RECENT_BATCHES = 1024  # positions remembered per segment (cleared when full)


def segment_name(base_offset: int) -> str:
    return f"{base_offset:020d}"


class LogSegment:
    """An append-only file of batches plus its indexes."""

    def __init__(self, directory: str, base_offset: int, created_ms: int, suffix: str = "") -> None:
        self.directory = directory
        self.base_offset = base_offset
        self.created_ms = created_ms
        self.suffix = suffix
        stem = os.path.join(directory, segment_name(base_offset))
        self.path = f"{stem}.log{suffix}"
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        status = os.fstat(self.fd)
        self.size = status.st_size
        self.inode = status.st_ino
        self.index = OffsetIndex(f"{stem}.index{suffix}", base_offset)
        self.time_index = TimeIndex(f"{stem}.timeindex{suffix}", base_offset)
        self.next_offset = base_offset
        self.max_timestamp = -1
        self.offset_of_max_timestamp = -1
        self.bytes_since_index_entry = 0
        # base offset -> position of the batches noted lately: a consumer at the end
        # of the log asks for exactly such an offset, so its fetch needs no scan
        self._recent_batches: dict[int, int] = {}

    def __repr__(self) -> str:
        return f"LogSegment({self.path!r}, size={self.size}, next_offset={self.next_offset})"

    # -- appending -------------------------------------------------------------------

    def append(
        self,
        base_offset: int,
        last_offset: int,
        max_timestamp: int,
        buffers: Sequence[Buffer],
        length: int,
        index_interval_bytes: int,
    ) -> int:
        """Write one batch of `length` bytes (given as buffers) at the end; return its
        position."""
        position = self.size
        _write_all(self.fd, buffers, position, length)
        self.note_batch(
            position, length, base_offset, last_offset, max_timestamp, index_interval_bytes
        )
        return position

    def note_batch(
        self,
        position: int,
        length: int,
        base_offset: int,
        last_offset: int,
        max_timestamp: int,
        index_interval_bytes: int,
        *,
        defer: bool = False,
    ) -> None:
        """Account for a batch now stored at `position` (after a write or a recovery scan);
        with `defer`, new index entries reach their files on `write_indexes`."""
        if len(self._recent_batches) >= RECENT_BATCHES:
            self._recent_batches.clear()
        self._recent_batches[base_offset] = position
        if max_timestamp > self.max_timestamp:
            self.max_timestamp = max_timestamp
            self.offset_of_max_timestamp = base_offset
        if position > 0 and self.bytes_since_index_entry >= index_interval_bytes:
            self.index.append(base_offset, position, defer=defer)
            self.time_index.maybe_append(
                self.max_timestamp, self.offset_of_max_timestamp, defer=defer
            )
            self.bytes_since_index_entry = 0
        self.bytes_since_index_entry += length
        self.size = position + length
        self.next_offset = last_offset + 1

    def seal(self) -> None:
        """Mark the segment inactive: its last time index entry holds its largest timestamp."""
        if self.max_timestamp >= 0:
            self.time_index.maybe_append(self.max_timestamp, self.offset_of_max_timestamp)

    # -- reading ---------------------------------------------------------------------

    def read_header(self, position: int) -> BatchHeader:
        return BatchHeader.parse(os.pread(self.fd, BATCH_HEADER_SIZE, position))

    def headers_from(self, position: int) -> Iterator[tuple[int, BatchHeader]]:
        """(position, header) of every batch from byte `position` to the end."""
        while position < self.size:
            header = self.read_header(position)
            yield position, header
            position += header.size

    def position_of(self, offset: int) -> int:
        """Position of the batch holding `offset`, or `size` if it lies past the end."""
        recent = self._recent_batches.get(offset)
        if recent is not None:
            return recent
        for position, header in self.headers_from(self.index.lookup(offset)):
            if header.last_offset >= offset:
                return position
        return self.size

    def end_of_read(self, start: int, max_bytes: int) -> int:
        """End position of whole batches from `start` fitting in `max_bytes` (≥ one batch)."""
        limit = start + max_bytes
        if limit >= self.size:
            return self.size
        position = max(start, self.index.floor_position(limit))
        for batch_position, header in self.headers_from(position):
            if batch_position + header.size > limit:
                return batch_position if batch_position > start else batch_position + header.size
        return self.size

    def read_bytes(self, position: int, length: int) -> bytes:
        return os.pread(self.fd, length, position)

    # -- lifecycle -------------------------------------------------------------------

    def truncate_to(self, position: int) -> None:
        """Cut the log at byte `position` (a batch boundary) and its index entries."""
        os.ftruncate(self.fd, position)
        self._recent_batches = {o: p for o, p in self._recent_batches.items() if p < position}
        self.size = position
        self.index.truncate_to_position(position)

    def flush(self) -> None:
        os.fdatasync(self.fd)

    def write_indexes(self) -> None:
        self.index.write_pending()
        self.time_index.write_pending()

    def flush_indexes(self) -> None:
        self.index.flush()
        self.time_index.flush()

    def rename_suffix(self, suffix: str) -> None:
        """Rename the three files to carry `suffix` (the `.log` first)."""
        stem = os.path.join(self.directory, segment_name(self.base_offset))
        for old, new in (
            (self.path, f"{stem}.log{suffix}"),
            (self.index.path, f"{stem}.index{suffix}"),
            (self.time_index.path, f"{stem}.timeindex{suffix}"),
        ):
            os.replace(old, new)
        self.index.path = f"{stem}.index{suffix}"
        self.time_index.path = f"{stem}.timeindex{suffix}"
        self.path = f"{stem}.log{suffix}"
        self.suffix = suffix

    def delete_files(self) -> None:
        """Unlink the files; the descriptors stay open until `close` (reads in flight)."""
        for path in (self.index.path, self.time_index.path, self.path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def close(self) -> None:
        self.index.close()
        self.time_index.close()
        os.close(self.fd)


def _write_all(fd: int, buffers: Sequence[Buffer], position: int, total: int) -> None:
    """pwritev every buffer (`total` bytes) at `position`, resuming after short writes."""
    written = os.pwritev(fd, buffers, position)
    if written == total:
        return
    data = b"".join(bytes(b) for b in buffers)
    while written < total:
        step = os.pwrite(fd, data[written:], position + written)
        if step <= 0:
            raise KafkaStorageError("short write to a log segment")
        written += step
