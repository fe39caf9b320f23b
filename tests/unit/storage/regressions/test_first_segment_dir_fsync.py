"""A new file's directory entry is durable only after an fsync of its directory (the
code does this after a roll: `_directory_dirty`). The first segment of a partition is
created inside `<topic>-<p>/` by create_topic (and by load_partition when a directory
has no segment), yet only the parent data directory is fsynced and the PartitionLog
starts with `_directory_dirty = False`: no fsync of `<topic>-<p>/` ever happens before
appends into that first segment are acknowledged."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from luong.clock import ManualClock
from luong.storage.log import LogStorage
from luong.testing import make_batch
from luong.types import TopicPartition

TP = TopicPartition("t", 0)


def test_partition_directory_is_fsynced_before_first_ack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)

    async def main() -> None:
        s = LogStorage(str(tmp_path), ManualClock())
        await s.create_topic("t", 1)
        await s.append(TP, make_batch([b"acknowledged"]))  # group policy: durable
        partition_dir = str(tmp_path / "t-0")
        try:
            assert partition_dir in synced, synced
        finally:
            await s.close()

    asyncio.run(main())
