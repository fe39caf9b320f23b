"""The record format of committed offsets in `__consumer_offsets` (Kafka's layout).

    key   (OffsetCommitKey, version 1):   version int16 = 1, group string,
                                          topic string, partition int32
    value (OffsetCommitValue, version 3): version int16 = 3, offset int64,
                                          leader_epoch int32, metadata string,
                                          commit_timestamp int64
A null value (tombstone) deletes the committed offset. Strings are int16-length
UTF-8. Records of other key versions (group metadata, version 2: group_records.py)
share the topic and are skipped by the offset store.
"""

from __future__ import annotations

import struct

from luong.coordinator.record_fields import read_string, string
from luong.errors import CorruptRecordError

__all__ = ["OFFSET_KEY_VERSION", "decode_key", "decode_value", "encode_key", "encode_value"]

OFFSET_KEY_VERSION = 1
VALUE_VERSION = 3
_INT16 = struct.Struct(">h")
_VALUE_HEAD = struct.Struct(">hqi")  # version, offset, leader epoch
_INT32 = struct.Struct(">i")
_INT64 = struct.Struct(">q")


def encode_key(group: str, topic: str, partition: int) -> bytes:
    return _INT16.pack(OFFSET_KEY_VERSION) + string(group) + string(topic) + _INT32.pack(partition)


def decode_key(key: bytes) -> tuple[int, tuple[str, str, int] | None]:
    """(key version, (group, topic, partition)) — None for key versions not handled."""
    try:
        (version,) = _INT16.unpack_from(key, 0)
        if version != OFFSET_KEY_VERSION:
            return version, None
        group, position = read_string(key, 2)
        topic, position = read_string(key, position)
        (partition,) = _INT32.unpack_from(key, position)
    except struct.error as error:
        raise CorruptRecordError(f"offset record key: {error}") from None
    return version, (group, topic, partition)


def encode_value(offset: int, leader_epoch: int, metadata: str, commit_timestamp: int) -> bytes:
    return (
        _VALUE_HEAD.pack(VALUE_VERSION, offset, leader_epoch)
        + string(metadata)
        + _INT64.pack(commit_timestamp)
    )


def decode_value(value: bytes) -> tuple[int, int, str, int]:
    """(offset, leader_epoch, metadata, commit_timestamp)."""
    try:
        _, offset, leader_epoch = _VALUE_HEAD.unpack_from(value, 0)
        metadata, position = read_string(value, _VALUE_HEAD.size)
        (timestamp,) = _INT64.unpack_from(value, position)
    except struct.error as error:
        raise CorruptRecordError(f"offset record value: {error}") from None
    return offset, leader_epoch, metadata, timestamp
