"""Rules every engine applies the same way: names, partitions, append checks, lookups."""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace

from luong.config import TopicConfig
from luong.errors import (
    CorruptRecordError,
    InvalidPartitionsError,
    InvalidRecordError,
    MessageTooLargeError,
    OffsetOutOfRangeError,
    TopicAlreadyExistsError,
    UnknownTopicOrPartitionError,
)
from luong.protocol.names import validate_topic_name
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
]

_INT32 = struct.Struct(">i")  # recordCount at 57, lastOffsetDelta at 23
MAX_PARTITIONS = 100_000


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
    Refusals caused by particular records name them (`record_errors`, by the record's
    index among the payload's records): keyless records on a compacted topic, and,
    in a batch over `max.message.bytes`, any record that alone passes the limit.
    """
    batches = split_batches(records)
    if not batches:
        raise InvalidRecordError("produce request with no record batch")
    first_index = 0
    for batch in batches:
        (count,), (delta,) = _INT32.unpack_from(batch, 57), _INT32.unpack_from(batch, 23)
        if count < 1 or delta != count - 1:
            raise InvalidRecordError(
                f"inconsistent batch offset range: lastOffsetDelta {delta} for {count} records"
            )
        if len(batch) > config.max_message_bytes:
            raise MessageTooLargeError(
                f"record batch of {len(batch)} bytes exceeds max.message.bytes "
                f"{config.max_message_bytes}",
                _oversized_records(batch, first_index, config.max_message_bytes),
            )
        if config.compact and not BatchHeader.parse(batch).is_control:
            _check_keys(batch, first_index)
        first_index += count
    return batches


def _check_keys(batch: memoryview, first_index: int) -> None:
    records = decode_batch(batch).records
    keyless = [first_index + i for i, record in enumerate(records) if record.key is None]
    if keyless:
        why = "Compacted topic cannot accept message without key."
        raise InvalidRecordError(
            f"compacted topic cannot accept a record without a key ({len(keyless)} of them)",
            tuple((index, why) for index in keyless),
        )


def _oversized_records(
    batch: memoryview, first_index: int, limit: int
) -> tuple[tuple[int, str], ...]:
    """Records whose key, value and headers alone are more than `limit` bytes."""
    try:
        records = decode_batch(batch).records
    except CorruptRecordError:
        return ()
    out = []
    for i, record in enumerate(records):
        size = len(record.key or b"") + len(record.value or b"")
        size += sum(len(name) + len(value or b"") for name, value in record.headers)
        if size > limit:
            out.append(
                (first_index + i, f"record of {size} bytes exceeds max.message.bytes {limit}")
            )
    return tuple(out)


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
