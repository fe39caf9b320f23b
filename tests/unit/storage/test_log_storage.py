"""LogStorage behaviour beyond the contract: segments, indexes, flushing, files."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from luong.clock import ManualClock
from luong.errors import KafkaStorageError
from luong.protocol.records import decode_batches
from luong.storage.log import LogStorage
from luong.storage.log import loader as loader_module
from luong.testing import make_batch
from luong.types import LATEST_TIMESTAMP, TopicPartition

TP = TopicPartition("t", 0)


def run(func: Callable[[LogStorage, ManualClock], Awaitable[None]], path: Path) -> None:
    async def main() -> None:
        clock = ManualClock()
        storage = LogStorage(str(path), clock)
        try:
            await func(storage, clock)
        finally:
            await storage.close()

    asyncio.run(main())


def segment_files(path: Path, suffix: str = ".log") -> list[str]:
    return sorted(name for name in os.listdir(path / "t-0") if name.endswith(suffix))


def test_segments_roll_by_size_and_are_named_by_base_offset(tmp_path: Path) -> None:
    async def scenario(s: LogStorage, clock: ManualClock) -> None:
        await s.create_topic("t", 1, {"segment.bytes": "300"})
        for i in range(10):
            await s.append(TP, make_batch([b"v%d" % i, b"w"]))  # about 90 bytes each
        names = segment_files(tmp_path)
        assert names[0] == "00000000000000000000.log"
        bases = [int(name[:20]) for name in names]
        assert len(bases) == 4 and bases == sorted(bases)
        for name in names[:-1]:
            assert os.path.getsize(tmp_path / "t-0" / name) <= 300

    run(scenario, tmp_path)


def test_segments_roll_by_age(tmp_path: Path) -> None:
    async def scenario(s: LogStorage, clock: ManualClock) -> None:
        await s.create_topic("t", 1, {"segment.ms": "1000"})
        await s.append(TP, make_batch([b"a"]))
        await s.run_maintenance()
        assert len(segment_files(tmp_path)) == 1
        clock.advance(1000)
        await s.run_maintenance()
        assert len(segment_files(tmp_path)) == 2
        await s.append(TP, make_batch([b"b"]))
        assert segment_files(tmp_path)[-1] == "00000000000000000001.log"

    run(scenario, tmp_path)


def test_sparse_index_serves_reads_at_every_offset(tmp_path: Path) -> None:
    async def scenario(s: LogStorage, clock: ManualClock) -> None:
        await s.create_topic("t", 1, {"index.interval.bytes": "200", "segment.bytes": "5000"})
        for i in range(200):
            await s.append(TP, make_batch([b"%d" % i] * (1 + i % 3)))
        assert os.path.getsize(tmp_path / "t-0" / segment_files(tmp_path, ".index")[0]) > 0
        end = (await s.list_offset(TP, LATEST_TIMESTAMP)).offset
        for offset in range(0, end, 7):
            result = await s.read(TP, offset, 1)
            [batch] = decode_batches(result.read())
            assert batch.header.base_offset <= offset <= batch.header.last_offset

    run(scenario, tmp_path)


def test_reads_in_flight_survive_segment_deletion(tmp_path: Path) -> None:
    async def scenario(s: LogStorage, clock: ManualClock) -> None:
        await s.create_topic("t", 1, {"segment.bytes": "100", "retention.ms": "1000"})
        await s.append(TP, make_batch([b"old"], timestamp=clock.time_ms() - 5000))
        await s.append(TP, make_batch([b"new"]))
        held = await s.read(TP, 0, 100)
        await s.run_maintenance()
        assert not (tmp_path / "t-0" / "00000000000000000000.log").exists()
        [batch] = decode_batches(held.read())
        assert batch.records[0].value == b"old"

    run(scenario, tmp_path)


def test_group_commit_shares_fsyncs(tmp_path: Path) -> None:
    async def scenario(s: LogStorage, clock: ManualClock) -> None:
        await s.create_topic("t", 4)
        before = s._flusher.passes
        appends = [
            s.append(TopicPartition("t", i % 4), make_batch([b"x"] * 10)) for i in range(200)
        ]
        results = await asyncio.gather(*appends)
        passes = s._flusher.passes - before
        assert len(results) == 200
        assert 1 <= passes < 100  # one pass covers many waiting appends
        for p in range(4):
            log = s._logs[TopicPartition("t", p)]
            assert log.recovery_point.next_offset == log.log_end_offset

    run(scenario, tmp_path)


def test_fsync_policy_flushes_each_append_and_os_none(tmp_path: Path) -> None:
    async def scenario(s: LogStorage, clock: ManualClock) -> None:
        await s.create_topic("sync", 1, {"luong.flush.policy": "fsync"})
        await s.create_topic("lazy", 1, {"luong.flush.policy": "os"})
        before = s._flusher.passes
        for _ in range(5):
            await s.append(TopicPartition("sync", 0), make_batch([b"x"]))
        assert s._flusher.passes - before == 5
        for _ in range(5):
            await s.append(TopicPartition("lazy", 0), make_batch([b"x"]))
        assert s._flusher.passes - before == 5
        await s.append(TopicPartition("sync", 0), make_batch([b"x"]), durable=False)
        assert s._flusher.passes - before == 5

    run(scenario, tmp_path)


def test_a_second_storage_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    async def scenario(s: LogStorage, clock: ManualClock) -> None:
        with pytest.raises(KafkaStorageError, match="in use"):
            LogStorage(str(tmp_path), clock)

    run(scenario, tmp_path)
    LogStorage(str(tmp_path))  # free again after close


def test_recovery_scans_only_past_the_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def write(s: LogStorage, clock: ManualClock) -> None:
        await s.create_topic("t", 1)
        for i in range(50):
            await s.append(TP, make_batch([b"%d" % i]))
        await s.checkpoint()
        await s.append(TP, make_batch([b"tail"]), durable=False)
        os.unlink(tmp_path / ".lock")  # as a killed process would leave it: unlocked
        s._closed = True  # skip the clean close: this is a crash

    async def scenario() -> None:
        clock = ManualClock()
        s = LogStorage(str(tmp_path), clock)
        await write(s, clock)
        scans: list[int] = []
        real = loader_module.recover_segment

        def spy(segment: object, position: int, interval: int, **kwargs: bool) -> int:
            scans.append(position)
            return real(segment, position, interval, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(loader_module, "recover_segment", spy)
        reopened = LogStorage(str(tmp_path), clock)
        tail = os.path.getsize(tmp_path / "t-0" / "00000000000000000000.log")
        assert scans and scans[0] == tail - len(make_batch([b"tail"]))  # the checkpoint
        assert (await reopened.list_offset(TP, LATEST_TIMESTAMP)).offset == 51
        await reopened.close()

    asyncio.run(scenario())


def test_torn_tail_is_cut_on_open(tmp_path: Path) -> None:
    async def scenario() -> None:
        s = LogStorage(str(tmp_path), ManualClock())
        await s.create_topic("t", 1)
        for i in range(3):
            await s.append(TP, make_batch([b"%d" % i]))
        await s.close()
        log_file = tmp_path / "t-0" / "00000000000000000000.log"
        (tmp_path / ".clean-shutdown").unlink()
        (tmp_path / "recovery-point-offset-checkpoint").unlink()
        with open(log_file, "ab") as file:
            file.write(make_batch([b"torn"])[:40])
        reopened = LogStorage(str(tmp_path), ManualClock())
        assert (await reopened.list_offset(TP, LATEST_TIMESTAMP)).offset == 3
        assert os.path.getsize(log_file) == 3 * len(make_batch([b"0"]))
        assert (await reopened.append(TP, make_batch([b"3"]))).base_offset == 3
        await reopened.close()

    asyncio.run(scenario())


def test_topics_survive_restart_and_deleted_ones_leave_no_files(tmp_path: Path) -> None:
    async def scenario() -> None:
        s = LogStorage(str(tmp_path), ManualClock())
        await s.create_topic("keep", 2)
        await s.create_topic("gone", 2)
        await s.delete_topic("gone")
        await s.close()
        directories = sorted(n for n in os.listdir(tmp_path) if (tmp_path / n).is_dir())
        assert directories == ["keep-0", "keep-1", "topics"]
        reopened = LogStorage(str(tmp_path), ManualClock())
        assert set(reopened.topics()) == {"keep"}
        await reopened.close()

    asyncio.run(scenario())


def test_a_background_checkpoint_follows_every_checkpoint_bytes(tmp_path: Path) -> None:
    async def scenario() -> None:
        s = LogStorage(str(tmp_path), ManualClock(), checkpoint_bytes=2000)
        await s.create_topic("t", 1, {"luong.flush.policy": "os"})
        for i in range(30):
            await s.append(TP, make_batch([b"%02d" % i]))
        assert s._checkpoint_task is not None
        await s._checkpoint_task
        points = json.loads((tmp_path / "recovery-point-offset-checkpoint").read_text())
        assert points["partitions"]["t-0"]["next_offset"] >= 2000 // len(make_batch([b"00"]))
        await s.close()

    asyncio.run(scenario())


def test_partition_stays_readable_while_the_cleaner_runs(tmp_path: Path) -> None:
    async def scenario(s: LogStorage, clock: ManualClock) -> None:
        await s.create_topic("t", 1, {"cleanup.policy": "compact", "segment.bytes": "20000"})
        for i in range(3000):
            await s.append(TP, make_batch([b"v%d" % i], keys=[b"key-%d" % (i % 50)]))
        cleaning = asyncio.ensure_future(s.run_maintenance())
        reads_during = 0
        while not cleaning.done():
            result = await s.read(TP, reads_during % 2900, 4096)
            assert decode_batches(result.read())  # whole, valid batches
            reads_during += 1
            await asyncio.sleep(0)
        await cleaning
        assert reads_during > 1
        remaining = [
            r for b in decode_batches((await s.read(TP, 0, 1 << 30)).read()) for r in b.records
        ]
        assert len(remaining) < 3000
        latest = {r.key: r.value for r in remaining}
        assert latest[b"key-0"] == b"v2950"  # compaction kept the latest values

    run(scenario, tmp_path)
