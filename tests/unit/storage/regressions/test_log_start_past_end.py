"""DeleteRecords persists the new log start offset at once (fsync), but the records it
points past need not be durable (`os` policy, durable=False appends, or an append whose
group fsync is still running). After a power cut that loses that tail, the log opens
with log_start_offset > log_end_offset: every fetch is OFFSET_OUT_OF_RANGE and new
appends land below the log start, unreadable. Kafka truncates fully and restarts the
log at the log start offset in this case."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from luong.clock import ManualClock
from luong.storage.log import LogStorage
from luong.testing import make_batch
from luong.types import TopicPartition

TP = TopicPartition("t", 0)


def test_log_start_beyond_recovered_end(tmp_path: Path, crash) -> None:
    async def main() -> None:
        clock = ManualClock()
        s = LogStorage(str(tmp_path), clock)
        await s.create_topic("t", 1, {"luong.flush.policy": "os"})
        await s.append(TP, make_batch([b"a"]))
        await s.checkpoint()
        durable = s._logs[TP].recovery_point.position  # nothing fsynced yet under `os`
        for i in range(5):
            await s.append(TP, make_batch([b"x%d" % i]))
        assert await s.delete_records(TP, -1) == 6
        crash(s)
        # power cut: the unsynced tail of the segment is lost
        os.truncate(tmp_path / "t-0" / "00000000000000000000.log", durable)

        s = LogStorage(str(tmp_path), clock)
        try:
            log = s._logs[TP]
            assert log.log_start_offset <= log.log_end_offset
            result = await s.append(TP, make_batch([b"after"]))
            read = await s.read(TP, result.base_offset, 1 << 20)
            assert read.size > 0
        finally:
            await s.close()

    asyncio.run(main())
