"""Log compaction as pure functions over batches, shared by every engine.

A pass covers the dirty section [first_dirty, …) of a partition's closed data:
`OffsetMap` records each key's latest offset there (bounded: when it is full the
pass stops at a batch boundary and the rest waits for the next pass). Every batch
before the end of that section is then rewritten keeping a record iff its key has
no later offset in the map; tombstones (null values) also go once they are older
than `delete.retention.ms`. Offsets and order never change; a batch that keeps
all its records is kept byte for byte, one that keeps some is rebuilt over the
same offset range (base and last offset as before), one that keeps none disappears.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from luong.protocol.records import BatchHeader, Record, decode_batch, rebuild_batch

__all__ = ["OffsetMap", "compact_batch"]


def _digest(key: bytes) -> bytes:
    return hashlib.blake2b(key, digest_size=16).digest()


class OffsetMap:
    """Key digest → latest offset, holding at most `max_entries` keys."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._latest: dict[bytes, int] = {}
        self.end_offset = -1  # one past the last offset whose batch was fully mapped

    def __len__(self) -> int:
        return len(self._latest)

    def add_batch(self, batch: bytes | memoryview) -> bool:
        """Map every keyed record of `batch`; False (nothing added) if it would overflow."""
        decoded = decode_batch(batch)
        if decoded.header.is_control:
            self.end_offset = decoded.header.last_offset + 1
            return True
        digests = [(_digest(r.key), r.offset) for r in decoded.records if r.key is not None]
        new_keys = {d for d, _ in digests if d not in self._latest}
        if len(self._latest) + len(new_keys) > self.max_entries:
            return False
        self._latest.update(digests)
        self.end_offset = decoded.header.last_offset + 1
        return True

    def add_batches(self, batches: Iterable[bytes | memoryview]) -> bool:
        """Map batches in order; False as soon as one does not fit."""
        return all(self.add_batch(batch) for batch in batches)

    def is_latest(self, record: Record) -> bool:
        if record.key is None:
            return True
        latest = self._latest.get(_digest(record.key))
        return latest is None or latest <= record.offset


def compact_batch(
    batch: bytes | memoryview, offset_map: OffsetMap, tombstone_horizon_ms: int
) -> bytes | None:
    """The batch with superseded records (and tombstones stamped before
    `tombstone_horizon_ms`) removed: the same bytes, a rebuilt batch, or None."""
    header = BatchHeader.parse(batch)
    if header.is_control:
        return bytes(batch)
    decoded = decode_batch(batch)
    kept = [r for r in decoded.records if _keep(r, offset_map, tombstone_horizon_ms)]
    if len(kept) == len(decoded.records):
        return bytes(batch)
    if not kept:
        return None
    return rebuild_batch(header, kept, header.compression)


def _keep(record: Record, offset_map: OffsetMap, tombstone_horizon_ms: int) -> bool:
    if not offset_map.is_latest(record):
        return False
    return record.value is not None or record.timestamp >= tombstone_horizon_ms
