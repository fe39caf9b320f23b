"""The log cleaner's work on segment files (see `luong.storage.compaction` for the rules).

A pass maps the dirty section of a partition's sealed, eligible segments, then
writes a `.cleaned` copy of every segment before the mapped end, keeping offsets,
order and untouched batches byte for byte. It only reads sealed segments (which no
one writes) and writes new files, so it may run on a cleaner thread while the
owner serves reads; the owner swaps the copies in with `PartitionLog.replace_segment`.
Memory is bounded by the offset map's entries plus one batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from luong.protocol.records import BatchHeader
from luong.storage.compaction import OffsetMap, compact_batch
from luong.storage.log.segment import LogSegment

__all__ = ["CleanResult", "batches_of", "clean_segments"]

CLEANED_SUFFIX = ".cleaned"


@dataclass(frozen=True, slots=True)
class CleanResult:
    """Cleaned copies (old, new) to swap in, and the new first dirty offset."""

    replacements: list[tuple[LogSegment, LogSegment]]
    first_dirty_offset: int


def batches_of(segment: LogSegment, from_offset: int = -1) -> Iterator[bytes]:
    """The segment's batches ending at or after `from_offset`, read by walking headers
    (not through the indexes, which belong to the owner's thread)."""
    for position, header in segment.headers_from(0):
        if header.last_offset >= from_offset:
            yield segment.read_bytes(position, header.size)


def clean_segments(
    segments: Sequence[LogSegment],
    first_dirty_offset: int,
    *,
    max_map_entries: int,
    tombstone_horizon_ms: int,
    index_interval_bytes: int,
) -> CleanResult | None:
    """One compaction pass over sealed, eligible `segments`; None if nothing is dirty."""
    offset_map = OffsetMap(max_map_entries)
    for segment in segments:
        if segment.next_offset <= first_dirty_offset:
            continue
        if not offset_map.add_batches(batches_of(segment, first_dirty_offset)):
            break
    if offset_map.end_offset <= first_dirty_offset:
        return None
    replacements = [
        (segment, _clean_one(segment, offset_map, tombstone_horizon_ms, index_interval_bytes))
        for segment in segments
        if segment.base_offset < offset_map.end_offset
    ]
    return CleanResult(replacements, offset_map.end_offset)


def _clean_one(
    segment: LogSegment, offset_map: OffsetMap, horizon_ms: int, index_interval_bytes: int
) -> LogSegment:
    cleaned = LogSegment(
        segment.directory, segment.base_offset, segment.created_ms, suffix=CLEANED_SUFFIX
    )
    cleaned.truncate_to(0)
    for batch in batches_of(segment):
        header = BatchHeader.parse(batch)
        kept = (
            batch
            if header.base_offset >= offset_map.end_offset
            else compact_batch(batch, offset_map, horizon_ms)
        )
        if kept is None:
            continue
        kept_header = BatchHeader.parse(kept)
        max_ts = kept_header.max_timestamp
        cleaned.append(
            kept_header.base_offset,
            kept_header.last_offset,
            max_ts,
            [kept],
            len(kept),
            index_interval_bytes,
        )
    cleaned.next_offset = max(cleaned.next_offset, segment.next_offset)
    cleaned.seal()
    cleaned.flush()
    cleaned.flush_indexes()
    return cleaned
