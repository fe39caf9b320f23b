"""Recovery checks dense offsets (`dense=not config.compact`) using the topic's *current*
cleanup.policy. Segments compacted while the topic was `compact` have offset gaps; after
an ordinary `cleanup.policy=delete` alter, the next scan of those segments (kill -9
before a checkpoint covers them, a missing index, a stale checkpoint) treats the first
gap as corruption: it cuts the segment there and deletes every later segment."""

from __future__ import annotations

import asyncio
from pathlib import Path

from luong.clock import ManualClock
from luong.storage.log import LogStorage
from luong.testing import make_batch
from luong.types import LATEST_TIMESTAMP, TopicPartition

TP = TopicPartition("t", 0)


def test_compacted_gaps_survive_policy_change_and_kill(tmp_path: Path, crash) -> None:
    async def main() -> None:
        clock = ManualClock()
        s = LogStorage(str(tmp_path), clock)
        await s.create_topic("t", 1, {"cleanup.policy": "compact", "segment.bytes": "200"})
        for i in range(10):
            await s.append(TP, make_batch([b"v%d" % i], keys=[b"k%d" % (i % 3)]))
        await s.run_maintenance()  # compaction leaves gaps in the sealed segments
        await s.alter_topic_configs("t", {"cleanup.policy": "delete"})
        for i in range(10, 15):
            await s.append(TP, make_batch([b"v%d" % i]))  # acknowledged
        crash(s)  # kill -9 before the first periodic checkpoint

        s = LogStorage(str(tmp_path), clock)
        try:
            assert (await s.list_offset(TP, LATEST_TIMESTAMP)).offset == 15
        finally:
            await s.close()

    asyncio.run(main())
