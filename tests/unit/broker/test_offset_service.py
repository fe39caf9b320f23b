"""OffsetService: concurrent commits share fsyncs and still apply in log order."""

from __future__ import annotations

import asyncio
from pathlib import Path

from luong.broker.offsets import OffsetService
from luong.clock import ManualClock
from luong.coordinator.offsets import CommitRequest, OffsetKey
from luong.storage.log import LogStorage


def test_concurrent_commits_share_fsyncs_and_apply_in_log_order(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, int, int, int]:
        clock = ManualClock()
        storage = LogStorage(str(tmp_path / "data"), clock)
        service = OffsetService(storage, clock, retention_ms=10**9)
        await service.start()
        key = OffsetKey("g", "t", 0)
        passes_before = storage._flusher.passes
        commits = [service.commit([CommitRequest(key, offset, -1, "")]) for offset in range(50)]
        assert all(codes == [0] for codes in await asyncio.gather(*commits))
        passes = storage._flusher.passes - passes_before
        live = service.fetch("g", [("t", 0)])[("t", 0)]
        await storage.close()
        reopened = LogStorage(str(tmp_path / "data"), clock)
        replayed = OffsetService(reopened, clock, retention_ms=10**9)
        await replayed.start()
        again = replayed.fetch("g", [("t", 0)])[("t", 0)]
        await reopened.close()
        assert live is not None and again is not None
        return passes, live.offset, again.offset, 50

    passes, live, replayed, count = asyncio.run(scenario())
    assert live == replayed == count - 1  # the last commit, in the log and in memory
    assert passes < count  # fsyncs were shared
