"""close() while a compaction pass runs: close blocks the event loop in
`ThreadPoolExecutor.shutdown(wait=True)` until the pass ends, closes every log, writes
`.clean-shutdown`, and only then does run_maintenance resume and swap the cleaned
segments into the closed log (renames after the clean marker) and schedule a flush on
the shut-down executor: 'Task exception was never retrieved: RuntimeError: cannot
schedule new futures after shutdown'."""

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


def test_close_while_compacting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = storage_module.clean_segments

    def slow_clean(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)  # a large partition
        return real(*args, **kwargs)

    monkeypatch.setattr(storage_module, "clean_segments", slow_clean)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        unhandled: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
        s = LogStorage(str(tmp_path), ManualClock())
        await s.create_topic("t", 1, {"cleanup.policy": "compact", "segment.bytes": "100"})
        for i in range(5):
            await s.append(TP, make_batch([b"v%d" % i], keys=[b"same"]))
        maintenance = asyncio.create_task(s.run_maintenance())
        await asyncio.sleep(0.1)  # the pass is running on the cleaner thread
        await asyncio.gather(maintenance, s.close())
        await asyncio.sleep(0.2)
        assert unhandled == []

    asyncio.run(main())
