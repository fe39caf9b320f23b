"""When retention expires every segment, apply_retention rolls the active segment and
drops it; the dropped segment is still listed in the log's `_unflushed` (the active one
always is). Its descriptors are closed file.delete.delay.ms later, and the next durable
append's flush pass then fdatasync's a closed (or reused) descriptor: the append, whose
bytes are already written and readable, fails with KafkaStorageError (a producer retry
duplicates it), and the pass's directory fsync for the new segment is skipped for good."""

from __future__ import annotations

import asyncio
from pathlib import Path

from luong.clock import ManualClock
from luong.storage.log import LogStorage
from luong.testing import make_batch
from luong.types import TopicPartition

TP = TopicPartition("t", 0)


def test_append_after_idle_topic_fully_expired(tmp_path: Path) -> None:
    async def main() -> None:
        clock = ManualClock()
        s = LogStorage(str(tmp_path), clock)
        await s.create_topic("t", 1, {"retention.ms": "1000"})
        await s.append(TP, make_batch([b"a"], timestamp=clock.time_ms()))
        clock.advance(2_000)
        await s.run_maintenance()  # everything expired: roll + drop the old active
        clock.advance(60_000)
        await s.run_maintenance()  # file.delete.delay.ms passed: its descriptors close
        try:
            await s.append(TP, make_batch([b"b"], timestamp=clock.time_ms()))
        finally:
            await s.close()

    asyncio.run(main())
