"""A stale recovery checkpoint entry is applied to a different file with the same
segment base: after delete + re-create of a topic (or compaction of the checkpointed
segment) a kill -9 before the next checkpoint loses acknowledged data or corrupts the log."""

from __future__ import annotations

import asyncio
from pathlib import Path

from luong.clock import ManualClock
from luong.protocol.records import decode_batches
from luong.storage.log import LogStorage
from luong.testing import make_batch
from luong.types import TopicPartition

TP = TopicPartition("t", 0)


async def values(storage: LogStorage) -> list[bytes | None]:
    result = await storage.read(TP, 0, 1 << 30)
    return [r.value for b in decode_batches(result.read()) for r in b.records]


def test_recreated_topic_survives_kill_after_stale_checkpoint(tmp_path: Path, crash) -> None:
    async def main() -> None:
        clock = ManualClock()
        s = LogStorage(str(tmp_path), clock)
        await s.create_topic("t", 1)
        for i in range(50):
            await s.append(TP, make_batch([b"old-%d" % i + b"x" * 100]))
        clock.advance(60_000)
        await s.run_maintenance()  # periodic checkpoint: t-0 at segment 0, ~8 KB
        await s.delete_topic("t")
        await s.create_topic("t", 1)
        acked = []
        for i in range(5):  # durable (group policy), acknowledged
            await s.append(TP, make_batch([b"new-%d" % i]))
            acked.append(b"new-%d" % i)
        crash(s)  # kill -9 before the next periodic checkpoint

        s2 = LogStorage(str(tmp_path), clock)
        try:
            assert await values(s2) == acked
            assert s2._logs[TP].log_end_offset == 5
        finally:
            await s2.close()

    asyncio.run(main())


def test_compacted_checkpoint_segment_survives_kill(tmp_path: Path, crash) -> None:
    async def main() -> None:
        clock = ManualClock()
        s = LogStorage(str(tmp_path), clock)
        await s.create_topic("t", 1, {"cleanup.policy": "compact", "segment.ms": "1000"})
        acked: dict[bytes, bytes] = {}

        async def put(key: bytes, value: bytes) -> None:
            await s.append(TP, make_batch([value], keys=[key]))  # durable, acknowledged
            acked[key] = value

        for i in range(10):
            await put(b"k%d" % i, b"v%d" % i)
        clock.advance(1000)
        await s.run_maintenance()  # rolls by age: segment 10 is active
        await put(b"a", b"first")  # offset 10, the first batch of segment 10
        await s.checkpoint()  # what the periodic (60 s) checkpoint writes
        point = s._logs[TP].recovery_point
        assert point.segment_base == 10 and point.position > 0
        await put(b"a", b"second" + b"y" * 80)  # supersedes offset 10, another size
        for i in range(12, 20):
            await put(b"k%d" % i, b"v%d" % i)
        clock.advance(1000)
        await s.run_maintenance()  # rolls, then compacts segment 10: its first batch goes
        for i in range(20, 25):
            await put(b"k%d" % i, b"v%d" % i)
        crash(s)  # kill -9 before the next periodic checkpoint (59 s away)

        s2 = LogStorage(str(tmp_path), clock)
        try:
            result = await s2.read(TP, 0, 1 << 30)
            latest = {}
            for b in decode_batches(result.read()):
                for r in b.records:
                    latest[r.key] = r.value
            assert s2._logs[TP].log_end_offset == 25
            assert latest == acked
        finally:
            await s2.close()

    asyncio.run(main())
