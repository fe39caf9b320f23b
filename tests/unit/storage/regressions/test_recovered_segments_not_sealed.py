"""Recovery scans sealed segments (no checkpoint yet, or everything after the
checkpointed one) and rebuilds their indexes, but never adds the final "seal" time-index
entry that a live roll writes. The next open trusts those segments and takes their
largest timestamp from the last time-index entry, which is too small: ListOffsets by
timestamp skips the segment (wrong offset) and time retention sees it as older."""

from __future__ import annotations

import asyncio
from pathlib import Path

from luong.clock import ManualClock
from luong.protocol.records import decode_batches
from luong.storage.log import LogStorage
from luong.testing import make_batch
from luong.types import TopicPartition

TP = TopicPartition("t", 0)
BASE_TS = 1_699_000_000_000


def test_segment_max_timestamp_survives_recovery_then_restart(tmp_path: Path, crash) -> None:
    async def main() -> None:
        clock = ManualClock()
        s = LogStorage(str(tmp_path), clock)
        await s.create_topic("t", 1, {"segment.bytes": "1100", "index.interval.bytes": "150"})
        for i in range(40):
            await s.append(TP, make_batch([b"v%02d" % i], timestamp=BASE_TS + i * 1000))
        crash(s)  # kill -9 before the first checkpoint: every segment is scanned on open

        s = LogStorage(str(tmp_path), clock)
        await s.close()  # clean close: checkpoint at the last segment

        s = LogStorage(str(tmp_path), clock)
        try:
            first = s._logs[TP].segments[0]
            data = first.read_bytes(0, first.size)
            last_record = [r for b in decode_batches(data) for r in b.records][-1]
            found = await s.list_offset(TP, last_record.timestamp)
            assert found.offset == last_record.offset  # gives the next segment's first
            assert first.max_timestamp == last_record.timestamp
        finally:
            await s.close()

    asyncio.run(main())
