"""Open a partition directory: list its segments, trust what is durable, recover the rest.

With a RecoveryPoint (from the checkpoint file) the segments before the point's
segment are trusted as sealed; the point's segment is trusted up to its position
and scanned from there; later segments are scanned whole. Without one, every
segment is scanned. A scan that cuts a segment short also drops every segment
after it. Start-up cost therefore follows the bytes written since the last
checkpoint, not the size of the log.
"""

from __future__ import annotations

import itertools
import os

from luong.config import TopicConfig
from luong.storage.log.files import fsync_directory, read_offset_file
from luong.storage.log.partition_log import LOG_START_FILE, PartitionLog, RecoveryPoint
from luong.storage.log.recovery import recover_segment
from luong.storage.log.segment import LogSegment, segment_name

__all__ = ["load_partition"]

_TEMPORARY_SUFFIXES = (".cleaned", ".tmp")


def load_partition(
    directory: str, config: TopicConfig, now_ms: int, point: RecoveryPoint | None, *, clean: bool
) -> PartitionLog:
    """Open (and if needed recover) the PartitionLog in `directory`."""
    _remove_temporary_files(directory)
    log_start = read_offset_file(os.path.join(directory, LOG_START_FILE), 0)
    bases = sorted(int(n[:20]) for n in os.listdir(directory) if n.endswith(".log"))
    if not bases:
        segments = [LogSegment(directory, log_start, now_ms)]
    else:
        segments = [_open_segment(directory, base, now_ms) for base in bases]
        _restore(segments, _valid_point(segments, point), config, clean=clean)
        if log_start > segments[-1].next_offset:
            # the records DeleteRecords moved past were lost (never fsynced): as Kafka,
            # start an empty log at the log start offset
            _drop_after(segments, -1)
            segments = [LogSegment(directory, log_start, now_ms)]
    return PartitionLog(directory, config, segments, log_start)


def _remove_temporary_files(directory: str) -> None:
    for name in os.listdir(directory):
        if name.endswith(_TEMPORARY_SUFFIXES):
            os.unlink(os.path.join(directory, name))


def _open_segment(directory: str, base: int, now_ms: int) -> LogSegment:
    """Open a segment; indexes that exist only half (a swap cut short) are dropped."""
    stem = os.path.join(directory, segment_name(base))
    index_files = [f"{stem}.index", f"{stem}.timeindex"]
    if not all(os.path.exists(path) for path in index_files):
        for path in index_files:
            if os.path.exists(path):
                os.unlink(path)
    return LogSegment(directory, base, now_ms)


def _restore(
    segments: list[LogSegment], point: RecoveryPoint | None, config: TopicConfig, *, clean: bool
) -> None:
    trusted = _trusted_count(segments, point)
    for segment, following in itertools.pairwise(segments[: trusted + 1]):
        _restore_sealed(segment, following.base_offset, config)
    for i in range(trusted, len(segments)):
        segment = segments[i]
        start = 0
        if point is not None and segment.base_offset == point.segment_base:
            _apply_point(segment, point)
            start = point.position
            if clean and start == segment.size:
                continue
        # offsets are dense in the active segment; sealed ones may hold compaction's gaps
        last = i == len(segments) - 1
        cut = recover_segment(segment, start, config.index_interval_bytes, dense=last)
        if not last and not cut:
            segment.seal()  # its time index ends with its largest timestamp again
        segment.flush()
        segment.flush_indexes()
        if cut and i + 1 < len(segments):
            _drop_after(segments, i)
            break


def _valid_point(segments: list[LogSegment], point: RecoveryPoint | None) -> RecoveryPoint | None:
    """The point if it still describes one of these files (same inode, within its size)."""
    if point is None:
        return None
    for segment in segments:
        if segment.base_offset == point.segment_base:
            same_file = segment.inode == point.inode and point.position <= segment.size
            return point if same_file else None
    return None


def _trusted_count(segments: list[LogSegment], point: RecoveryPoint | None) -> int:
    """How many leading segments are sealed and durable by the recovery point."""
    if point is None:
        return 0
    return next(i for i, s in enumerate(segments) if s.base_offset == point.segment_base)


def _restore_sealed(segment: LogSegment, next_base: int, config: TopicConfig) -> None:
    last = segment.time_index.last_entry()
    if segment.size and last is None:
        recover_segment(segment, 0, config.index_interval_bytes, dense=False)
        segment.flush_indexes()
    elif last is not None:
        segment.max_timestamp, segment.offset_of_max_timestamp = last
    segment.next_offset = next_base


def _apply_point(segment: LogSegment, point: RecoveryPoint) -> None:
    segment.next_offset = point.next_offset
    segment.max_timestamp = point.max_timestamp
    segment.offset_of_max_timestamp = point.offset_of_max_timestamp


def _drop_after(segments: list[LogSegment], i: int) -> None:
    """Delete the segments after index `i` (all of them for -1), durably."""
    for segment in segments[i + 1 :]:
        segment.delete_files()
        segment.close()
    if segments[i + 1 :]:
        fsync_directory(segments[0].directory)
    del segments[i + 1 :]
