"""Kafka v2 record batch headers: parse, validate, split, restamp. No record decoding.

Layout of a v2 batch (big-endian), as producers send it and as the log stores it:

    offset  size  field
         0     8  baseOffset
         8     4  batchLength            bytes after this field (total size - 12)
        12     4  partitionLeaderEpoch
        16     1  magic                  always 2
        17     4  crc                    CRC32C (Castagnoli) of bytes 21..end
        21     2  attributes             bits 0-2 codec, 3 timestamp type,
                                         4 transactional, 5 control, 6 delete horizon
        23     4  lastOffsetDelta
        27     8  baseTimestamp
        35     8  maxTimestamp
        43     8  producerId
        51     2  producerEpoch
        53     4  baseSequence
        57     4  recordCount
        61     …  records (compressed as a whole when the codec is not none)

baseOffset and partitionLeaderEpoch lie outside the CRC, so the broker can assign
offsets by rewriting them without touching the checksum.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from crc32c import crc32c

from luong.errors import CorruptRecordError, InvalidRecordError

__all__ = [
    "BATCH_HEADER_SIZE",
    "LOG_OVERHEAD",
    "BatchHeader",
    "Compression",
    "TimestampType",
    "check_batch",
    "set_base_offset",
    "split_batches",
    "stamp_header",
    "stamp_prefix",
]

BATCH_HEADER_SIZE = 61
LOG_OVERHEAD = 12  # baseOffset + batchLength: the bytes batchLength does not count
CRC_START = 21
MAGIC_OFFSET = 16
_HEADER = struct.Struct(">qiibIhiqqqhii")
_PREFIX = struct.Struct(">qi")
_STAMP = struct.Struct(">qii")
_BASE_OFFSET = struct.Struct(">q")
_CRC = struct.Struct(">I")
_LENGTH_AND_CRC = struct.Struct(">i4xxI")  # batchLength at 8, crc at 17
_TIMESTAMP_TYPE_BIT = 0x08
_TRANSACTIONAL_BIT = 0x10
_CONTROL_BIT = 0x20


class Compression(IntEnum):
    """The codec in attribute bits 0-2."""

    NONE = 0
    GZIP = 1
    SNAPPY = 2
    LZ4 = 3
    ZSTD = 4


class TimestampType(IntEnum):
    CREATE_TIME = 0
    LOG_APPEND_TIME = 1


@dataclass(frozen=True, slots=True)
class BatchHeader:
    """The 61-byte header of a v2 record batch."""

    base_offset: int
    batch_length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    record_count: int

    @classmethod
    def parse(cls, buf: bytes | bytearray | memoryview, position: int = 0) -> BatchHeader:
        """Read a header at `position`; checks nothing beyond its presence."""
        if len(buf) - position < BATCH_HEADER_SIZE:
            raise CorruptRecordError("record batch truncated inside its header")
        return cls(*_HEADER.unpack_from(buf, position))

    @property
    def size(self) -> int:
        """Total bytes of the batch, header included."""
        return self.batch_length + LOG_OVERHEAD

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def compression(self) -> Compression:
        try:
            return Compression(self.attributes & 0x07)
        except ValueError:
            raise CorruptRecordError(f"unknown compression codec {self.attributes & 7}") from None

    @property
    def timestamp_type(self) -> TimestampType:
        return TimestampType(bool(self.attributes & _TIMESTAMP_TYPE_BIT))

    @property
    def is_transactional(self) -> bool:
        return bool(self.attributes & _TRANSACTIONAL_BIT)

    @property
    def is_control(self) -> bool:
        return bool(self.attributes & _CONTROL_BIT)


def split_batches(buf: bytes | bytearray | memoryview) -> list[memoryview]:
    """Split back-to-back batches into views (no copies), validating each.

    Every batch must be complete, carry magic 2, a sane length and a matching
    CRC32C; otherwise CorruptRecordError (InvalidRecordError for another magic)
    is raised and no batch is returned. An empty buffer gives an empty list.
    """
    view = memoryview(buf).cast("B")
    batches = []
    position = 0
    while position < len(view):
        size = check_batch(view, position)
        batches.append(view[position : position + size])
        position += size
    return batches


def check_batch(view: memoryview, position: int = 0) -> int:
    """Validate the batch at `position` (length, magic, codec, CRC32C); return its size.

    This runs once per produced batch and per recovered batch: keep it tight.
    """
    remaining = len(view) - position
    if remaining <= MAGIC_OFFSET:
        raise CorruptRecordError(f"record batch truncated: {remaining} bytes left of a header")
    magic = view[position + MAGIC_OFFSET]
    if magic != 2:
        raise InvalidRecordError(f"record batch magic {magic} is not supported (only 2)")
    if remaining < BATCH_HEADER_SIZE:
        raise CorruptRecordError(f"record batch truncated: {remaining} bytes left of a header")
    batch_length, stored_crc = _LENGTH_AND_CRC.unpack_from(view, position + 8)
    size: int = batch_length + LOG_OVERHEAD
    if size < BATCH_HEADER_SIZE:
        raise CorruptRecordError(f"record batch length {batch_length} is below the minimum")
    if size > remaining:
        raise CorruptRecordError(f"record batch truncated: {size} bytes declared, {remaining} left")
    if view[position + CRC_START + 1] & 0x07 > Compression.ZSTD:
        codec = view[position + CRC_START + 1] & 0x07
        raise CorruptRecordError(f"record batch names unknown compression codec {codec}")
    actual = crc32c(view[position + CRC_START : position + size])
    if stored_crc != actual:
        raise CorruptRecordError(
            f"record batch CRC mismatch: stored {stored_crc}, computed {actual}"
        )
    return size


def set_base_offset(buf: bytearray | memoryview, base_offset: int, position: int = 0) -> None:
    """Rewrite baseOffset in place; the CRC does not cover it."""
    _BASE_OFFSET.pack_into(buf, position, base_offset)


def stamp_prefix(size: int, base_offset: int, leader_epoch: int) -> bytes:
    """The first 16 bytes of a stored batch of `size` bytes: baseOffset, batchLength and
    partitionLeaderEpoch, the fields outside the CRC that the broker assigns."""
    return _STAMP.pack(base_offset, size - LOG_OVERHEAD, leader_epoch)


def stamp_header(
    batch: memoryview, base_offset: int, leader_epoch: int, log_append_time_ms: int | None = None
) -> bytes:
    """A new 61-byte header for `batch` with the broker's offset and epoch.

    With `log_append_time_ms`, the timestamp type becomes LogAppendTime and
    maxTimestamp that time; the CRC is then recomputed over the new header fields
    followed by the untouched records, so the records are never copied.
    """
    header = bytearray(batch[:BATCH_HEADER_SIZE])
    _PREFIX.pack_into(header, 0, base_offset, len(batch) - LOG_OVERHEAD)
    struct.pack_into(">i", header, 12, leader_epoch)
    if log_append_time_ms is not None:
        (attributes,) = struct.unpack_from(">h", header, 21)
        struct.pack_into(">h", header, 21, attributes | _TIMESTAMP_TYPE_BIT)
        struct.pack_into(">q", header, 35, log_append_time_ms)
        crc = crc32c(batch[BATCH_HEADER_SIZE:], crc32c(header[CRC_START:]))
        _CRC.pack_into(header, 17, crc)
    return bytes(header)
