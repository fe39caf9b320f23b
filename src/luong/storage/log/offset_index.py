"""OffsetIndex: a segment's sparse map from offsets to byte positions.

File `<base offset, 20 digits>.index`: entries of 8 bytes, big-endian
(relative offset uint32, position uint32), one per `index.interval.bytes` of log,
strictly increasing in both fields. An entry (r, p) says the batch whose
baseOffset is base + r starts at byte p of the `.log` file. Loading, the sanity
check and deferred writes are IndexFile's. Owned by its LogSegment; not thread-safe.
"""

from __future__ import annotations

import bisect
import sys
from array import array

from luong.storage.log.index_file import IndexFile

__all__ = ["OffsetIndex"]


class OffsetIndex(IndexFile):
    """Sparse offset → position index of one segment."""

    CODE = "II"
    STRICT_SECOND = True

    def append(self, offset: int, position: int, *, defer: bool = False) -> None:
        """Add an entry past the last one (callers keep both fields increasing)."""
        self._add(offset - self.base_offset, position, defer)

    def _encode(self, firsts: array[int], seconds: array[int]) -> bytes:
        """Both fields are uint32: interleave them in one array and swap its bytes,
        much faster than packing pair by pair (recovery writes many at once)."""
        pairs = array("I", [0]) * (2 * len(firsts))
        pairs[0::2] = firsts
        pairs[1::2] = seconds
        if sys.byteorder == "little":
            pairs.byteswap()
        return pairs.tobytes()

    def lookup(self, offset: int) -> int:
        """Position of the last indexed batch whose base offset is ≤ `offset` (0 if none)."""
        offsets, positions = self._entries()
        i = self._floor(offsets, offset - self.base_offset)
        return positions[i - 1] if i else 0

    def floor_position(self, position: int) -> int:
        """The last indexed batch position ≤ `position` (0 if none)."""
        positions = self._entries()[1]
        i = self._floor(positions, position)
        return positions[i - 1] if i else 0

    def truncate_to_position(self, position: int) -> None:
        """Drop entries at or past byte `position` of the log."""
        self._keep(bisect.bisect_left(self._entries()[1], position))

    def last_position(self) -> int:
        positions = self._entries()[1]
        return positions[-1] if positions else 0
