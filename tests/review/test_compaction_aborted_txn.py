"""Compaction maps records of aborted transactions like committed ones: an aborted
write of key K supersedes K's committed value, which the cleaner then deletes. A
read_committed consumer (which skips aborted data) no longer sees any value for K.
Kafka's cleaner ignores aborted records when building the offset map (and removes
them)."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

import pytest

from luong.clock import ManualClock
from luong.protocol.records import ControlType, Record, build_batch, control_type, decode_batches
from luong.storage.log import LogStorage
from luong.storage.memory import MemoryStorage
from luong.types import TopicPartition

TP = TopicPartition("t", 0)
T = 1_699_000_000_000
PID = 7


def committed_view(data: bytes) -> dict[bytes | None, bytes | None]:
    """What read_committed sees: aborted transactional data skipped."""
    batches = decode_batches(data)
    aborted = set()
    for b in batches:
        if b.header.is_control and control_type(b) is ControlType.ABORT:
            aborted.add(b.header.producer_id)
    view = {}
    for b in batches:
        if b.header.is_control or (b.header.is_transactional and b.header.producer_id in aborted):
            continue
        for r in b.records:
            view[r.key] = r.value
    return view


@pytest.mark.parametrize("engine", ["memory", "log"])
def test_aborted_record_does_not_erase_committed_value(engine: str, tmp_path: Path) -> None:
    async def main() -> None:
        clock = ManualClock()
        s = MemoryStorage(clock) if engine == "memory" else LogStorage(str(tmp_path), clock)
        await s.create_topic("t", 1, {"cleanup.policy": "compact", "segment.bytes": "100"})
        await s.append(TP, build_batch([Record(0, T, b"K", b"committed")]))
        await s.append(
            TP,
            build_batch(
                [Record(0, T, b"K", b"aborted")],
                producer_id=PID,
                producer_epoch=0,
                base_sequence=0,
                transactional=True,
            ),
        )
        marker = struct.pack(">hh", 0, int(ControlType.ABORT))
        await s.append(
            TP,
            build_batch(
                [Record(0, T, marker, struct.pack(">hi", 0, 0))],
                producer_id=PID,
                producer_epoch=0,
                transactional=True,
                control=True,
            ),
        )
        await s.append(TP, build_batch([Record(0, T, b"other", b"x")]))  # keeps the rest sealed
        try:
            before = committed_view((await s.read(TP, 0, 1 << 20)).read())
            assert before[b"K"] == b"committed"
            await s.run_maintenance()
            after = committed_view((await s.read(TP, 0, 1 << 20)).read())
            assert after.get(b"K") == b"committed"
        finally:
            await s.close()

    asyncio.run(main())
