"""PartitionLog: one partition's sequence of LogSegments.

Directory `<topic>-<partition>/` holds the segments and, once DeleteRecords moved
it inside a segment, `log-start-offset` (the offset as decimal text); a compacted
partition also keeps `cleaner-offset-checkpoint`, where the next pass starts. Segments are
kept sorted by base offset; the last one is active and takes appends. The log
start offset is at or past the first segment's base; the log end offset is the
active segment's `next_offset`.

Owned by the storage's event loop thread: not safe to share. Flushing happens on
another thread but only through `flush_snapshot` (taken here) and
`mark_flushed` (applied here).
"""

from __future__ import annotations

import bisect
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from luong.config import TopicConfig
from luong.protocol.records import BATCH_HEADER_SIZE, stamp_header, stamp_prefix
from luong.storage.api import AppendResult, FileRegion, OffsetAndTimestamp, ReadResult
from luong.storage.common import check_fetch_offset, first_record_at_or_after, max_timestamp_record
from luong.storage.log.files import read_offset_file
from luong.storage.log.segment import LogSegment
from luong.storage.producers import ProducerStateTable
from luong.types import EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, MAX_TIMESTAMP

__all__ = ["FlushSnapshot", "PartitionLog", "RecoveryPoint"]

LEADER_EPOCH = 0
MAX_RELATIVE_OFFSET = 2**31 - 1
_DELTA_AND_MAX_TIMESTAMP = struct.Struct(">i8xq")  # lastOffsetDelta at 23, maxTimestamp at 35
LOG_START_FILE = "log-start-offset"
CLEANER_OFFSET_FILE = "cleaner-offset-checkpoint"


@dataclass(frozen=True, slots=True)
class RecoveryPoint:
    """Everything in the log up to byte `position` of segment `segment_base` is durable.

    `next_offset`, `max_timestamp` and `offset_of_max_timestamp` describe that
    segment's durable prefix, so recovery can scan from there.
    """

    segment_base: int
    position: int
    next_offset: int
    max_timestamp: int
    offset_of_max_timestamp: int
    inode: int  # the segment file's identity: a rewritten file makes the point void


@dataclass(frozen=True, slots=True)
class FlushSnapshot:
    """What one fsync pass must cover: segments and sizes, taken on the owner thread."""

    segments: tuple[LogSegment, ...]
    directory_fd: int | None
    point: RecoveryPoint
    log_end_offset: int


class PartitionLog:
    """Append, read and look up offsets in one partition's segments."""

    def __init__(
        self, directory: str, config: TopicConfig, segments: list[LogSegment], log_start_offset: int
    ) -> None:
        self.directory = directory
        self.config = config
        self.segments = segments
        self.log_start_offset = max(log_start_offset, segments[0].base_offset)
        self.recovery_point = self._point_of(segments[-1])
        self._unflushed: list[LogSegment] = [segments[-1]]
        self._directory_dirty = False
        self.directory_fd = os.open(directory, os.O_RDONLY)
        self.first_dirty_offset = read_offset_file(
            os.path.join(directory, CLEANER_OFFSET_FILE), self.log_start_offset
        )
        self.producers = ProducerStateTable()  # rebuilt by the storage after loading

    @property
    def active(self) -> LogSegment:
        return self.segments[-1]

    @property
    def log_end_offset(self) -> int:
        return self.active.next_offset

    def size_bytes(self) -> int:
        return sum(segment.size for segment in self.segments)

    # -- appending -------------------------------------------------------------------

    def append(self, batches: Sequence[memoryview], now_ms: int) -> AppendResult:
        """Stamp offsets on validated batches and write them; durability is the caller's.

        Hot path: per batch, two header fields are read and a 16-byte prefix is
        written before the producer's bytes (a whole new header under LogAppendTime).
        An OSError part-way undoes the batches already written: all or nothing.
        """
        undo = self._undo_point()
        try:
            return self._append(batches, now_ms)
        except OSError:
            self._undo(undo)
            raise

    def _append(self, batches: Sequence[memoryview], now_ms: int) -> AppendResult:
        config = self.config
        append_time = now_ms if config.log_append_time else None
        base_offset = self.log_end_offset
        for batch in batches:
            size = len(batch)
            last_offset_delta, max_timestamp = _DELTA_AND_MAX_TIMESTAMP.unpack_from(batch, 23)
            active = self.segments[-1]
            if active.size and self._must_roll(active, size, last_offset_delta, now_ms):
                active = self.roll(now_ms)
            offset = active.next_offset
            if append_time is None:
                buffers = (stamp_prefix(size, offset, LEADER_EPOCH), batch[16:])
            else:
                header = stamp_header(batch, offset, LEADER_EPOCH, append_time)
                buffers, max_timestamp = (header, batch[BATCH_HEADER_SIZE:]), append_time
            active.append(
                offset,
                offset + last_offset_delta,
                max_timestamp,
                buffers,
                size,
                config.index_interval_bytes,
            )
        if self._unflushed[-1] is not self.segments[-1]:
            self._unflushed.append(self.segments[-1])
        return AppendResult(
            base_offset,
            self.log_end_offset - 1,
            -1 if append_time is None else append_time,
            self.log_start_offset,
        )

    def _undo_point(self) -> tuple[int, int, int, int, int, int]:
        active = self.segments[-1]
        return (
            len(self.segments),
            active.size,
            active.next_offset,
            active.max_timestamp,
            active.offset_of_max_timestamp,
            active.bytes_since_index_entry,
        )

    def _undo(self, point: tuple[int, int, int, int, int, int]) -> None:
        """Put the log back as it was at `point` (segments rolled since are removed)."""
        count, size, next_offset, max_timestamp, offset_of_max, since_index = point
        for segment in self.segments[count:]:
            segment.delete_files()
            segment.close()
        del self.segments[count:]
        self._unflushed = [s for s in self._unflushed if s in self.segments] or [self.active]
        active = self.active
        active.truncate_to(size)
        active.time_index.truncate_to_offset(next_offset)
        active.next_offset, active.max_timestamp = next_offset, max_timestamp
        active.offset_of_max_timestamp, active.bytes_since_index_entry = offset_of_max, since_index

    def _must_roll(
        self, active: LogSegment, incoming: int, last_offset_delta: int, now_ms: int
    ) -> bool:
        config = self.config
        return (
            active.size + incoming > config.segment_bytes
            or now_ms - active.created_ms >= config.segment_ms
            or active.index.size_bytes + 8 > config.segment_index_bytes
            # relative offsets in the indexes are 32-bit: roll before they would overflow
            or active.next_offset + last_offset_delta - active.base_offset > MAX_RELATIVE_OFFSET
        )

    def _aged(self, segment: LogSegment, now_ms: int) -> bool:
        return segment.size > 0 and now_ms - segment.created_ms >= self.config.segment_ms

    def roll(self, now_ms: int) -> LogSegment:
        """Seal the active segment and start a new one at the log end offset."""
        self.active.seal()
        segment = LogSegment(self.directory, self.log_end_offset, now_ms)
        self.segments.append(segment)
        self._unflushed.append(segment)
        self._directory_dirty = True
        return segment

    def roll_if_aged(self, now_ms: int) -> bool:
        if self._aged(self.active, now_ms):
            self.roll(now_ms)
            return True
        return False

    # -- reading ---------------------------------------------------------------------

    def _segment_index(self, offset: int) -> int:
        i = bisect.bisect_right(self.segments, offset, key=lambda s: s.base_offset)
        return max(i - 1, 0)

    def read(self, offset: int, max_bytes: int, max_offset: int | None = None) -> ReadResult:
        """Whole batches from the one holding `offset`, at least one, about `max_bytes`;
        none starting at or past `max_offset` (a batch boundary, such as the last
        stable offset)."""
        check_fetch_offset(offset, self.log_start_offset, self.log_end_offset)
        regions: list[FileRegion] = []
        remaining = max_bytes
        for segment in self.segments[self._segment_index(offset) :]:
            start = segment.position_of(offset) if not regions else 0
            if start >= segment.size:
                continue
            if regions and segment.read_header(start).size > remaining:
                break
            end = segment.end_of_read(start, max(remaining, 0))
            if max_offset is not None and max_offset < segment.next_offset:
                end = min(end, segment.position_of(max_offset))
            if end <= start:
                break
            regions.append(FileRegion(segment.fd, start, end - start))
            remaining -= end - start
            if remaining <= 0 or end < segment.size:
                break
        return ReadResult(regions, self.log_end_offset, self.log_start_offset)

    def list_offset(self, timestamp: int) -> OffsetAndTimestamp:
        """Kafka's ListOffsets for one partition (see Storage.list_offset)."""
        if timestamp == EARLIEST_TIMESTAMP:
            return OffsetAndTimestamp(self.log_start_offset, -1)
        if timestamp == LATEST_TIMESTAMP:
            return OffsetAndTimestamp(self.log_end_offset, -1)
        if timestamp == MAX_TIMESTAMP:
            return self._max_timestamp()
        for segment in self.segments:
            if segment.max_timestamp >= timestamp and segment.next_offset > self.log_start_offset:
                found = self._first_at_or_after(segment, timestamp)
                if found is not None:
                    return found
        return OffsetAndTimestamp(-1, -1)

    def _first_at_or_after(self, segment: LogSegment, timestamp: int) -> OffsetAndTimestamp | None:
        start = max(segment.time_index.lookup(timestamp), self.log_start_offset)
        for position, header in segment.headers_from(segment.position_of(start)):
            if header.max_timestamp >= timestamp and header.last_offset >= self.log_start_offset:
                batch = segment.read_bytes(position, header.size)
                found = first_record_at_or_after([batch], timestamp, self.log_start_offset)
                if found is not None:  # None: its matches all lie before the log start
                    return found
        return None

    def _max_timestamp(self) -> OffsetAndTimestamp:
        live = [s for s in self.segments if s.next_offset > self.log_start_offset and s.size]
        if not live:
            return OffsetAndTimestamp(-1, -1)
        best = max(live, key=lambda s: s.max_timestamp)
        position = best.position_of(max(best.offset_of_max_timestamp, self.log_start_offset))
        header = best.read_header(position)
        return max_timestamp_record(best.read_bytes(position, header.size), self.log_start_offset)

    # -- deleting --------------------------------------------------------------------

    @property
    def log_start_path(self) -> str:
        """Where the caller persists a log start offset moved by `delete_records`."""
        return os.path.join(self.directory, LOG_START_FILE)

    @property
    def cleaner_offset_path(self) -> str:
        """Where the caller persists `first_dirty_offset` after a compaction pass."""
        return os.path.join(self.directory, CLEANER_OFFSET_FILE)

    def delete_records(self, before_offset: int) -> list[LogSegment]:
        """Move the log start offset to `before_offset` (the caller made that durable in
        `log_start_path` first); return the segments now wholly before it."""
        check_fetch_offset(before_offset, self.log_start_offset, self.log_end_offset)
        self.log_start_offset = before_offset
        self.producers.truncate_before(before_offset)
        return self._drop_segments_before(before_offset)

    def _drop_segments_before(self, offset: int) -> list[LogSegment]:
        dropped = []
        while len(self.segments) > 1 and self.segments[1].base_offset <= offset:
            dropped.append(self.segments.pop(0))
        self._unflushed = [s for s in self._unflushed if s not in dropped]
        if not self._unflushed:
            self._unflushed = [self.segments[-1]]
        return dropped

    def apply_retention(self, now_ms: int) -> list[LogSegment]:
        """Delete the oldest segments: those wholly before the log start offset (any
        cleanup policy), then those past `retention.ms` or `retention.bytes`."""
        expired = 0
        while expired < len(self.segments) and self._expired(expired, now_ms):
            expired += 1
        if expired == 0:
            return []
        if expired == len(self.segments):
            self.roll(now_ms)  # Kafka too rolls an expired active segment to delete it
        new_start = self.segments[expired].base_offset
        self.log_start_offset = max(self.log_start_offset, new_start)
        self.producers.truncate_before(self.log_start_offset)
        return self._drop_segments_before(new_start)

    def _expired(self, index: int, now_ms: int) -> bool:
        segment = self.segments[index]
        last = index == len(self.segments) - 1
        if last and segment.size == 0:
            return False
        if not last and self.segments[index + 1].base_offset <= self.log_start_offset:
            return True
        config = self.config
        if not config.delete:
            return False
        if config.retention_ms >= 0 and now_ms - segment.max_timestamp > config.retention_ms:
            return True
        if config.retention_bytes < 0 or last:
            return False
        remaining = sum(s.size for s in self.segments[index + 1 :])
        return remaining >= config.retention_bytes

    # -- durability ------------------------------------------------------------------

    @staticmethod
    def _point_of(segment: LogSegment) -> RecoveryPoint:
        return RecoveryPoint(
            segment.base_offset,
            segment.size,
            segment.next_offset,
            segment.max_timestamp,
            segment.offset_of_max_timestamp,
            segment.inode,
        )

    def has_unflushed(self) -> bool:
        return (
            self.recovery_point.next_offset < self.log_end_offset
            or len(self._unflushed) > 1
            or self._directory_dirty
        )

    def flush_snapshot(self) -> FlushSnapshot:
        """Take what must be fsynced now; later appends go into the next snapshot."""
        segments = tuple(self._unflushed)
        self._unflushed = [self.active]
        dir_fd = self.directory_fd if self._directory_dirty else None
        self._directory_dirty = False
        return FlushSnapshot(segments, dir_fd, self._point_of(self.active), self.log_end_offset)

    def flush_failed(self, snapshot: FlushSnapshot) -> None:
        """A snapshot's fsync failed: what it should have covered stays to be flushed."""
        self._unflushed = list(dict.fromkeys([*snapshot.segments, *self._unflushed]))
        self._unflushed = [s for s in self._unflushed if s in self.segments] or [self.active]
        if snapshot.directory_fd is not None:
            self._directory_dirty = True

    def mark_flushed(self, snapshot: FlushSnapshot) -> None:
        if snapshot.point.next_offset >= self.recovery_point.next_offset:
            self.recovery_point = snapshot.point

    def segment_at(self, base_offset: int) -> LogSegment | None:
        """The listed segment with this base offset, if any."""
        for segment in self.segments:
            if segment.base_offset == base_offset:
                return segment
        return None

    def replace_segment(self, old: LogSegment, new: LogSegment) -> bool:
        """Swap a compacted copy in for `old` (still listed); False if `old` is gone.

        Order for crash safety: the old indexes are unlinked first (a log without
        indexes is rebuilt on open), then the new `.log` replaces the old one, then
        the new indexes take their names. `old`'s descriptors stay valid for reads
        in flight; the caller closes them later.
        """
        try:
            i = self.segments.index(old)
        except ValueError:
            return False
        if old is self.active:
            return False
        for path in (old.index.path, old.time_index.path):
            os.unlink(path)
        new.rename_suffix("")
        self.segments[i] = new
        self._directory_dirty = True
        return True

    def close(self) -> None:
        for segment in self.segments:
            segment.close()
        os.close(self.directory_fd)
