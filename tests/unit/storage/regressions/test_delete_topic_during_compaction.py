"""delete_topic does not wait for a compaction pass of the topic in flight: the
partition directory is removed under the cleaner thread, which then fails to create
its `.cleaned` files; the FileNotFoundError escapes run_maintenance (not a LuongError),
aborting compaction of the remaining partitions and the periodic checkpoint."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from luong.clock import ManualClock
from luong.storage.log import LogStorage
from luong.storage.log import storage as storage_module
from luong.testing import make_batch
from luong.types import TopicPartition

TP = TopicPartition("t", 0)


def test_delete_topic_while_compacting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = storage_module.clean_segments

    def slow_clean(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)  # a large partition
        return real(*args, **kwargs)

    monkeypatch.setattr(storage_module, "clean_segments", slow_clean)

    async def main() -> None:
        s = LogStorage(str(tmp_path), ManualClock())
        await s.create_topic("t", 1, {"cleanup.policy": "compact", "segment.bytes": "100"})
        for i in range(5):
            await s.append(TP, make_batch([b"v%d" % i], keys=[b"same"]))
        maintenance = asyncio.create_task(s.run_maintenance())
        await asyncio.sleep(0.1)  # the pass is running on the cleaner thread
        await s.delete_topic("t")
        try:
            await maintenance
        finally:
            await s.close()

    asyncio.run(main())
