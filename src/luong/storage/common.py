"""Rules every engine applies the same way: names, partitions, append checks, lookups."""

from __future__ import annotations

import re
import struct
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace

from luong.config import TopicConfig
from luong.errors import (
    InvalidPartitionsError,
    InvalidRecordError,
    InvalidTopicError,
    MessageTooLargeError,
    OffsetOutOfRangeError,
    TopicAlreadyExistsError,
    UnknownTopicOrPartitionError,
)
from luong.protocol.records import BatchHeader, decode_batch, split_batches
from luong.storage.api import OffsetAndTimestamp, TopicInfo
from luong.types import TopicPartition

__all__ = [
    "check_delete_records_offset",
    "check_fetch_offset",
    "check_partition",
    "check_partition_count",
    "first_record_at_or_after",
    "grown_topic",
    "max_timestamp_record",
    "new_topic",
    "validate_batches",
    "validate_topic_name",
]

MAX_TOPIC_NAME_LENGTH = 249
_INT32 = struct.Struct(">i")  # recordCount at 57, lastOffsetDelta at 23
_LEGAL_TOPIC_NAME = re.compile(r"[a-zA-Z0-9._-]+")
MAX_PARTITIONS = 100_000


def validate_topic_name(name: str) -> None:
    """Kafka's rule: 1-249 of [a-zA-Z0-9._-], and not "." or ".."."""
    if not name or name in {".", ".."}:
        raise InvalidTopicError(f"topic name {name!r} is illegal")
    if len(name) > MAX_TOPIC_NAME_LENGTH:
        raise InvalidTopicError(f"topic name is longer than {MAX_TOPIC_NAME_LENGTH} characters")
    if not _LEGAL_TOPIC_NAME.fullmatch(name):
        raise InvalidTopicError(
            f"topic name {name!r} has characters other than ASCII letters, digits, '.', '_', '-'"
        )


def check_partition_count(count: int) -> None:
    if not 1 <= count <= MAX_PARTITIONS:
        raise InvalidPartitionsError(f"partition count {count} is not in [1, {MAX_PARTITIONS}]")


def new_topic(
    name: str,
    partitions: int,
    configs: Mapping[str, str | None] | None,
    existing: Mapping[str, TopicInfo],
    defaults: Mapping[str, str] | None = None,
) -> TopicInfo:
    """Validate a CreateTopics request and give the topic its id; `defaults` are the
    broker-level topic defaults."""
    validate_topic_name(name)
    check_partition_count(partitions)
    config = TopicConfig.from_overrides(configs, defaults)
    if name in existing:
        raise TopicAlreadyExistsError(f"topic {name!r} already exists")
    return TopicInfo(name, uuid.uuid4(), partitions, config)


def grown_topic(info: TopicInfo, total: int) -> TopicInfo:
    """Validate a CreatePartitions request: partitions only grow."""
    if total <= info.partitions:
        raise InvalidPartitionsError(
            f"topic {info.name!r} has {info.partitions} partitions; {total} would not grow it"
        )
    check_partition_count(total)
    return replace(info, partitions=total)


def check_partition(info: TopicInfo | None, tp: TopicPartition) -> None:
    if info is None or not 0 <= tp.partition < info.partitions:
        raise UnknownTopicOrPartitionError(f"unknown topic or partition {tp}")


def validate_batches(records: bytes | memoryview, config: TopicConfig) -> list[memoryview]:
    """Split and check a produce payload: CRC, magic, size limit, keys when compacted.

    Raises before anything is stored, so a request is appended whole or not at all.
    """
    batches = split_batches(records)
    if not batches:
        raise InvalidRecordError("produce request with no record batch")
    for batch in batches:
        (count,), (delta,) = _INT32.unpack_from(batch, 57), _INT32.unpack_from(batch, 23)
        if count < 1 or delta != count - 1:
            raise InvalidRecordError(
                f"inconsistent batch offset range: lastOffsetDelta {delta} for {count} records"
            )
        if len(batch) > config.max_message_bytes:
            raise MessageTooLargeError(
                f"record batch of {len(batch)} bytes exceeds max.message.bytes "
                f"{config.max_message_bytes}"
            )
        if config.compact and not BatchHeader.parse(batch).is_control:
            _check_keys(batch)
    return batches


def _check_keys(batch: memoryview) -> None:
    if any(record.key is None for record in decode_batch(batch).records):
        raise InvalidRecordError("compacted topic cannot accept a record without a key")


def check_delete_records_offset(offset: int, log_end_offset: int) -> None:
    """DeleteRecords may name any offset up to the end (below the start it does nothing)."""
    if not 0 <= offset <= log_end_offset:
        raise OffsetOutOfRangeError(
            f"cannot delete records before {offset}: the log ends at {log_end_offset}"
        )


def check_fetch_offset(offset: int, log_start_offset: int, log_end_offset: int) -> None:
    if not log_start_offset <= offset <= log_end_offset:
        raise OffsetOutOfRangeError(
            f"offset {offset} is outside [{log_start_offset}, {log_end_offset}]"
        )


def first_record_at_or_after(
    batches: Iterable[bytes], timestamp: int, log_start_offset: int
) -> OffsetAndTimestamp | None:
    """The first record at or after `log_start_offset` whose timestamp is ≥ `timestamp`."""
    for batch in batches:
        for record in decode_batch(batch).records:
            if record.offset >= log_start_offset and record.timestamp >= timestamp:
                return OffsetAndTimestamp(record.offset, record.timestamp)
    return None


def max_timestamp_record(batch: bytes, log_start_offset: int) -> OffsetAndTimestamp:
    """The record of `batch` with the largest timestamp (the first one on ties)."""
    best = OffsetAndTimestamp(-1, -1)
    for record in decode_batch(batch).records:
        if record.offset >= log_start_offset and record.timestamp > best.timestamp:
            best = OffsetAndTimestamp(record.offset, record.timestamp)
    return best
