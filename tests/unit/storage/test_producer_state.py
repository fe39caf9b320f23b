"""The producer state table's rules, and LogStorage rebuilding it on open from its
checkpoint snapshot plus a scan of the batches after it."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from luong.clock import ManualClock
from luong.errors import InvalidTxnStateError, OutOfOrderSequenceError
from luong.protocol.records import Record, build_batch
from luong.storage.log import LogStorage
from luong.storage.producers import INT32_MAX, AbortedTxn, ProducerStateTable
from luong.testing import make_batch
from luong.types import TopicPartition

TP = TopicPartition("t", 0)
CHECKPOINT = "recovery-point-offset-checkpoint"


def batch(pid: int, epoch: int, seq: int, count: int = 1, txn: bool = False) -> memoryview:
    values: list[bytes | None] = [b"v"] * count
    return memoryview(make_batch(values, producer=(pid, epoch, seq), transactional=txn))


def marker(pid: int, epoch: int, commit: bool, coordinator_epoch: int = 3) -> memoryview:
    record = Record(
        0, 0, b"\x00\x00\x00" + bytes([commit]), b"\x00\x00" + coordinator_epoch.to_bytes(4, "big")
    )
    return memoryview(
        build_batch(
            [record], control=True, transactional=True, producer_id=pid, producer_epoch=epoch
        )
    )


def test_sequences_wrap_from_int32_max_to_zero() -> None:
    table = ProducerStateTable()
    table.record([batch(5, 0, INT32_MAX - 1, count=2)], 0, 0)  # sequences MAX-1, MAX
    assert table.check([batch(5, 0, 0)]) is None
    with pytest.raises(OutOfOrderSequenceError):
        table.check([batch(5, 0, 1)])


def test_a_producer_with_an_open_transaction_may_not_write_outside_it() -> None:
    table = ProducerStateTable()
    table.record([batch(5, 0, 0, txn=True)], 10, 0)
    assert table.first_unstable_offset() == 10
    with pytest.raises(InvalidTxnStateError):
        table.check([batch(5, 0, 1)])
    with pytest.raises(InvalidTxnStateError):
        table.check([marker(5, 0, commit=True)])  # clients never write markers


def test_markers_end_transactions_and_aborts_are_listed() -> None:
    table = ProducerStateTable()
    table.record([batch(5, 0, 0, count=3, txn=True)], 10, 0)  # offsets 10-12
    table.record([batch(6, 0, 0, txn=True)], 13, 0)
    table.record([marker(5, 0, commit=False)], 14, 0)
    assert table.first_unstable_offset() == 13
    table.record([marker(6, 0, commit=True)], 15, 0)
    assert table.first_unstable_offset() is None
    assert table.aborted == [AbortedTxn(5, 10, 14)]
    assert table.aborted_between(0, 10) == [] and table.aborted_between(12, 20) == table.aborted
    assert table.producers[6].coordinator_epoch == 3
    table.truncate_before(15)
    assert table.aborted == []


def test_snapshot_round_trip() -> None:
    table = ProducerStateTable()
    table.record([batch(5, 2, 0, count=2), batch(6, 0, 0, txn=True)], 0, 99)
    table.record([batch(7, 0, 0, txn=True), marker(7, 0, commit=False)], 3, 99)
    again = ProducerStateTable.from_json(json.loads(json.dumps(table.to_json())))
    assert again.producers == table.producers and again.aborted == table.aborted


# -- LogStorage: snapshot plus scan -----------------------------------------------------


async def write(path: Path, pids: range, first_seq: int, keep_checkpoint: Path | None) -> None:
    storage = LogStorage(str(path), ManualClock())
    if "t" not in storage.topics():
        await storage.create_topic("t", 1, {"segment.bytes": "200"})
    for pid in pids:
        await storage.append(TP, make_batch([b"v"], producer=(pid, 0, first_seq)))
    await storage.checkpoint()
    if keep_checkpoint is not None:
        shutil.copy(path / CHECKPOINT, keep_checkpoint)
    await storage.close()


async def retry_offsets(path: Path, pids: range, seq: int) -> list[int]:
    storage = LogStorage(str(path), ManualClock())
    try:
        return [
            (await storage.append(TP, make_batch([b"v"], producer=(pid, 0, seq)))).base_offset
            for pid in pids
        ]
    finally:
        await storage.close()


def test_state_after_the_snapshot_is_rebuilt_by_scanning(tmp_path: Path) -> None:
    """As after a crash: the checkpoint holds the state of the first writes only."""
    data, old = tmp_path / "data", tmp_path / "old-checkpoint"
    asyncio.run(write(data, range(1, 4), 0, old))  # offsets 0-2, in the snapshot
    asyncio.run(write(data, range(4, 7), 0, None))  # offsets 3-5, after it
    shutil.copy(old, data / CHECKPOINT)  # the newer snapshot never made it to disk
    assert asyncio.run(retry_offsets(data, range(1, 7), 0)) == [0, 1, 2, 3, 4, 5]
    with pytest.raises(OutOfOrderSequenceError):
        asyncio.run(retry_offsets(data, range(6, 7), 7))


def test_without_a_snapshot_or_with_one_past_the_end_the_log_is_scanned(tmp_path: Path) -> None:
    data = tmp_path / "data"
    asyncio.run(write(data, range(1, 4), 0, None))
    checkpoint = json.loads((data / CHECKPOINT).read_text())
    del checkpoint["producers"]
    (data / CHECKPOINT).write_text(json.dumps(checkpoint))
    assert asyncio.run(retry_offsets(data, range(1, 4), 0)) == [0, 1, 2]
    checkpoint["producers"] = {"t-0": {"offset": 99, "producers": [], "aborted": []}}
    (data / CHECKPOINT).write_text(json.dumps(checkpoint))
    assert asyncio.run(retry_offsets(data, range(1, 4), 0)) == [0, 1, 2]


def test_transactions_are_rebuilt_by_scanning(tmp_path: Path) -> None:
    data = tmp_path / "data"

    async def first() -> None:
        storage = LogStorage(str(data), ManualClock())
        await storage.create_topic("t", 1, {"segment.bytes": "200"})
        await storage.append(TP, make_batch([b"a"], producer=(8, 0, 0), transactional=True))
        await storage.write_marker(TP, 8, 0, commit=False)
        await storage.append(TP, make_batch([b"b"], producer=(9, 0, 0), transactional=True))
        await storage.close()

    async def second() -> tuple[int, list[tuple[int, int, int]]]:
        storage = LogStorage(str(data), ManualClock())
        try:
            result = await storage.read(TP, 0, 1 << 20, committed=True)
            return result.last_stable_offset, [tuple(t) for t in result.aborted]
        finally:
            await storage.close()

    asyncio.run(first())
    checkpoint = json.loads((data / CHECKPOINT).read_text())
    del checkpoint["producers"]
    (data / CHECKPOINT).write_text(json.dumps(checkpoint))
    assert asyncio.run(second()) == (2, [(8, 0, 1)])
