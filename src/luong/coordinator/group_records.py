"""The record format of group metadata in `__consumer_offsets` (Kafka's layout).

    key   (GroupMetadataKey, version 2):   version int16 = 2, group string
    value (GroupMetadataValue, version 3): version int16 = 3, protocol_type string,
        generation int32, protocol nullable string, leader nullable string,
        current_state_timestamp int64, members int32 count of
        [member_id string, group_instance_id nullable string, client_id string,
         client_host string, rebalance_timeout int32, session_timeout int32,
         subscription bytes, assignment bytes]
Strings are int16-length UTF-8 (-1: null); bytes are int32-length. A null value
(tombstone) deletes the group. The subscription is the member's metadata for the
group's chosen protocol only, as Kafka stores it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from luong.coordinator.record_fields import string
from luong.errors import CorruptRecordError

__all__ = [
    "GROUP_KEY_VERSION",
    "GroupSnapshot",
    "MemberSnapshot",
    "decode_group_key",
    "decode_group_value",
    "encode_group_key",
    "encode_group_value",
]

GROUP_KEY_VERSION = 2
VALUE_VERSION = 3
_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")
_INT64 = struct.Struct(">q")
_TIMEOUTS = struct.Struct(">ii")


@dataclass(frozen=True, slots=True)
class MemberSnapshot:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout_ms: int
    session_timeout_ms: int
    subscription: bytes
    assignment: bytes


@dataclass(frozen=True, slots=True)
class GroupSnapshot:
    """A group as it is persisted: Stable (with members) or Empty (without)."""

    protocol_type: str
    generation_id: int
    protocol_name: str | None
    leader_id: str | None
    state_timestamp_ms: int
    members: tuple[MemberSnapshot, ...]


def _bytes(data: bytes) -> bytes:
    return _INT32.pack(len(data)) + data


class _Reader:
    """Reads the fields above from `buf`, raising CorruptRecordError past its end."""

    def __init__(self, buf: bytes) -> None:
        self.buf, self.position = buf, 0

    def unpack(self, layout: struct.Struct) -> tuple[int, ...]:
        try:
            values = layout.unpack_from(self.buf, self.position)
        except struct.error as error:
            raise CorruptRecordError(f"group record: {error}") from None
        self.position += layout.size
        return values

    def take(self, length: int) -> bytes:
        end = self.position + length
        if length < 0 or end > len(self.buf):
            raise CorruptRecordError("group record field out of bounds")
        data, self.position = self.buf[self.position : end], end
        return data

    def nullable_string(self) -> str | None:
        (length,) = self.unpack(_INT16)
        return None if length == -1 else self.take(length).decode()

    def string(self) -> str:
        text = self.nullable_string()
        if text is None:
            raise CorruptRecordError("group record: null where a string is required")
        return text

    def bytes_(self) -> bytes:
        (length,) = self.unpack(_INT32)
        return self.take(length)


def encode_group_key(group: str) -> bytes:
    return _INT16.pack(GROUP_KEY_VERSION) + string(group)


def decode_group_key(key: bytes) -> str | None:
    """The group id of a group metadata key; None for other key versions (offsets)."""
    reader = _Reader(key)
    (version,) = reader.unpack(_INT16)
    return reader.string() if version == GROUP_KEY_VERSION else None


def encode_group_value(snapshot: GroupSnapshot) -> bytes:
    parts = [
        _INT16.pack(VALUE_VERSION),
        string(snapshot.protocol_type),
        _INT32.pack(snapshot.generation_id),
        string(snapshot.protocol_name),
        string(snapshot.leader_id),
        _INT64.pack(snapshot.state_timestamp_ms),
        _INT32.pack(len(snapshot.members)),
    ]
    for m in snapshot.members:
        parts += [
            string(m.member_id),
            string(m.group_instance_id),
            string(m.client_id),
            string(m.client_host),
            _TIMEOUTS.pack(m.rebalance_timeout_ms, m.session_timeout_ms),
            _bytes(m.subscription),
            _bytes(m.assignment),
        ]
    return b"".join(parts)


def decode_group_value(value: bytes) -> GroupSnapshot:
    """The snapshot in a version 3 value (the only version luong writes)."""
    reader = _Reader(value)
    (version,) = reader.unpack(_INT16)
    if version != VALUE_VERSION:
        raise CorruptRecordError(f"group record value version {version} is not handled")
    protocol_type = reader.string()
    (generation,) = reader.unpack(_INT32)
    protocol_name, leader_id = reader.nullable_string(), reader.nullable_string()
    (timestamp,) = reader.unpack(_INT64)
    (count,) = reader.unpack(_INT32)
    members = tuple(_read_member(reader) for _ in range(count))
    return GroupSnapshot(protocol_type, generation, protocol_name, leader_id, timestamp, members)


def _read_member(reader: _Reader) -> MemberSnapshot:
    member_id, instance_id = reader.string(), reader.nullable_string()
    client_id, client_host = reader.string(), reader.string()
    rebalance_ms, session_ms = reader.unpack(_TIMEOUTS)
    subscription, assignment = reader.bytes_(), reader.bytes_()
    return MemberSnapshot(
        member_id,
        instance_id,
        client_id,
        client_host,
        rebalance_ms,
        session_ms,
        subscription,
        assignment,
    )
