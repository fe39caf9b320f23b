"""TimeIndex: a segment's sparse map from timestamps to offsets.

File `<base offset, 20 digits>.timeindex`: entries of 12 bytes, big-endian
(timestamp int64, relative offset uint32), strictly increasing in timestamp and
non-decreasing in offset. An entry (t, r) says: t is the largest timestamp of the
segment up to the time the entry was written, first seen in the batch whose
baseOffset is base + r. Entries are added beside offset index entries when the
largest timestamp grew, and once more when the segment stops being active, so the
last entry of a closed segment holds its largest timestamp. Owned by its
LogSegment; not safe to share between threads.
"""

from __future__ import annotations

import bisect
import os
import struct
from array import array

__all__ = ["TimeIndex"]

ENTRY = struct.Struct(">qI")


class TimeIndex:
    """Sparse timestamp → offset index of one segment."""

    def __init__(self, path: str, base_offset: int) -> None:
        self.path = path
        self.base_offset = base_offset
        self._timestamps = array("q")
        self._offsets = array("q")
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self._load()

    def _load(self) -> None:
        data = os.pread(self.fd, os.fstat(self.fd).st_size, 0)
        usable = len(data) - len(data) % ENTRY.size
        for timestamp, relative in ENTRY.iter_unpack(data[:usable]):
            offset = self.base_offset + relative
            if self._timestamps and (
                timestamp <= self._timestamps[-1] or offset < self._offsets[-1]
            ):
                break
            self._timestamps.append(timestamp)
            self._offsets.append(offset)
        if len(self) * ENTRY.size != len(data):
            os.ftruncate(self.fd, len(self) * ENTRY.size)

    def __len__(self) -> int:
        return len(self._timestamps)

    def last_entry(self) -> tuple[int, int] | None:
        """(largest timestamp, offset of its batch) or None when empty."""
        if not self._timestamps:
            return None
        return self._timestamps[-1], self._offsets[-1]

    def maybe_append(self, timestamp: int, offset: int) -> None:
        """Add (timestamp, offset) if the timestamp is past the last entry's."""
        if self._timestamps and timestamp <= self._timestamps[-1]:
            return
        os.pwrite(self.fd, ENTRY.pack(timestamp, offset - self.base_offset), len(self) * 12)
        self._timestamps.append(timestamp)
        self._offsets.append(offset)

    def lookup(self, timestamp: int) -> int:
        """An offset before which every record is older than `timestamp` (base if none)."""
        i = bisect.bisect_left(self._timestamps, timestamp)
        return self._offsets[i - 1] if i else self.base_offset

    def truncate_to_offset(self, offset: int) -> None:
        """Drop entries whose batch starts at or after `offset`."""
        keep = bisect.bisect_left(self._offsets, offset)
        del self._timestamps[keep:]
        del self._offsets[keep:]
        os.ftruncate(self.fd, len(self) * ENTRY.size)

    def flush(self) -> None:
        os.fdatasync(self.fd)

    def close(self) -> None:
        os.close(self.fd)
