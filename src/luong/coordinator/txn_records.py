"""The record formats of `__transaction_state`.

Transactions use Kafka's layout:

    key   (TransactionLogKey, version 0):   version int16 = 0, transactional_id string
    value (TransactionLogValue, version 0): version int16 = 0, producer_id int64,
          producer_epoch int16, transaction_timeout_ms int32, transaction_status int8,
          transaction_partitions nullable array (int32 count, -1: null) of
          [topic string, partition_ids array of int32],
          transaction_last_update_timestamp_ms int64, transaction_start_timestamp_ms int64

A null value (tombstone) forgets the transactional id. Producer ids are handed out
in blocks, each reserved by a luong record (Kafka keeps these in its controller):

    key   (ProducerIdBlockKey, luong):  version int16 = 100
    value:                              version int16 = 0, block_start int64,
                                        block_end int64 (exclusive)

All records of the block key share one key, so compaction keeps only the newest.
Strings are int16-length UTF-8.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from luong.coordinator.record_fields import read_string, string
from luong.errors import CorruptRecordError

__all__ = [
    "BLOCK_KEY",
    "TXN_KEY_VERSION",
    "TxnLogValue",
    "decode_block_value",
    "decode_txn_key",
    "decode_txn_value",
    "encode_block_value",
    "encode_txn_key",
    "encode_txn_value",
    "group_partitions",
]

TXN_KEY_VERSION = 0
BLOCK_KEY_VERSION = 100
_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")
_VALUE_HEAD = struct.Struct(">hqhib")  # version, producer id, epoch, timeout, status
_TIMES = struct.Struct(">qq")
_BLOCK = struct.Struct(">hqq")
BLOCK_KEY = _INT16.pack(BLOCK_KEY_VERSION)


@dataclass(frozen=True, slots=True)
class TxnLogValue:
    producer_id: int
    producer_epoch: int
    timeout_ms: int
    status: int  # Kafka's TransactionState id (0 Empty .. 7 PrepareEpochFence)
    partitions: tuple[tuple[str, tuple[int, ...]], ...]
    last_update_ms: int
    start_ms: int


def encode_txn_key(transactional_id: str) -> bytes:
    return _INT16.pack(TXN_KEY_VERSION) + string(transactional_id)


def decode_txn_key(key: bytes) -> tuple[int, str | None]:
    """(key version, transactional id); the id is None for the block key."""
    try:
        (version,) = _INT16.unpack_from(key, 0)
        if version != TXN_KEY_VERSION:
            return version, None
        return version, read_string(key, 2)[0]
    except struct.error as error:
        raise CorruptRecordError(f"transaction record key: {error}") from None


def encode_txn_value(value: TxnLogValue) -> bytes:
    parts = [
        _VALUE_HEAD.pack(
            0, value.producer_id, value.producer_epoch, value.timeout_ms, value.status
        ),
        _INT32.pack(len(value.partitions)),
    ]
    for topic, partitions in value.partitions:
        parts += [string(topic), _INT32.pack(len(partitions))]
        parts += [_INT32.pack(p) for p in partitions]
    parts.append(_TIMES.pack(value.last_update_ms, value.start_ms))
    return b"".join(parts)


def decode_txn_value(value: bytes) -> TxnLogValue:
    try:
        _, producer_id, epoch, timeout, status = _VALUE_HEAD.unpack_from(value, 0)
        position = _VALUE_HEAD.size
        (count,) = _INT32.unpack_from(value, position)
        position += 4
        topics: list[tuple[str, tuple[int, ...]]] = []
        for _ in range(max(count, 0)):
            topic, position = read_string(value, position)
            (n,) = _INT32.unpack_from(value, position)
            partitions = struct.unpack_from(f">{n}i", value, position + 4)
            position += 4 + 4 * n
            topics.append((topic, tuple(partitions)))
        last_update, start = _TIMES.unpack_from(value, position)
    except struct.error as error:
        raise CorruptRecordError(f"transaction record value: {error}") from None
    return TxnLogValue(producer_id, epoch, timeout, status, tuple(topics), last_update, start)


def encode_block_value(start: int, end: int) -> bytes:
    return _BLOCK.pack(0, start, end)


def decode_block_value(value: bytes) -> tuple[int, int]:
    try:
        _, start, end = _BLOCK.unpack_from(value, 0)
    except struct.error as error:
        raise CorruptRecordError(f"producer id block record: {error}") from None
    return start, end


def group_partitions(
    partitions: Sequence[tuple[str, int]],
) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """(topic, partition) pairs grouped by topic, both sorted (the value's layout)."""
    by_topic: dict[str, list[int]] = {}
    for topic, partition in sorted(partitions):
        by_topic.setdefault(topic, []).append(partition)
    return tuple((topic, tuple(ps)) for topic, ps in by_topic.items())
