"""TimeIndex: a segment's sparse map from timestamps to offsets.

File `<base offset, 20 digits>.timeindex`: entries of 12 bytes, big-endian
(timestamp int64, relative offset uint32), strictly increasing in timestamp and
non-decreasing in offset. An entry (t, r) says: t is the largest timestamp of the
segment up to the time the entry was written, first seen in the batch whose
baseOffset is base + r. Entries are added beside offset index entries when the
largest timestamp grew, and once more when the segment stops being active, so the
last entry of a closed segment holds its largest timestamp.

Loaded on first use, like OffsetIndex; `last_entry` of an unloaded index reads
only the file's last 12 bytes. Owned by its LogSegment; not thread-safe.
"""

from __future__ import annotations

import bisect
import os
import struct
from array import array

from luong.storage.log.offset_index import load_pairs

__all__ = ["TimeIndex"]

ENTRY = struct.Struct(">qI")


class TimeIndex:
    """Sparse timestamp → offset index of one segment."""

    def __init__(self, path: str, base_offset: int) -> None:
        self.path = path
        self.base_offset = base_offset
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self._timestamps: array[int] | None = None  # None until loaded
        self._offsets: array[int] = array("I")  # relative offsets
        self._on_file = 0

    def _entries(self) -> tuple[array[int], array[int]]:
        if self._timestamps is None:
            data = os.pread(self.fd, os.fstat(self.fd).st_size, 0)
            self._timestamps, self._offsets = load_pairs(data, "qI", strict_second=False)
            self._on_file = len(self._timestamps)
            if self._on_file * ENTRY.size != len(data):
                os.ftruncate(self.fd, self._on_file * ENTRY.size)
        return self._timestamps, self._offsets

    def __len__(self) -> int:
        return len(self._entries()[0])

    def last_entry(self) -> tuple[int, int] | None:
        """(largest timestamp, offset of its batch) or None when empty."""
        if self._timestamps is None:
            size = os.fstat(self.fd).st_size
            if size and size % ENTRY.size == 0:
                timestamp, relative = ENTRY.unpack(os.pread(self.fd, ENTRY.size, size - 12))
                return timestamp, self.base_offset + relative
        timestamps, offsets = self._entries()
        if not timestamps:
            return None
        return timestamps[-1], self.base_offset + offsets[-1]

    def maybe_append(self, timestamp: int, offset: int, *, defer: bool = False) -> None:
        """Add (timestamp, offset) if the timestamp is past the last entry's."""
        timestamps, offsets = self._entries()
        if timestamps and timestamp <= timestamps[-1]:
            return
        timestamps.append(timestamp)
        offsets.append(offset - self.base_offset)
        if not defer:
            self.write_pending()

    def write_pending(self) -> None:
        timestamps, offsets = self._entries()
        if self._on_file == len(timestamps):
            return
        data = b"".join(
            ENTRY.pack(t, r)
            for t, r in zip(timestamps[self._on_file :], offsets[self._on_file :], strict=True)
        )
        os.pwrite(self.fd, data, self._on_file * ENTRY.size)
        self._on_file = len(timestamps)

    def lookup(self, timestamp: int) -> int:
        """An offset before which every record is older than `timestamp` (base if none)."""
        timestamps, offsets = self._entries()
        i = bisect.bisect_left(timestamps, timestamp)
        return self.base_offset + (offsets[i - 1] if i else 0)

    def truncate_to_offset(self, offset: int) -> None:
        """Drop entries whose batch starts at or after `offset`."""
        timestamps, offsets = self._entries()
        keep = bisect.bisect_left(offsets, offset - self.base_offset)
        del timestamps[keep:]
        del offsets[keep:]
        self._on_file = min(self._on_file, keep)
        os.ftruncate(self.fd, self._on_file * ENTRY.size)

    def flush(self) -> None:
        """fdatasync what is written (any thread); `write_pending` is the owner's job."""
        os.fdatasync(self.fd)

    def close(self) -> None:
        os.close(self.fd)
