"""Durability of acknowledged appends around segment rolls.

1. An fsync error during a pass that covered a freshly sealed segment and the new
   directory entry is reported once; the sealed segment and the directory are then
   never fsynced again, yet the next successful pass moves the recovery point past
   them and acknowledges appends that depend on them.
2. Under `luong.flush.policy=fsync`, two concurrent appends take two snapshots; the
   later one (active segment only) can finish first and acknowledge its append while
   the earlier snapshot (sealed segment + directory) is still being fsynced.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from luong.clock import ManualClock
from luong.errors import KafkaStorageError
from luong.storage.log import LogStorage
from luong.storage.log.segment import LogSegment
from luong.testing import make_batch
from luong.types import TopicPartition

TP = TopicPartition("t", 0)


def test_sealed_segment_is_fsynced_again_after_a_failed_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_flush = LogSegment.flush
    state = {"fail_next_seg0": False, "seg0_ok_after_failure": 0}

    def flush(self: LogSegment) -> None:
        if self.base_offset == 0 and state["fail_next_seg0"]:
            state["fail_next_seg0"] = False
            raise OSError(5, "Input/output error")
        real_flush(self)
        if self.base_offset == 0 and state.get("failed"):
            state["seg0_ok_after_failure"] += 1

    monkeypatch.setattr(LogSegment, "flush", flush)

    async def main() -> None:
        s = LogStorage(str(tmp_path), ManualClock())
        await s.create_topic("t", 1, {"segment.bytes": "400"})
        log = s._logs[TP]
        await s.append(TP, make_batch([b"a" * 100]))
        await s.append(TP, make_batch([b"b" * 100]))
        state["fail_next_seg0"] = True
        with pytest.raises(KafkaStorageError):
            await s.append(TP, make_batch([b"c" * 100]))  # rolls: seals segment 0
        state["failed"] = True
        assert len(log.segments) == 2
        await s.append(TP, make_batch([b"d" * 100]))  # acknowledged
        # The acknowledgement and the recovery point say segment 0 is durable ...
        assert log.recovery_point.segment_base == log.segments[1].base_offset
        # ... but it was never fsynced successfully after the failure.
        assert state["seg0_ok_after_failure"] > 0
        await s.close()

    asyncio.run(main())


def test_fsync_policy_ack_waits_for_the_sealed_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_flush = LogSegment.flush
    gate = threading.Event()
    seg0_flushed = threading.Event()

    def flush(self: LogSegment) -> None:
        if getattr(self, "_sealed_for_test", False) and not seg0_flushed.is_set():
            gate.wait(5)  # a slow disk
            real_flush(self)
            seg0_flushed.set()
            return
        real_flush(self)

    monkeypatch.setattr(LogSegment, "flush", flush)

    async def main() -> None:
        s = LogStorage(str(tmp_path), ManualClock())
        await s.create_topic("t", 1, {"segment.bytes": "400", "luong.flush.policy": "fsync"})
        log = s._logs[TP]
        await s.append(TP, make_batch([b"a" * 100]))
        await s.append(TP, make_batch([b"b" * 100]))
        log.segments[0]._sealed_for_test = True  # its fsync after the roll will be slow
        rolling = asyncio.create_task(s.append(TP, make_batch([b"c" * 100])))  # rolls
        await asyncio.sleep(0)
        assert len(log.segments) == 2
        following = asyncio.create_task(s.append(TP, make_batch([b"d" * 100])))
        done, _ = await asyncio.wait({following}, timeout=1.0)
        try:
            # "d" (offset 3) must not be acknowledged before offsets 0-1 in the sealed
            # segment and the new segment's directory entry are durable.
            assert not (done and not seg0_flushed.is_set())
        finally:
            gate.set()
            await asyncio.gather(rolling, following)
            await s.close()

    asyncio.run(main())
