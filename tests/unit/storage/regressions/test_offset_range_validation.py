"""A batch whose lastOffsetDelta disagrees with its record count is refused, as Kafka
refuses it ("Inconsistent batch offset range"): accepting it would make offsets go
backwards or leave holes, and the next recovery would cut acknowledged data."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from luong.clock import ManualClock
from luong.errors import LuongError
from luong.protocol.records import Record, build_batch
from luong.storage.log import LogStorage
from luong.storage.memory import MemoryStorage
from luong.types import TopicPartition

TP = TopicPartition("t", 0)
TS = 1_699_999_999_000


def batch_with_last_offset_delta(delta: int, value: bytes = b"v") -> bytes:
    return build_batch([Record(0, TS, b"k", value)], base_offset=0, last_offset=delta)


@pytest.mark.parametrize("engine", ["memory", "log"])
def test_negative_last_offset_delta_is_refused(engine: str, tmp_path: Path) -> None:
    async def main() -> None:
        s = MemoryStorage(ManualClock()) if engine == "memory" else LogStorage(str(tmp_path))
        await s.create_topic("t", 1)
        try:
            with pytest.raises(LuongError):
                await s.append(TP, batch_with_last_offset_delta(-1))
        finally:
            await s.close()

    asyncio.run(main())


@pytest.mark.parametrize("engine", ["memory", "log"])
def test_offset_range_must_match_record_count(engine: str, tmp_path: Path) -> None:
    async def main() -> None:
        s = MemoryStorage(ManualClock()) if engine == "memory" else LogStorage(str(tmp_path))
        await s.create_topic("t", 1)
        try:
            with pytest.raises(LuongError):
                await s.append(TP, batch_with_last_offset_delta(1_000_000))  # 1 record
        finally:
            await s.close()

    asyncio.run(main())


def test_huge_last_offset_delta_overflows_the_index(tmp_path: Path) -> None:
    """Relative offsets are uint32: two batches claiming 2^31 offsets each overflow the
    offset index with a non-Luong error after the bytes were written."""

    async def main() -> None:
        s = LogStorage(str(tmp_path), ManualClock())
        await s.create_topic("t", 1, {"index.interval.bytes": "0"})
        try:
            for _ in range(3):
                await s.append(TP, batch_with_last_offset_delta(2**31 - 1))
        except LuongError:
            pass  # a specific refusal is fine
        finally:
            await s.close()

    asyncio.run(main())
