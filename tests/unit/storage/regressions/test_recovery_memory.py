"""recover_segment reads whatever a torn header's batchLength asks for: when the torn
header sits inside a chunk (consumed > 0), `needed` (up to 2 GiB) becomes the next read
size, capped only by the rest of the file. A 1 GiB segment with garbage early in its
unflushed tail is read into memory in one pread at open. Shown here with CHUNK_BYTES
lowered to 4 KiB: the scan issues one read of the whole ~200 KiB remainder."""

from __future__ import annotations

import asyncio
import os
import struct
from pathlib import Path

import pytest

from luong.clock import ManualClock
from luong.storage.log import LogStorage
from luong.storage.log import recovery as recovery_module
from luong.testing import make_batch
from luong.types import TopicPartition

TP = TopicPartition("t", 0)


def test_torn_length_does_not_read_the_rest_of_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash
) -> None:
    async def main() -> None:
        s = LogStorage(str(tmp_path), ManualClock())
        await s.create_topic("t", 1)
        for _ in range(3):
            await s.append(TP, make_batch([b"x" * 100]))
        torn_at = s._logs[TP].active.size
        for _ in range(2000):
            await s.append(TP, make_batch([b"y" * 100]), durable=False)
        crash(s)
        path = tmp_path / "t-0" / "00000000000000000000.log"
        with open(path, "r+b") as file:  # a torn header: batchLength garbage
            file.seek(torn_at + 8)
            file.write(struct.pack(">i", 2**31 - 1))
        sizes = []
        real_pread = os.pread

        def pread(fd: int, n: int, offset: int) -> bytes:
            sizes.append(n)
            return real_pread(fd, n, offset)

        monkeypatch.setattr(recovery_module, "CHUNK_BYTES", 4096)
        monkeypatch.setattr(recovery_module.os, "pread", pread)
        s = LogStorage(str(tmp_path), ManualClock())
        monkeypatch.setattr(recovery_module.os, "pread", real_pread)
        await s.close()
        assert max(sizes) <= 64 * 1024, f"one read of {max(sizes)} bytes"

    asyncio.run(main())
