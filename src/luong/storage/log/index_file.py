"""IndexFile: what OffsetIndex and TimeIndex share, a file of sorted fixed-size pairs.

File: entries of `ENTRY.size` bytes, big-endian pairs (first, second), the firsts
strictly increasing, the seconds non-decreasing (strictly increasing when
`STRICT_SECOND`). The entries are loaded into memory on first use (opening a log
with many segments reads none of them), keeping only the sane prefix: a torn or
garbled tail is cut from the file too. New entries go to the file at once, or,
with `defer`, on the next `write_pending` (recovery rebuilds many at a time).
Owned by its LogSegment; not thread-safe (`flush` excepted).
"""

from __future__ import annotations

import bisect
import os
import struct
from array import array
from typing import ClassVar

__all__ = ["IndexFile", "load_pairs"]


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


class IndexFile:
    """Sorted (first, second) pairs of one segment, in a file and in memory."""

    CODE: ClassVar[str]  # the array/struct codes of (first, second): "II" or "qI"
    STRICT_SECOND: ClassVar[bool]

    def __init__(self, path: str, base_offset: int) -> None:
        self.path = path
        self.base_offset = base_offset
        self.entry = struct.Struct(">" + self.CODE)
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self._firsts: array[int] | None = None  # None until loaded
        self._seconds: array[int] = array(self.CODE[1])
        self._on_file = 0  # entries written to the file

    def _entries(self) -> tuple[array[int], array[int]]:
        if self._firsts is None:
            data = os.pread(self.fd, os.fstat(self.fd).st_size, 0)
            self._firsts, self._seconds = load_pairs(
                data, self.CODE, strict_second=self.STRICT_SECOND
            )
            self._on_file = len(self._firsts)
            if self._on_file * self.entry.size != len(data):
                os.ftruncate(self.fd, self._on_file * self.entry.size)
        return self._firsts, self._seconds

    def __len__(self) -> int:
        return len(self._entries()[0])

    @property
    def size_bytes(self) -> int:
        return len(self) * self.entry.size

    def _add(self, first: int, second: int, defer: bool) -> None:
        firsts, seconds = self._entries()
        firsts.append(first)
        seconds.append(second)
        if not defer:
            self.write_pending()

    def write_pending(self) -> None:
        """Write the entries added with `defer` in one go."""
        firsts, seconds = self._entries()
        pending = len(firsts) - self._on_file
        if pending == 0:
            return
        if pending == 1:  # an append's one new entry: the common case, packed at once
            data = self.entry.pack(firsts[-1], seconds[-1])
        else:
            data = self._encode(firsts[self._on_file :], seconds[self._on_file :])
        os.pwrite(self.fd, data, self._on_file * self.entry.size)
        self._on_file = len(firsts)

    def _encode(self, firsts: array[int], seconds: array[int]) -> bytes:
        pack = self.entry.pack
        return b"".join(pack(a, b) for a, b in zip(firsts, seconds, strict=True))

    def _keep(self, count: int) -> None:
        """Keep the first `count` entries, in memory and in the file."""
        firsts, seconds = self._entries()
        del firsts[count:]
        del seconds[count:]
        self._on_file = min(self._on_file, count)
        os.ftruncate(self.fd, self._on_file * self.entry.size)

    @staticmethod
    def _floor(values: array[int], value: int) -> int:
        """The number of entries whose value is ≤ `value` (values sorted)."""
        return bisect.bisect_right(values, value)

    def flush(self) -> None:
        """fdatasync what is written (any thread); `write_pending` is the owner's job."""
        os.fdatasync(self.fd)

    def close(self) -> None:
        os.close(self.fd)
