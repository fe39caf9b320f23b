"""open_internal_topic replays record by record, skips what does not decode, and stops
at a tail that compaction emptied."""

from __future__ import annotations

import asyncio
from typing import Any

from luong.broker.internal import open_internal_topic
from luong.protocol.records import Record, RecordBatch, build_batch
from luong.storage import MemoryRegion, OffsetAndTimestamp, ReadResult
from luong.types import EARLIEST_TIMESTAMP, TopicPartition


class CompactedTail:
    """A topic whose one batch holds offsets 0-1 while its log ends at 5: the batches
    after it were compacted away (their tombstones past delete.retention.ms)."""

    def __init__(self) -> None:
        self.batch = build_batch([Record(0, 0, b"a", b"good"), Record(1, 0, b"b", b"\xff")])
        self.reads = 0

    def topics(self) -> dict[str, Any]:
        return {"__luong_test": object()}

    async def list_offset(self, tp: TopicPartition, timestamp: int) -> OffsetAndTimestamp:
        return OffsetAndTimestamp(0 if timestamp == EARLIEST_TIMESTAMP else 5, -1)

    async def read(self, tp: TopicPartition, offset: int, max_bytes: int) -> ReadResult:
        self.reads += 1
        assert self.reads < 10, "the replay keeps reading past the end"
        regions = [MemoryRegion(self.batch)] if offset == 0 else []
        return ReadResult(regions, 5, 0)


def test_replay_skips_bad_records_and_stops_at_an_emptied_tail() -> None:
    applied: list[bytes | None] = []

    def apply(batch: RecordBatch) -> None:
        [record] = batch.records
        applied.append(record.value.decode() if record.value else None)  # type: ignore[arg-type]

    storage = CompactedTail()
    asyncio.run(open_internal_topic(storage, "__luong_test", apply))  # type: ignore[arg-type]
    assert applied == ["good"]  # b"\xff" does not decode: logged and skipped
    assert storage.reads == 2
