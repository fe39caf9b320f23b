"""TimeIndex: a segment's sparse map from timestamps to offsets.

File `<base offset, 20 digits>.timeindex`: entries of 12 bytes, big-endian
(timestamp int64, relative offset uint32), strictly increasing in timestamp and
non-decreasing in offset. An entry (t, r) says: t is the largest timestamp of the
segment up to the time the entry was written, first seen in the batch whose
baseOffset is base + r. Entries are added beside offset index entries when the
largest timestamp grew, and once more when the segment stops being active, so the
last entry of a closed segment holds its largest timestamp.

Loaded on first use, like OffsetIndex (IndexFile); `last_entry` of an unloaded index
reads only the file's last 12 bytes. Owned by its LogSegment; not thread-safe.
"""

from __future__ import annotations

import bisect
import os

from luong.storage.log.index_file import IndexFile

__all__ = ["TimeIndex"]


class TimeIndex(IndexFile):
    """Sparse timestamp → offset index of one segment."""

    CODE = "qI"
    STRICT_SECOND = False

    def last_entry(self) -> tuple[int, int] | None:
        """(largest timestamp, offset of its batch) or None when empty."""
        if self._firsts is None:
            size = os.fstat(self.fd).st_size
            if size and size % self.entry.size == 0:
                tail = os.pread(self.fd, self.entry.size, size - self.entry.size)
                timestamp, relative = self.entry.unpack(tail)
                return timestamp, self.base_offset + relative
        timestamps, offsets = self._entries()
        if not timestamps:
            return None
        return timestamps[-1], self.base_offset + offsets[-1]

    def maybe_append(self, timestamp: int, offset: int, *, defer: bool = False) -> None:
        """Add (timestamp, offset) if the timestamp is past the last entry's."""
        timestamps = self._entries()[0]
        if not timestamps or timestamp > timestamps[-1]:
            self._add(timestamp, offset - self.base_offset, defer)

    def lookup(self, timestamp: int) -> int:
        """An offset before which every record is older than `timestamp` (base if none)."""
        timestamps, offsets = self._entries()
        i = bisect.bisect_left(timestamps, timestamp)
        return self.base_offset + (offsets[i - 1] if i else 0)

    def truncate_to_offset(self, offset: int) -> None:
        """Drop entries whose batch starts at or after `offset`."""
        self._keep(bisect.bisect_left(self._entries()[1], offset - self.base_offset))
