"""delete_topic releases the metadata lock, awaits the flusher, then rmtree's the
partition directories *by path*. A create_topic of the same name that runs in that
window (it takes the lock at once) builds its partitions in those same paths, and the
late rmtree removes the new topic's directory: its appends go to unlinked files and
the next open fails (topic file present, partition directory missing)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from luong.clock import ManualClock
from luong.storage.log import LogStorage
from luong.storage.log.segment import LogSegment
from luong.testing import make_batch
from luong.types import TopicPartition

TP = TopicPartition("t", 0)
OTHER = TopicPartition("u", 0)


def test_delete_then_recreate_same_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_flush = LogSegment.flush

    def flush(self: LogSegment) -> None:
        if "/u-0/" in self.path:
            time.sleep(0.3)  # a slow fsync on another partition keeps the flusher busy
        real_flush(self)

    monkeypatch.setattr(LogSegment, "flush", flush)

    async def main() -> None:
        s = LogStorage(str(tmp_path), ManualClock())
        await s.create_topic("t", 1)
        await s.create_topic("u", 1)
        await s.append(TP, make_batch([b"old"]))
        busy = asyncio.create_task(s.append(OTHER, make_batch([b"x"])))
        await asyncio.sleep(0.05)
        deleting = asyncio.create_task(s.delete_topic("t"))
        creating = asyncio.create_task(s.create_topic("t", 1))
        await asyncio.gather(busy, deleting, creating)
        await s.append(TP, make_batch([b"new"]))  # acknowledged
        assert (tmp_path / "t-0").is_dir()
        await s.close()
        s = LogStorage(str(tmp_path), ManualClock())
        await s.close()

    asyncio.run(main())
