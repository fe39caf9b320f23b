"""PartitionLog._first_at_or_after stops at the first batch whose maxTimestamp is ≥ t;
when that batch's matching records all lie before the log start offset (DeleteRecords
moved it inside the batch), it returns None and the search moves to the *next
segment*, skipping later batches of the same segment. The memory engine (reference)
finds the right record; the engines disagree."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from luong.clock import ManualClock
from luong.protocol.records import Record, build_batch
from luong.storage.log import LogStorage
from luong.storage.memory import MemoryStorage
from luong.types import TopicPartition

TP = TopicPartition("t", 0)
T = 1_699_000_000_000


@pytest.mark.parametrize("engine", ["memory", "log"])
def test_list_offset_by_time_with_log_start_inside_a_batch(engine: str, tmp_path: Path) -> None:
    async def main() -> None:
        clock = ManualClock()
        s = MemoryStorage(clock) if engine == "memory" else LogStorage(str(tmp_path), clock)
        await s.create_topic("t", 1)
        # offsets 0 (t+1000) and 1 (t+500) in one batch; offset 2 (t+900) in the next
        await s.append(
            TP, build_batch([Record(0, T + 1000, b"a", b"a"), Record(1, T + 500, b"b", b"b")])
        )
        await s.append(TP, build_batch([Record(0, T + 900, b"c", b"c")]))
        await s.append(TP, build_batch([Record(0, T + 2000, b"d", b"d")]))
        await s.delete_records(TP, 1)
        try:
            found = await s.list_offset(TP, T + 800)
            assert found.offset == 2 and found.timestamp == T + 900
        finally:
            await s.close()

    asyncio.run(main())
