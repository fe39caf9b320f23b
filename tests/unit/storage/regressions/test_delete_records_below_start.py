"""Kafka's DeleteRecords with an offset below the current log start offset is a no-op
that succeeds and reports the current low watermark (Partition.deleteRecordsOnLeader
only refuses offsets < 0 or > high watermark). Both engines raise
OffsetOutOfRangeError instead, e.g. when retention already moved the start."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from luong.clock import ManualClock
from luong.storage.log import LogStorage
from luong.storage.memory import MemoryStorage
from luong.testing import make_batch
from luong.types import TopicPartition

TP = TopicPartition("t", 0)


@pytest.mark.parametrize("engine", ["memory", "log"])
def test_delete_records_below_log_start_is_a_no_op(engine: str, tmp_path: Path) -> None:
    async def main() -> None:
        clock = ManualClock()
        s = MemoryStorage(clock) if engine == "memory" else LogStorage(str(tmp_path), clock)
        await s.create_topic("t", 1)
        for i in range(5):
            await s.append(TP, make_batch([b"v%d" % i]))
        assert await s.delete_records(TP, 3) == 3
        try:
            assert await s.delete_records(TP, 2) == 3
        finally:
            await s.close()

    asyncio.run(main())
