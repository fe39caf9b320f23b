"""Encode and decode the records inside a v2 batch (off the produce/fetch hot path).

A record inside the (possibly compressed) records section:

    length          varint   bytes after this field
    attributes      int8     unused, 0
    timestampDelta  varlong  from the batch's baseTimestamp
    offsetDelta     varint   from the batch's baseOffset
    keyLength       varint   -1 for a null key
    key             bytes
    valueLength     varint   -1 for a null value (a tombstone)
    value           bytes
    headerCount     varint
    headers         [keyLength varint, key utf-8, valueLength varint (-1 null), value]

A control batch holds one record whose key is (version int16, type int16):
type 0 is an abort marker, 1 a commit marker.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from crc32c import crc32c

from luong.errors import CorruptRecordError
from luong.protocol.records.batch import (
    BATCH_HEADER_SIZE,
    CRC_START,
    LOG_OVERHEAD,
    BatchHeader,
    Compression,
    TimestampType,
    split_batches,
)
from luong.protocol.records.compression import compress, decompress
from luong.protocol.records.varint import read_varint, write_varint

__all__ = [
    "ControlType",
    "Record",
    "RecordBatch",
    "build_batch",
    "build_marker",
    "control_type",
    "decode_batch",
    "decode_batches",
    "rebuild_batch",
    "recompress",
]

Header = tuple[str, bytes | None]


class ControlType(IntEnum):
    """The type of a control record; UNKNOWN stands for any other (KRaft's own)."""

    UNKNOWN = -1
    ABORT = 0
    COMMIT = 1


@dataclass(frozen=True, slots=True)
class Record:
    """One record with absolute offset and timestamp."""

    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordBatch:
    """A decoded batch: its header and its records in offset order."""

    header: BatchHeader
    records: list[Record]


def _read_bytes(buf: bytes, position: int) -> tuple[bytes | None, int]:
    length, position = read_varint(buf, position)
    if length < 0:
        return None, position
    end = position + length
    if end > len(buf):
        raise CorruptRecordError("record truncated inside a key, value or header")
    return buf[position:end], end


def _read_headers(buf: bytes, position: int) -> tuple[tuple[Header, ...], int]:
    count, position = read_varint(buf, position)
    headers = []
    for _ in range(count):
        key, position = _read_bytes(buf, position)
        value, position = _read_bytes(buf, position)
        if key is None:
            raise CorruptRecordError("record header with a null key")
        headers.append((key.decode("utf-8", errors="replace"), value))
    return tuple(headers), position


def _read_record(buf: bytes, position: int, header: BatchHeader) -> tuple[Record, int]:
    length, position = read_varint(buf, position)
    end = position + length
    if length < 1 or end > len(buf):
        raise CorruptRecordError("record length out of bounds")
    timestamp_delta, cursor = read_varint(buf, position + 1)
    offset_delta, cursor = read_varint(buf, cursor)
    key, cursor = _read_bytes(buf, cursor)
    value, cursor = _read_bytes(buf, cursor)
    headers, cursor = _read_headers(buf, cursor)
    if cursor != end:
        raise CorruptRecordError("record length does not match its fields")
    timestamp = header.base_timestamp + timestamp_delta
    if header.timestamp_type is TimestampType.LOG_APPEND_TIME:
        timestamp = header.max_timestamp
    return Record(header.base_offset + offset_delta, timestamp, key, value, headers), end


def decode_batch(batch: bytes | memoryview) -> RecordBatch:
    """Decode one validated batch (see `split_batches`) into its records."""
    header = BatchHeader.parse(batch)
    body = decompress(header.compression, bytes(batch[BATCH_HEADER_SIZE : header.size]))
    records = []
    position = 0
    for _ in range(header.record_count):
        record, position = _read_record(body, position, header)
        records.append(record)
    if position != len(body):
        raise CorruptRecordError("bytes left over after the batch's last record")
    return RecordBatch(header, records)


def decode_batches(buf: bytes | memoryview) -> list[RecordBatch]:
    """Validate and decode back-to-back batches."""
    return [decode_batch(view) for view in split_batches(buf)]


def control_type(batch: RecordBatch) -> ControlType | None:
    """The marker type of a control batch; None for a data batch."""
    if not batch.header.is_control or not batch.records:
        return None
    key = batch.records[0].key
    if key is None or len(key) < 4:
        raise CorruptRecordError("control record without a (version, type) key")
    (kind,) = struct.unpack_from(">h", key, 2)
    return ControlType(kind) if kind in (0, 1) else ControlType.UNKNOWN


def _write_bytes(out: bytearray, data: bytes | None) -> None:
    if data is None:
        write_varint(out, -1)
    else:
        write_varint(out, len(data))
        out += data


def _encode_record(record: Record, base_offset: int, base_timestamp: int) -> bytes:
    body = bytearray(b"\x00")
    write_varint(body, record.timestamp - base_timestamp)
    write_varint(body, record.offset - base_offset)
    _write_bytes(body, record.key)
    _write_bytes(body, record.value)
    write_varint(body, len(record.headers))
    for name, value in record.headers:
        _write_bytes(body, name.encode())
        _write_bytes(body, value)
    out = bytearray()
    write_varint(out, len(body))
    return bytes(out + body)


@dataclass(frozen=True, slots=True)
class _BatchFields:
    attributes: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    partition_leader_epoch: int
    base_offset: int
    last_offset: int


def build_batch(
    records: Sequence[Record],
    *,
    compression: Compression = Compression.NONE,
    producer_id: int = -1,
    producer_epoch: int = -1,
    base_sequence: int = -1,
    transactional: bool = False,
    control: bool = False,
    partition_leader_epoch: int = -1,
    timestamp_type: TimestampType = TimestampType.CREATE_TIME,
    base_offset: int | None = None,
    last_offset: int | None = None,
) -> bytes:
    """Encode records (offsets and timestamps absolute) into one v2 batch.

    baseOffset and the last offset default to the first and last record's; the
    compaction cleaner passes the original batch's, so a batch that lost records
    still spans the same offsets (as Kafka's cleaner keeps it). `records` must
    not be empty.
    """
    if not records:
        raise ValueError("a batch holds at least one record")
    attributes = int(compression) | (int(timestamp_type) << 3)
    attributes |= (0x10 if transactional else 0) | (0x20 if control else 0)
    fields = _BatchFields(
        attributes,
        producer_id,
        producer_epoch,
        base_sequence,
        partition_leader_epoch,
        records[0].offset if base_offset is None else base_offset,
        records[-1].offset if last_offset is None else last_offset,
    )
    return _assemble(records, compression, fields)


def recompress(batch: bytes | memoryview, compression: Compression) -> bytes:
    """The batch with its records compressed with `compression` (NONE: uncompressed).

    Offsets, timestamps and their type, producer id, epoch, base sequence and the
    transactional flag are kept; a control batch, or one already so compressed, is
    returned unchanged. Off the hot path: only topics with a `compression.type`
    other than `producer` pay for it.
    """
    header = BatchHeader.parse(batch)
    if header.is_control or header.compression is compression:
        return bytes(batch)
    return rebuild_batch(header, decode_batch(batch).records, compression)


def rebuild_batch(
    header: BatchHeader, records: Sequence[Record], compression: Compression
) -> bytes:
    """A batch like the one `header` heads (producer id, epoch, base sequence, flags,
    timestamp type, leader epoch and offset range kept) holding `records`, compressed
    with `compression`: what compaction and recompression write in its place."""
    return build_batch(
        records,
        compression=compression,
        producer_id=header.producer_id,
        producer_epoch=header.producer_epoch,
        base_sequence=header.base_sequence,
        transactional=header.is_transactional,
        partition_leader_epoch=header.partition_leader_epoch,
        timestamp_type=header.timestamp_type,
        base_offset=header.base_offset,
        last_offset=header.last_offset,
    )


def build_marker(
    producer_id: int, producer_epoch: int, commit: bool, coordinator_epoch: int, timestamp: int
) -> bytes:
    """A transaction marker: a control batch whose one record has key (version 0,
    type 1 commit / 0 abort) and value (version 0, coordinator_epoch int32)."""
    key = struct.pack(">hh", 0, ControlType.COMMIT if commit else ControlType.ABORT)
    value = struct.pack(">hi", 0, coordinator_epoch)
    return build_batch(
        [Record(0, timestamp, key, value)],
        control=True,
        transactional=True,
        producer_id=producer_id,
        producer_epoch=producer_epoch,
    )


def _assemble(records: Sequence[Record], compression: Compression, fields: _BatchFields) -> bytes:
    base_offset = fields.base_offset
    base_timestamp = min(record.timestamp for record in records)
    max_timestamp = max(record.timestamp for record in records)
    body = b"".join(_encode_record(r, base_offset, base_timestamp) for r in records)
    body = compress(compression, body)
    header = bytearray(BATCH_HEADER_SIZE)
    struct.pack_into(
        ">qiibIhiqqqhii",
        header,
        0,
        base_offset,
        BATCH_HEADER_SIZE - LOG_OVERHEAD + len(body),
        fields.partition_leader_epoch,
        2,
        0,
        fields.attributes,
        fields.last_offset - base_offset,
        base_timestamp,
        max_timestamp,
        fields.producer_id,
        fields.producer_epoch,
        fields.base_sequence,
        len(records),
    )
    crc = crc32c(body, crc32c(bytes(header[CRC_START:])))
    struct.pack_into(">I", header, 17, crc)
    return bytes(header) + body
