"""OffsetIndex: a segment's sparse map from offsets to byte positions.

File `<base offset, 20 digits>.index`: entries of 8 bytes, big-endian
(relative offset uint32, position uint32), one per `index.interval.bytes` of log,
strictly increasing in both fields. An entry (r, p) says the batch whose
baseOffset is base + r starts at byte p of the `.log` file.

The entries are loaded into memory on first use (opening a log with many segments
reads none of them), with a sanity check that cuts a torn or garbled tail. New
entries go to the file at once, or, with `defer`, on the next `write_pending`
(recovery rebuilds many at a time). Owned by its LogSegment; not thread-safe.
"""

from __future__ import annotations

import bisect
import os
import struct
import sys
from array import array

__all__ = ["OffsetIndex", "load_pairs"]

ENTRY = struct.Struct(">II")


def load_pairs(data: bytes, code: str, *, strict_second: bool) -> tuple[array[int], array[int]]:
    """Split big-endian (a, b) pairs into two arrays, keeping the sane prefix:
    a strictly increasing, b non-decreasing (strictly increasing with `strict_second`)."""
    firsts: array[int] = array(code[0])
    seconds: array[int] = array(code[1])
    entry = struct.Struct(">" + code)
    usable = len(data) - len(data) % entry.size
    for a, b in entry.iter_unpack(data[:usable]):
        if firsts and (a <= firsts[-1] or b < seconds[-1] or (strict_second and b == seconds[-1])):
            break
        firsts.append(a)
        seconds.append(b)
    return firsts, seconds


class OffsetIndex:
    """Sparse offset → position index of one segment."""

    def __init__(self, path: str, base_offset: int) -> None:
        self.path = path
        self.base_offset = base_offset
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self._offsets: array[int] | None = None  # relative offsets; None until loaded
        self._positions: array[int] = array("I")
        self._on_file = 0  # entries written to the file

    def _entries(self) -> tuple[array[int], array[int]]:
        if self._offsets is None:
            data = os.pread(self.fd, os.fstat(self.fd).st_size, 0)
            self._offsets, self._positions = load_pairs(data, "II", strict_second=True)
            self._on_file = len(self._offsets)
            if self._on_file * ENTRY.size != len(data):
                os.ftruncate(self.fd, self._on_file * ENTRY.size)
        return self._offsets, self._positions

    def __len__(self) -> int:
        return len(self._entries()[0])

    @property
    def size_bytes(self) -> int:
        return len(self) * ENTRY.size

    def append(self, offset: int, position: int, *, defer: bool = False) -> None:
        """Add an entry past the last one (callers keep both fields increasing)."""
        offsets, positions = self._entries()
        offsets.append(offset - self.base_offset)
        positions.append(position)
        if not defer:
            self.write_pending()

    def write_pending(self) -> None:
        """Write the entries added with `defer` in one go."""
        offsets, positions = self._entries()
        if self._on_file == len(offsets):
            return
        pairs = array("I", [0]) * (2 * (len(offsets) - self._on_file))
        pairs[0::2] = offsets[self._on_file :]
        pairs[1::2] = positions[self._on_file :]
        if sys.byteorder == "little":
            pairs.byteswap()
        os.pwrite(self.fd, pairs.tobytes(), self._on_file * ENTRY.size)
        self._on_file = len(offsets)

    def lookup(self, offset: int) -> int:
        """Position of the last indexed batch whose base offset is ≤ `offset` (0 if none)."""
        offsets, positions = self._entries()
        i = bisect.bisect_right(offsets, offset - self.base_offset)
        return positions[i - 1] if i else 0

    def floor_position(self, position: int) -> int:
        """The last indexed batch position ≤ `position` (0 if none)."""
        positions = self._entries()[1]
        i = bisect.bisect_right(positions, position)
        return positions[i - 1] if i else 0

    def truncate_to_position(self, position: int) -> None:
        """Drop entries at or past byte `position` of the log."""
        offsets, positions = self._entries()
        keep = bisect.bisect_left(positions, position)
        del offsets[keep:]
        del positions[keep:]
        self._on_file = min(self._on_file, keep)
        os.ftruncate(self.fd, self._on_file * ENTRY.size)

    def last_position(self) -> int:
        positions = self._entries()[1]
        return positions[-1] if positions else 0

    def flush(self) -> None:
        """fdatasync what is written (any thread); `write_pending` is the owner's job."""
        os.fdatasync(self.fd)

    def close(self) -> None:
        os.close(self.fd)
