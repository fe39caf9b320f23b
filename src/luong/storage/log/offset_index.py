"""OffsetIndex: a segment's sparse map from offsets to byte positions.

File `<base offset, 20 digits>.index`: entries of 8 bytes, big-endian
(relative offset uint32, position uint32), one per `index.interval.bytes` of log,
strictly increasing in both fields. An entry (r, p) says the batch whose
baseOffset is base + r starts at byte p of the `.log` file. The entries are also
held in memory. Owned by its LogSegment; not safe to share between threads.
"""

from __future__ import annotations

import bisect
import os
import struct
from array import array

__all__ = ["OffsetIndex"]

ENTRY = struct.Struct(">II")


class OffsetIndex:
    """Sparse offset → position index of one segment."""

    entry_size = ENTRY.size

    def __init__(self, path: str, base_offset: int) -> None:
        self.path = path
        self.base_offset = base_offset
        self._offsets = array("q")
        self._positions = array("q")
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self._load()

    def _load(self) -> None:
        data = os.pread(self.fd, os.fstat(self.fd).st_size, 0)
        usable = len(data) - len(data) % ENTRY.size
        for relative, position in ENTRY.iter_unpack(data[:usable]):
            offset = self.base_offset + relative
            if self._offsets and (offset <= self._offsets[-1] or position <= self._positions[-1]):
                break  # a torn or garbled tail: keep the sane prefix
            self._offsets.append(offset)
            self._positions.append(position)
        if len(self) * ENTRY.size != len(data):
            os.ftruncate(self.fd, len(self) * ENTRY.size)

    def __len__(self) -> int:
        return len(self._offsets)

    @property
    def size_bytes(self) -> int:
        return len(self) * ENTRY.size

    def append(self, offset: int, position: int) -> None:
        """Add an entry past the last one (callers keep both fields increasing)."""
        os.pwrite(self.fd, ENTRY.pack(offset - self.base_offset, position), self.size_bytes)
        self._offsets.append(offset)
        self._positions.append(position)

    def lookup(self, offset: int) -> int:
        """Position of the last indexed batch whose base offset is ≤ `offset` (0 if none)."""
        i = bisect.bisect_right(self._offsets, offset)
        return self._positions[i - 1] if i else 0

    def floor_position(self, position: int) -> int:
        """The last indexed batch position ≤ `position` (0 if none)."""
        i = bisect.bisect_right(self._positions, position)
        return self._positions[i - 1] if i else 0

    def truncate_to_position(self, position: int) -> None:
        """Drop entries at or past byte `position` of the log."""
        keep = bisect.bisect_left(self._positions, position)
        del self._offsets[keep:]
        del self._positions[keep:]
        os.ftruncate(self.fd, self.size_bytes)

    def last_position(self) -> int:
        return self._positions[-1] if self._positions else 0

    def flush(self) -> None:
        os.fdatasync(self.fd)

    def close(self) -> None:
        os.close(self.fd)
