"""An append of several batches that fails at the second one (ENOSPC, EIO, EMFILE at a
roll) raises KafkaStorageError, yet the first batch stays appended and readable: the
request is half-applied, and a producer retrying it duplicates the first batch."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from luong.clock import ManualClock
from luong.errors import KafkaStorageError
from luong.storage.log import LogStorage
from luong.storage.log import segment as segment_module
from luong.testing import make_batch
from luong.types import LATEST_TIMESTAMP, TopicPartition

TP = TopicPartition("t", 0)


def test_failed_multi_batch_append_appends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real_pwritev = os.pwritev

    def pwritev(fd: int, buffers: object, offset: int) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        return real_pwritev(fd, buffers, offset)  # type: ignore[arg-type]

    async def main() -> None:
        s = LogStorage(str(tmp_path), ManualClock())
        await s.create_topic("t", 1)
        monkeypatch.setattr(segment_module.os, "pwritev", pwritev)
        payload = make_batch([b"first"]) + make_batch([b"second"])
        with pytest.raises(KafkaStorageError):
            await s.append(TP, payload)
        monkeypatch.setattr(segment_module.os, "pwritev", real_pwritev)
        try:
            assert (await s.list_offset(TP, LATEST_TIMESTAMP)).offset == 0
        finally:
            await s.close()

    asyncio.run(main())
