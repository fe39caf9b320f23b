"""Read a segment file offline, batch by batch (for `luong dump-log`)."""

from __future__ import annotations

import mmap
from collections.abc import Iterator

from luong.errors import CorruptRecordError, LuongError
from luong.protocol.records import check_batch

__all__ = ["iter_segment_batches"]


def iter_segment_batches(path: str) -> Iterator[tuple[int, memoryview]]:
    """(position, batch) for every valid batch; CorruptRecordError at the first bad one."""
    with open(path, "rb") as file:
        if not file.seek(0, 2):
            return
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            try:
                yield from _batches(view)
            finally:
                view.release()


def _batches(view: memoryview) -> Iterator[tuple[int, memoryview]]:
    position = 0
    while position < len(view):
        try:
            size = check_batch(view, position)
        except LuongError as error:
            raise CorruptRecordError(f"at byte {position}: {error}") from None
        batch = view[position : position + size]
        yield position, batch
        batch.release()
        position += size
