"""The storage conformance suite: one set of scenarios every engine must pass.

Use it by subclassing in a test module:

    class TestMyEngine(PersistentStorageConformance):   # or StorageConformance if
        def open(self, path, clock):                    # nothing survives a close
            return MyStorage(path, clock)

Each `test_*` method runs one scenario on a fresh storage in pytest's `tmp_path`
with a ManualClock; the storage is closed afterwards. Engines add no bespoke
contract tests: a behaviour of the contract belongs here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from luong.clock import ManualClock
from luong.errors import (
    CorruptRecordError,
    InvalidConfigError,
    InvalidPartitionsError,
    InvalidProducerEpochError,
    InvalidRecordError,
    InvalidTopicError,
    InvalidTxnStateError,
    MessageTooLargeError,
    OffsetOutOfRangeError,
    OutOfOrderSequenceError,
    TopicAlreadyExistsError,
    UnknownTopicOrPartitionError,
)
from luong.protocol.records import Record, build_batch, build_marker, decode_batches
from luong.storage.api import Storage
from luong.testing.records import make_batch
from luong.types import EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, MAX_TIMESTAMP, TopicPartition

__all__ = ["PersistentStorageConformance", "StorageConformance", "scenario", "values_from"]

TP = TopicPartition("t", 0)
SMALL_SEGMENTS = {"segment.bytes": "100"}  # every batch gets a segment of its own
Scenario = Callable[[Any, Storage, ManualClock], Awaitable[None]]


def scenario(func: Scenario) -> Callable[[Any, Path], None]:
    """Turn `async def test_x(self, storage, clock)` into a sync pytest test."""

    def test(self: StorageConformance, tmp_path: Path) -> None:
        asyncio.run(self.run_scenario(func, tmp_path))

    test.__name__, test.__doc__ = func.__name__, func.__doc__  # not wraps: pytest reads it
    return test


async def values_from(storage: Storage, tp: TopicPartition = TP, offset: int = 0) -> list[Any]:
    """(offset, key, value) of every record readable from `offset`."""
    result = await storage.read(tp, offset, 1 << 30)
    return [
        (r.offset, r.key, r.value) for batch in decode_batches(result.read()) for r in batch.records
    ]


class StorageConformance:
    """Scenarios of the Storage contract."""

    def open(self, path: Path, clock: ManualClock) -> Storage:
        raise NotImplementedError

    async def run_scenario(self, func: Scenario, tmp_path: Path) -> None:
        self.path = tmp_path / "data"
        self.clock = ManualClock()
        storage = self.open(self.path, self.clock)
        self.current = storage
        try:
            await func(self, storage, self.clock)
        finally:
            await self.current.close()

    async def reopen(self, storage: Storage) -> Storage:
        """Close and open again (persistent engines only)."""
        await storage.close()
        self.current = self.open(self.path, self.clock)
        return self.current

    # -- topics ----------------------------------------------------------------------

    @scenario
    async def test_create_topic_lists_it_with_configs(self, s: Storage, clock: ManualClock) -> None:
        info = await s.create_topic("orders", 3, {"retention.ms": "1000"})
        assert info.partitions == 3
        assert info.config.retention_ms == 1000
        assert info.config.overrides == {"retention.ms": "1000"}
        assert s.topics()["orders"] == info == s.find_topic("orders")
        assert s.find_topic("nope") is None
        assert s.topic("orders").topic_id == info.topic_id

    @scenario
    async def test_create_topic_refuses_bad_input(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1)
        with pytest.raises(TopicAlreadyExistsError):
            await s.create_topic("t", 1)
        for bad in ["", ".", "..", "a/b", "sp ace", "x" * 250]:
            with pytest.raises(InvalidTopicError):
                await s.create_topic(bad, 1)
        with pytest.raises(InvalidPartitionsError):
            await s.create_topic("zero", 0)
        with pytest.raises(InvalidConfigError, match=r"retention\.ms"):
            await s.create_topic("bad", 1, {"retention.ms": "-5"})
        with pytest.raises(InvalidConfigError, match=r"no\.such"):
            await s.create_topic("bad", 1, {"no.such": "1"})
        assert set(s.topics()) == {"t"}

    @scenario
    async def test_delete_topic_removes_data(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 2)
        await s.append(TP, make_batch([b"a"]))
        await s.delete_topic("t")
        assert "t" not in s.topics()
        with pytest.raises(UnknownTopicOrPartitionError):
            await s.read(TP, 0, 100)
        with pytest.raises(UnknownTopicOrPartitionError):
            await s.delete_topic("t")
        await s.create_topic("t", 1)
        assert await values_from(s) == []

    @scenario
    async def test_create_partitions_grows_only(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1)
        info = await s.create_partitions("t", 3)
        assert info.partitions == 3
        result = await s.append(TopicPartition("t", 2), make_batch([b"x"]))
        assert result.base_offset == 0
        with pytest.raises(InvalidPartitionsError):
            await s.create_partitions("t", 2)

    @scenario
    async def test_alter_configs_set_and_remove(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1, {"retention.ms": "1000"})
        info = await s.alter_topic_configs("t", {"retention.ms": None, "segment.bytes": "2000"})
        assert info.config.retention_ms == 604_800_000
        assert info.config.overrides == {"segment.bytes": "2000"}
        with pytest.raises(InvalidConfigError, match=r"cleanup\.policy"):
            await s.alter_topic_configs("t", {"cleanup.policy": "shred"})
        assert s.topic("t").config.overrides == {"segment.bytes": "2000"}

    # -- append and read -------------------------------------------------------------

    @scenario
    async def test_append_assigns_dense_offsets(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1)
        first = await s.append(TP, make_batch([b"a", b"b", b"c"]))
        second = await s.append(TP, make_batch([b"d"]) + make_batch([b"e", b"f"]))
        assert (first.base_offset, first.last_offset) == (0, 2)
        assert (second.base_offset, second.last_offset) == (3, 5)
        assert first.log_append_time_ms == -1
        assert [v for _, _, v in await values_from(s)] == [b"a", b"b", b"c", b"d", b"e", b"f"]
        assert [o for o, _, _ in await values_from(s)] == list(range(6))

    @scenario
    async def test_read_returns_stored_batch_bytes(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1)
        batch = make_batch([b"v1", b"v2"])
        await s.append(TP, make_batch([b"v0"]))
        await s.append(TP, batch)
        stored = (await s.read(TP, 1, 1 << 20)).read()
        assert stored[:8] == (1).to_bytes(8, "big")  # baseOffset stamped
        assert stored[16:] == batch[16:]  # everything from magic on is as sent

    @scenario
    async def test_read_from_inside_a_batch(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1)
        await s.append(TP, make_batch([b"a", b"b", b"c"]))
        await s.append(TP, make_batch([b"d"]))
        result = await s.read(TP, 1, 1 << 20)
        offsets = [r.offset for b in decode_batches(result.read()) for r in b.records]
        assert offsets == [0, 1, 2, 3]  # the whole batch holding offset 1, then the rest
        assert result.high_watermark == 4
        assert result.log_start_offset == 0

    @scenario
    async def test_read_respects_max_bytes_but_returns_one(
        self, s: Storage, clock: ManualClock
    ) -> None:
        await s.create_topic("t", 1, {"segment.bytes": "1000"})
        for i in range(30):
            await s.append(TP, make_batch([b"%03d" % i]))
        one = await s.read(TP, 0, 1)
        assert len(decode_batches(one.read())) == 1
        size = one.size
        some = await s.read(TP, 5, size * 7 + size // 2)
        batches = decode_batches(some.read())
        assert [b.header.base_offset for b in batches] == list(range(5, 12))
        everything = await s.read(TP, 0, 1 << 20)
        assert len(decode_batches(everything.read())) == 30

    @scenario
    async def test_read_out_of_range(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1)
        await s.append(TP, make_batch([b"a"]))
        assert (await s.read(TP, 1, 100)).regions == []
        with pytest.raises(OffsetOutOfRangeError):
            await s.read(TP, 2, 100)
        with pytest.raises(OffsetOutOfRangeError):
            await s.read(TP, -1, 100)
        with pytest.raises(UnknownTopicOrPartitionError):
            await s.read(TopicPartition("t", 1), 0, 100)
        with pytest.raises(UnknownTopicOrPartitionError):
            await s.read(TopicPartition("nope", 0), 0, 100)

    @scenario
    async def test_bad_batches_append_nothing(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1, {"max.message.bytes": "500"})
        good = make_batch([b"ok"])
        flipped = bytearray(make_batch([b"bad"]))
        flipped[-1] ^= 0xFF
        old_magic = bytearray(make_batch([b"old"]))
        old_magic[16] = 1
        cases: list[tuple[bytes, type[Exception]]] = [
            (good + bytes(flipped), CorruptRecordError),
            (good + good[:-3], CorruptRecordError),
            (good + good[:30], CorruptRecordError),
            (bytes(old_magic), InvalidRecordError),
            (good + make_batch([b"x" * 600]), MessageTooLargeError),
            (b"", InvalidRecordError),
        ]
        for payload, error in cases:
            with pytest.raises(error):
                await s.append(TP, payload)
        assert (await s.list_offset(TP, LATEST_TIMESTAMP)).offset == 0
        with pytest.raises(UnknownTopicOrPartitionError):
            await s.append(TopicPartition("t", 5), good)
        assert (await s.append(TP, good)).base_offset == 0

    @scenario
    async def test_append_listeners_hear_each_append(self, s: Storage, clock: ManualClock) -> None:
        heard: list[TopicPartition] = []
        s.add_append_listener(heard.append)
        await s.create_topic("t", 2)
        await s.append(TP, make_batch([b"a"]))
        await s.append(TopicPartition("t", 1), make_batch([b"b"]), durable=False)
        with pytest.raises(CorruptRecordError):
            await s.append(TP, make_batch([b"c"])[:-1])
        assert heard == [TP, TopicPartition("t", 1)]

    @scenario
    async def test_log_append_time_replaces_timestamps(
        self, s: Storage, clock: ManualClock
    ) -> None:
        await s.create_topic("t", 1, {"message.timestamp.type": "LogAppendTime"})
        result = await s.append(TP, make_batch([b"a", b"b"], timestamp=5))
        assert result.log_append_time_ms == clock.time_ms()
        batch = decode_batches((await s.read(TP, 0, 1 << 20)).read())[0]
        assert [r.timestamp for r in batch.records] == [clock.time_ms()] * 2

    # -- offsets ---------------------------------------------------------------------

    @scenario
    async def test_list_offsets(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1, SMALL_SEGMENTS)
        assert await s.list_offset(TP, MAX_TIMESTAMP) == (-1, -1)
        await s.append(TP, make_batch([b"a", b"b"], timestamp=1000))  # offsets 0-1, ts 1000-1001
        await s.append(TP, make_batch([b"c", b"d"], timestamp=3000))  # 2-3, 3000-3001
        await s.append(TP, make_batch([b"e"], timestamp=2000))  # 4, 2000
        assert (await s.list_offset(TP, EARLIEST_TIMESTAMP)).offset == 0
        assert (await s.list_offset(TP, LATEST_TIMESTAMP)).offset == 5
        assert await s.list_offset(TP, 1001) == (1, 1001)
        assert await s.list_offset(TP, 1002) == (2, 3000)
        assert await s.list_offset(TP, 3001) == (3, 3001)
        assert await s.list_offset(TP, 3002) == (-1, -1)
        assert await s.list_offset(TP, 0) == (0, 1000)
        assert await s.list_offset(TP, MAX_TIMESTAMP) == (3, 3001)

    @scenario
    async def test_delete_records_moves_log_start(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1, SMALL_SEGMENTS)
        for i in range(4):
            await s.append(TP, make_batch([b"%d" % i, b"x"]))  # offsets 2i, 2i+1
        assert await s.delete_records(TP, 3) == 3
        assert (await s.list_offset(TP, EARLIEST_TIMESTAMP)).offset == 3
        with pytest.raises(OffsetOutOfRangeError):
            await s.read(TP, 2, 100)
        assert (await values_from(s, offset=3))[0][0] == 2  # the batch holding 3
        assert (await s.read(TP, 3, 100)).log_start_offset == 3
        with pytest.raises(OffsetOutOfRangeError):
            await s.delete_records(TP, 9)
        assert await s.delete_records(TP, -1) == 8
        assert await values_from(s, offset=8) == []
        assert (await s.append(TP, make_batch([b"n"]))).base_offset == 8
        assert (await s.list_offset(TP, EARLIEST_TIMESTAMP)).offset == 8

    # -- retention and compaction ----------------------------------------------------

    @scenario
    async def test_retention_by_time(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1, {**SMALL_SEGMENTS, "retention.ms": "60000"})
        now = clock.time_ms()
        await s.append(TP, make_batch([b"old"], timestamp=now - 120_000))
        await s.append(TP, make_batch([b"new"], timestamp=now))
        await s.run_maintenance()
        assert (await s.list_offset(TP, EARLIEST_TIMESTAMP)).offset == 1
        assert await values_from(s, offset=1) == [(1, b"k0", b"new")]
        clock.advance(61_000)
        await s.run_maintenance()
        assert (await s.list_offset(TP, EARLIEST_TIMESTAMP)).offset == 2
        assert (await s.append(TP, make_batch([b"next"]))).base_offset == 2

    @scenario
    async def test_retention_by_size(self, s: Storage, clock: ManualClock) -> None:
        size = len(make_batch([b"0"]))
        limit = 2 * size + size // 2
        await s.create_topic("t", 1, {**SMALL_SEGMENTS, "retention.bytes": str(limit)})
        for i in range(5):
            await s.append(TP, make_batch([b"%d" % i]))
        await s.run_maintenance()
        start = (await s.list_offset(TP, EARLIEST_TIMESTAMP)).offset
        assert start == 2  # as Kafka: drop the oldest while the rest still holds the limit
        assert [v for _, _, v in await values_from(s, offset=start)] == [b"2", b"3", b"4"]

    @scenario
    async def test_compaction_keeps_latest_per_key(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1, {**SMALL_SEGMENTS, "cleanup.policy": "compact"})
        for key, value in [(b"a", b"1"), (b"b", b"1"), (b"a", b"2"), (b"c", b"1"), (b"z", b"9")]:
            await s.append(TP, make_batch([value], keys=[key]))
        await s.run_maintenance()
        expected = [(1, b"b", b"1"), (2, b"a", b"2"), (3, b"c", b"1"), (4, b"z", b"9")]
        assert await values_from(s) == expected
        assert (await s.list_offset(TP, LATEST_TIMESTAMP)).offset == 5
        await s.append(TP, make_batch([b"3"], keys=[b"b"]))
        await s.run_maintenance()  # b=3 is still in the active segment: b=1 stays
        assert [o for o, _, _ in await values_from(s)] == [1, 2, 3, 4, 5]
        await s.append(TP, make_batch([b"0"], keys=[b"y"]))
        await s.run_maintenance()
        assert [o for o, _, _ in await values_from(s)] == [2, 3, 4, 5, 6]

    @scenario
    async def test_compaction_within_a_batch(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1, {**SMALL_SEGMENTS, "cleanup.policy": "compact"})
        await s.append(TP, make_batch([b"1", b"1", b"2"], keys=[b"a", b"b", b"a"]))
        await s.append(TP, make_batch([b"end"], keys=[b"e"]))
        await s.run_maintenance()
        assert await values_from(s) == [(1, b"b", b"1"), (2, b"a", b"2"), (3, b"e", b"end")]

    @scenario
    async def test_compaction_drops_old_tombstones(self, s: Storage, clock: ManualClock) -> None:
        config = {**SMALL_SEGMENTS, "cleanup.policy": "compact", "delete.retention.ms": "1000"}
        await s.create_topic("t", 1, config)
        now = clock.time_ms()
        await s.append(TP, make_batch([b"1"], keys=[b"a"], timestamp=now))
        await s.append(TP, make_batch([None], keys=[b"a"], timestamp=now))
        await s.append(TP, make_batch([b"x"], keys=[b"b"], timestamp=now))
        await s.run_maintenance()
        assert await values_from(s) == [(1, b"a", None), (2, b"b", b"x")]
        clock.advance(2000)
        await s.append(TP, make_batch([b"y"], keys=[b"c"], timestamp=clock.time_ms()))
        await s.run_maintenance()
        assert await values_from(s) == [(2, b"b", b"x"), (3, b"c", b"y")]

    @scenario
    async def test_compaction_lag_protects_recent(self, s: Storage, clock: ManualClock) -> None:
        config = {**SMALL_SEGMENTS, "cleanup.policy": "compact", "min.compaction.lag.ms": "5000"}
        await s.create_topic("t", 1, config)
        now = clock.time_ms()
        for value in [b"1", b"2", b"3"]:
            await s.append(TP, make_batch([value], keys=[b"a"], timestamp=now))
        await s.run_maintenance()
        assert len(await values_from(s)) == 3
        clock.advance(6000)
        await s.run_maintenance()
        assert await values_from(s) == [(1, b"a", b"2"), (2, b"a", b"3")]

    @scenario
    async def test_compacted_topic_refuses_keyless(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1, {"cleanup.policy": "compact"})
        with pytest.raises(InvalidRecordError, match="key"):
            await s.append(TP, make_batch([b"v"], keys=[None]))
        assert (await s.list_offset(TP, LATEST_TIMESTAMP)).offset == 0

    # -- idempotent producers --------------------------------------------------------

    @scenario
    async def test_a_retried_batch_is_not_written_twice(
        self, s: Storage, clock: ManualClock
    ) -> None:
        await s.create_topic("t", 1)
        first = make_batch([b"a", b"b", b"c"], producer=(7, 0, 0))
        assert (await s.append(TP, first)).base_offset == 0
        retried = await s.append(TP, first)
        assert (retried.base_offset, retried.last_offset) == (0, 2)
        assert (await s.append(TP, make_batch([b"d"], producer=(7, 0, 3)))).base_offset == 3
        assert (await s.append(TP, first)).base_offset == 0  # still among the last five
        plain = make_batch([b"x"])
        assert [(await s.append(TP, plain)).base_offset for _ in range(2)] == [4, 5]
        assert [v for _, _, v in await values_from(s)] == [b"a", b"b", b"c", b"d", b"x", b"x"]

    @scenario
    async def test_only_the_last_five_batches_are_remembered(
        self, s: Storage, clock: ManualClock
    ) -> None:
        await s.create_topic("t", 1)
        batches = [make_batch([b"%d" % i], producer=(7, 0, i)) for i in range(6)]
        for batch in batches:
            await s.append(TP, batch)
        assert (await s.append(TP, batches[1])).base_offset == 1
        with pytest.raises(OutOfOrderSequenceError):
            await s.append(TP, batches[0])  # fell out of the window: a sequence gap
        assert (await s.list_offset(TP, LATEST_TIMESTAMP)).offset == 6

    @scenario
    async def test_sequence_and_epoch_rules(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1)
        await s.append(TP, make_batch([b"a"], producer=(7, 1, 0)))
        with pytest.raises(OutOfOrderSequenceError):
            await s.append(TP, make_batch([b"gap"], producer=(7, 1, 2)))
        with pytest.raises(InvalidProducerEpochError):
            await s.append(TP, make_batch([b"old"], producer=(7, 0, 1)))
        with pytest.raises(OutOfOrderSequenceError):
            await s.append(TP, make_batch([b"new epoch"], producer=(7, 2, 5)))
        assert (await s.append(TP, make_batch([b"b"], producer=(7, 2, 0)))).base_offset == 1
        # a producer this partition has no state for may start anywhere (as Kafka)
        assert (await s.append(TP, make_batch([b"c"], producer=(8, 0, 41)))).base_offset == 2
        assert [v for _, _, v in await values_from(s)] == [b"a", b"b", b"c"]

    @scenario
    async def test_a_request_with_a_bad_batch_appends_none(
        self, s: Storage, clock: ManualClock
    ) -> None:
        await s.create_topic("t", 1)
        good = make_batch([b"a"], producer=(7, 0, 0))
        gap = make_batch([b"b"], producer=(7, 0, 5))
        with pytest.raises(OutOfOrderSequenceError):
            await s.append(TP, good + gap)
        assert (await s.list_offset(TP, LATEST_TIMESTAMP)).offset == 0
        both = good + make_batch([b"b"], producer=(7, 0, 1))
        assert (await s.append(TP, both)).last_offset == 1

    @scenario
    async def test_idle_producers_expire(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1)
        batch = make_batch([b"a"], producer=(7, 0, 0))
        await s.append(TP, batch)
        clock.advance(5_000)
        await s.expire_producers(10_000)
        assert (await s.append(TP, batch)).base_offset == 0  # remembered
        clock.advance(10_000)
        await s.expire_producers(10_000)
        assert (await s.append(TP, batch)).base_offset == 1  # forgotten: written again

    # -- transactions ----------------------------------------------------------------

    @scenario
    async def test_read_committed_stops_at_open_transactions(
        self, s: Storage, clock: ManualClock
    ) -> None:
        await s.create_topic("t", 1)
        await s.append(TP, make_batch([b"t1", b"t2"], producer=(7, 0, 0), transactional=True))
        await s.append(TP, make_batch([b"plain"]))
        committed = await s.read(TP, 0, 1 << 20, committed=True)
        assert (committed.regions, committed.last_stable_offset) == ([], 0)
        assert (await s.list_offset(TP, LATEST_TIMESTAMP, committed=True)).offset == 0
        everything = await s.read(TP, 0, 1 << 20)
        assert len(decode_batches(everything.read())) == 2
        assert everything.last_stable_offset == 0
        marker = await s.write_marker(TP, 7, 0, commit=True, coordinator_epoch=4)
        assert marker.base_offset == 3
        committed = await s.read(TP, 0, 1 << 20, committed=True)
        assert committed.last_stable_offset == 4 and committed.aborted == []
        batches = decode_batches(committed.read())
        assert [b.header.is_control for b in batches] == [False, False, True]

    @scenario
    async def test_aborted_transactions_are_listed_for_read_committed(
        self, s: Storage, clock: ManualClock
    ) -> None:
        await s.create_topic("t", 1)
        await s.append(TP, make_batch([b"a"], producer=(8, 0, 0), transactional=True))
        await s.append(TP, make_batch([b"b"], producer=(9, 0, 0), transactional=True))
        await s.write_marker(TP, 8, 0, commit=False)  # offset 2
        assert (await s.read(TP, 0, 1 << 20, committed=True)).last_stable_offset == 1
        await s.write_marker(TP, 9, 0, commit=True)  # offset 3
        result = await s.read(TP, 0, 1 << 20, committed=True)
        assert [tuple(t) for t in result.aborted] == [(8, 0, 2)]
        assert (await s.read(TP, 3, 1 << 20, committed=True)).aborted == []

    @scenario
    async def test_markers_fence_older_epochs(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1)
        await s.append(TP, make_batch([b"a"], producer=(8, 1, 0), transactional=True))
        with pytest.raises(InvalidProducerEpochError):
            await s.write_marker(TP, 8, 0, commit=True)
        await s.write_marker(TP, 8, 2, commit=False)  # the coordinator aborts, epoch bumped
        with pytest.raises(InvalidProducerEpochError):
            await s.append(TP, make_batch([b"zombie"], producer=(8, 1, 1), transactional=True))
        with pytest.raises(InvalidTxnStateError):
            marker = build_marker(8, 2, True, 0, 0)
            await s.append(TP, marker)  # a client's control batch


class PersistentStorageConformance(StorageConformance):
    """Scenarios for engines whose data survives close and reopen."""

    # -- persistence -----------------------------------------------------------------

    @scenario
    async def test_reopen_keeps_everything(self, s: Storage, clock: ManualClock) -> None:
        info = await s.create_topic("t", 2, {**SMALL_SEGMENTS, "retention.ms": "99999999"})
        for i in range(5):
            await s.append(TP, make_batch([b"%d" % i]))
        await s.append(TopicPartition("t", 1), make_batch([b"p1"]))
        await s.delete_records(TP, 2)
        before = await values_from(s, offset=2)
        s = await self.reopen(s)
        assert s.topic("t").topic_id == info.topic_id
        assert s.topic("t").config.retention_ms == 99_999_999
        assert await values_from(s, offset=2) == before
        assert (await s.list_offset(TP, EARLIEST_TIMESTAMP)).offset == 2
        assert (await s.append(TP, make_batch([b"5"]))).base_offset == 5
        assert await values_from(s, TopicPartition("t", 1)) == [(0, b"k0", b"p1")]

    @scenario
    async def test_producer_state_survives_reopen(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1, SMALL_SEGMENTS)
        for i in range(3):
            await s.append(TP, make_batch([b"%d" % i], producer=(7, 0, i)))
        s = await self.reopen(s)
        assert (await s.append(TP, make_batch([b"2"], producer=(7, 0, 2)))).base_offset == 2
        with pytest.raises(OutOfOrderSequenceError):
            await s.append(TP, make_batch([b"gap"], producer=(7, 0, 9)))
        await s.append(TP, make_batch([b"3"], producer=(7, 0, 3)))
        s = await self.reopen(s)
        assert (await s.append(TP, make_batch([b"3"], producer=(7, 0, 3)))).base_offset == 3
        assert (await s.list_offset(TP, LATEST_TIMESTAMP)).offset == 4

    @scenario
    async def test_transactions_survive_reopen(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1, SMALL_SEGMENTS)
        await s.append(TP, make_batch([b"a"], producer=(8, 0, 0), transactional=True))
        await s.write_marker(TP, 8, 0, commit=False)
        await s.append(TP, make_batch([b"b"], producer=(9, 0, 0), transactional=True))
        s = await self.reopen(s)
        result = await s.read(TP, 0, 1 << 20, committed=True)
        assert result.last_stable_offset == 2
        assert [tuple(t) for t in result.aborted] == [(8, 0, 1)]
        await s.write_marker(TP, 9, 0, commit=True)
        assert (await s.read(TP, 0, 1 << 20, committed=True)).last_stable_offset == 4

    @scenario
    async def test_reopen_after_compaction(self, s: Storage, clock: ManualClock) -> None:
        await s.create_topic("t", 1, {**SMALL_SEGMENTS, "cleanup.policy": "compact"})
        records = [Record(i, 1000 + i, b"k%d" % (i % 2), b"v%d" % i) for i in range(6)]
        for record in records:
            await s.append(TP, build_batch([Record(0, record.timestamp, record.key, record.value)]))
        await s.run_maintenance()
        before = await values_from(s)
        s = await self.reopen(s)
        assert before == [(3, b"k1", b"v3"), (4, b"k0", b"v4"), (5, b"k1", b"v5")]
        assert await values_from(s) == before
        assert (await s.list_offset(TP, LATEST_TIMESTAMP)).offset == 6
