"""v2 record batches: header validation, in-place restamping, control batches, record decoding.

Batches are built with `build_batch`; damaged ones are made by editing the bytes and, where
the damage is meant to lie past the CRC check, resealing them with a fresh CRC32C so that the
error comes from the check under test and not from an earlier one.
"""

from __future__ import annotations

import struct
import zlib

import pytest
from crc32c import crc32c

from luong.errors import CorruptRecordError, InvalidRecordError
from luong.protocol.records import (
    BATCH_HEADER_SIZE,
    LOG_OVERHEAD,
    BatchHeader,
    Compression,
    ControlType,
    Record,
    TimestampType,
    build_batch,
    check_batch,
    control_type,
    decode_batch,
    decode_batches,
    set_base_offset,
    split_batches,
    stamp_header,
)
from luong.protocol.records.varint import read_varint, write_varint

RECORDS_A = [
    Record(0, 1_700_000_000_000, b"k0", b"v0", (("h", b"x"),)),
    Record(1, 1_700_000_000_005, None, b"v1"),
    Record(2, 1_700_000_000_003, b"k2", None, (("n", None), ("m", b""))),
]
RECORDS_B = [Record(3, 1_700_000_000_010, b"k3", b"v3")]
RECORDS_C = [
    Record(10, 1_700_000_000_020, b"k10", b"v" * 300),
    Record(14, 1_700_000_000_021, b"", b""),
]


def crc_of(batch: bytes | bytearray) -> int:
    (crc,) = struct.unpack_from(">I", batch, 17)
    return int(crc)


def reseal(batch: bytes | bytearray, body: bytes | None = None) -> bytes:
    """`batch` with its records section replaced by `body` (if given), batchLength fixed and
    a correct CRC32C, so it passes `split_batches` whatever the body holds."""
    header = bytearray(batch[:BATCH_HEADER_SIZE])
    if body is None:
        body = bytes(batch[BATCH_HEADER_SIZE:])
    struct.pack_into(">i", header, 8, BATCH_HEADER_SIZE - LOG_OVERHEAD + len(body))
    struct.pack_into(">I", header, 17, crc32c(body, crc32c(bytes(header[21:]))))
    return bytes(header) + body


def varint(value: int) -> bytes:
    out = bytearray()
    write_varint(out, value)
    return bytes(out)


def raw_record(body: bytes) -> bytes:
    """A record as it sits in the records section: varint length, then `body`."""
    return varint(len(body)) + body


def record_body(key: bytes | None, value: bytes | None, *, headers: bytes = b"\x00") -> bytes:
    """attributes 0, timestampDelta 0, offsetDelta 0, key, value, then `headers` verbatim."""

    def field(data: bytes | None) -> bytes:
        return varint(-1) if data is None else varint(len(data)) + data

    return b"\x00" + varint(0) + varint(0) + field(key) + field(value) + headers


def with_attributes(batch: bytes, attributes: int) -> bytes:
    edited = bytearray(batch)
    struct.pack_into(">h", edited, 21, attributes)
    return reseal(edited)


# --- varint -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00"),
        (-1, b"\x01"),
        (1, b"\x02"),
        (63, b"\x7e"),
        (-64, b"\x7f"),
        (64, b"\x80\x01"),
        (300, b"\xd8\x04"),
        (2**63 - 1, b"\xfe" + b"\xff" * 8 + b"\x01"),
        (-(2**63), b"\xff" * 9 + b"\x01"),
    ],
)
def test_varint_known_encodings(value: int, encoded: bytes) -> None:
    assert varint(value) == encoded
    assert read_varint(encoded, 0) == (value, len(encoded))


def test_varint_that_runs_off_the_end_is_corrupt() -> None:
    with pytest.raises(CorruptRecordError, match="truncated inside a varint"):
        read_varint(b"\x80\x80\x80", 0)


def test_varint_longer_than_ten_bytes_is_corrupt() -> None:
    with pytest.raises(CorruptRecordError, match="longer than 10 bytes"):
        read_varint(b"\xff" * 10 + b"\x01", 0)


# --- split_batches ----------------------------------------------------------------------------


def test_split_batches_returns_views_over_the_input_without_copying() -> None:
    a, b, c = build_batch(RECORDS_A), build_batch(RECORDS_B), build_batch(RECORDS_C)
    buf = bytearray(a + b + c)
    views = split_batches(buf)
    assert [bytes(view) for view in views] == [a, b, c]
    for view in views:
        assert isinstance(view, memoryview)
        assert view.obj is buf
    # A write into the input shows through the view: it shares the input's memory.
    buf[len(a) + 7] ^= 0xFF
    assert views[1][7] == buf[len(a) + 7]
    assert bytes(views[1]) != b


def test_split_batches_views_of_bytes_and_of_a_memoryview_point_at_the_original() -> None:
    data = build_batch(RECORDS_A) + build_batch(RECORDS_B)
    assert all(view.obj is data for view in split_batches(data))
    assert all(view.obj is data for view in split_batches(memoryview(data)))


def test_split_batches_of_an_empty_buffer_is_empty() -> None:
    assert split_batches(b"") == []


def test_split_batches_returns_views_a_decoder_reads() -> None:
    data = build_batch(RECORDS_A) + build_batch(RECORDS_B, compression=Compression.GZIP)
    decoded = [decode_batch(view).records for view in split_batches(data)]
    assert decoded == [RECORDS_A, RECORDS_B]
    assert [batch.records for batch in decode_batches(data)] == decoded


def test_check_batch_at_a_position_returns_that_batch_size() -> None:
    a, b = build_batch(RECORDS_A), build_batch(RECORDS_C)
    view = memoryview(a + b)
    assert check_batch(view, 0) == len(a)
    assert check_batch(view, len(a)) == len(b)


@pytest.mark.parametrize("length", [1, 12, 16, 17, 60])
def test_truncated_header_is_corrupt(length: int) -> None:
    batch = build_batch(RECORDS_A)
    with pytest.raises(CorruptRecordError, match="truncated"):
        split_batches(batch[:length])


def test_truncated_header_after_a_good_batch_fails_the_whole_split() -> None:
    good = build_batch(RECORDS_A)
    with pytest.raises(CorruptRecordError, match="truncated"):
        split_batches(good + build_batch(RECORDS_B)[:40])


def test_batch_header_parse_of_a_short_buffer_is_corrupt() -> None:
    with pytest.raises(CorruptRecordError):
        BatchHeader.parse(build_batch(RECORDS_A)[:60])


@pytest.mark.parametrize("missing", [1, 5, 20])
def test_declared_length_past_the_end_is_corrupt(missing: int) -> None:
    batch = build_batch(RECORDS_C)
    with pytest.raises(CorruptRecordError, match="declared"):
        split_batches(batch[:-missing])


def test_declared_length_larger_than_the_bytes_is_corrupt() -> None:
    batch = bytearray(build_batch(RECORDS_A))
    struct.pack_into(">i", batch, 8, len(batch))  # 12 more than there is
    with pytest.raises(CorruptRecordError, match="declared"):
        split_batches(batch)


@pytest.mark.parametrize("batch_length", [-1, -(2**31), 0, 1, 48])
def test_length_below_the_61_byte_minimum_is_corrupt(batch_length: int) -> None:
    batch = bytearray(build_batch(RECORDS_A))
    struct.pack_into(">i", batch, 8, batch_length)
    with pytest.raises(CorruptRecordError, match="below the minimum"):
        split_batches(batch)


def test_length_of_exactly_the_header_passes_the_length_check() -> None:
    # A 61-byte batch (no records section) is long enough; its CRC is what decides.
    header = bytearray(build_batch(RECORDS_A)[:BATCH_HEADER_SIZE])
    struct.pack_into(">i", header, 57, 0)  # recordCount 0
    batch = reseal(header, b"")
    assert [bytes(view) for view in split_batches(batch)] == [batch]
    assert decode_batch(batch).records == []


@pytest.mark.parametrize("magic", [0, 1, 3, 255])
def test_magic_other_than_2_is_invalid_not_corrupt(magic: int) -> None:
    batch = bytearray(build_batch(RECORDS_A))
    batch[16] = magic
    with pytest.raises(InvalidRecordError, match=f"magic {magic}"):
        split_batches(batch)


@pytest.mark.parametrize("magic", [0, 1])
def test_a_small_legacy_message_set_is_invalid_not_corrupt(magic: int) -> None:
    """A real v0/v1 message set: offset, size, crc, magic (at byte 16, as in v2), attributes,
    [timestamp,] key, value. Small legacy messages are under 61 bytes; the magic still tells
    them apart, so they should get InvalidRecordError like any other magic.

    FAILS against the current src: `_checked_size` tests for 61 bytes before the magic.
    """
    body = struct.pack(">bb", magic, 0)
    if magic == 1:
        body += struct.pack(">q", 1_700_000_000_000)
    body += struct.pack(">i", -1) + struct.pack(">i", 2) + b"hi"
    message = struct.pack(">I", zlib.crc32(body)) + body  # legacy messages use plain CRC32
    legacy = struct.pack(">qi", 0, len(message)) + message
    assert len(legacy) < BATCH_HEADER_SIZE
    with pytest.raises(InvalidRecordError):
        split_batches(legacy)


@pytest.mark.parametrize("position", [17, 20, 21, 22, 30, 60, 61, -1])
def test_crc_mismatch_is_corrupt(position: int) -> None:
    batch = bytearray(build_batch(RECORDS_A))
    batch[position] ^= 0x01
    with pytest.raises(CorruptRecordError, match="CRC mismatch"):
        split_batches(batch)


def test_a_bad_batch_after_good_ones_fails_the_whole_split() -> None:
    bad = bytearray(build_batch(RECORDS_C))
    bad[-1] ^= 0x80
    with pytest.raises(CorruptRecordError, match="CRC mismatch"):
        split_batches(build_batch(RECORDS_A) + build_batch(RECORDS_B) + bytes(bad))


def test_crc_is_crc32c_of_bytes_21_to_the_end() -> None:
    batch = build_batch(RECORDS_C, compression=Compression.LZ4)
    assert crc_of(batch) == crc32c(batch[21:])


@pytest.mark.parametrize("codec", [5, 6, 7])
def test_unknown_codec_is_corrupt_when_decoding(codec: int) -> None:
    batch = with_attributes(build_batch(RECORDS_A), codec)
    header = BatchHeader.parse(batch)
    with pytest.raises(CorruptRecordError, match=f"unknown compression codec {codec}"):
        _ = header.compression
    with pytest.raises(CorruptRecordError, match=f"unknown compression codec {codec}"):
        decode_batch(batch)


# --- set_base_offset and stamp_header ---------------------------------------------------------


def test_set_base_offset_in_place_keeps_the_crc_valid() -> None:
    original = build_batch(RECORDS_A)
    batch = bytearray(original)
    set_base_offset(batch, 1_000_000)
    assert batch[8:] == original[8:]
    [view] = split_batches(batch)
    decoded = decode_batch(view)
    assert decoded.header.base_offset == 1_000_000
    assert decoded.header.crc == crc_of(original)
    assert [r.offset for r in decoded.records] == [1_000_000, 1_000_001, 1_000_002]


def test_set_base_offset_at_a_position_rewrites_only_that_batch() -> None:
    a, b = build_batch(RECORDS_A), build_batch(RECORDS_C)
    buf = bytearray(a + b)
    set_base_offset(memoryview(buf), 500, len(a))
    first, second = (decode_batch(view) for view in split_batches(buf))
    assert first.records == RECORDS_A
    assert [r.offset for r in second.records] == [500, 504]


def test_stamp_header_sets_offset_and_epoch_without_touching_the_records() -> None:
    original = build_batch(RECORDS_C, compression=Compression.ZSTD, partition_leader_epoch=-1)
    [view] = split_batches(original)
    header = stamp_header(view, base_offset=42, leader_epoch=7)
    assert isinstance(header, bytes)
    assert len(header) == BATCH_HEADER_SIZE
    assert bytes(view) == original  # the input is left alone
    assert header[16:] == original[16:BATCH_HEADER_SIZE]  # magic, CRC, attributes, … unchanged
    stamped = header + original[BATCH_HEADER_SIZE:]
    [checked] = split_batches(stamped)
    decoded = decode_batch(checked)
    assert decoded.header.base_offset == 42
    assert decoded.header.partition_leader_epoch == 7
    assert decoded.header.batch_length == len(original) - LOG_OVERHEAD
    assert decoded.header.timestamp_type is TimestampType.CREATE_TIME
    assert [(r.offset, r.timestamp) for r in decoded.records] == [
        (42, RECORDS_C[0].timestamp),
        (46, RECORDS_C[1].timestamp),
    ]


@pytest.mark.parametrize("codec", list(Compression))
def test_stamp_header_with_log_append_time(codec: Compression) -> None:
    original = build_batch(RECORDS_A, compression=codec)
    [view] = split_batches(original)
    append_time = 1_800_000_000_000
    header = stamp_header(view, 100, 3, log_append_time_ms=append_time)
    assert len(header) == BATCH_HEADER_SIZE
    records_section = original[BATCH_HEADER_SIZE:]
    stamped = header + records_section
    assert crc_of(stamped) == crc32c(stamped[21:])
    assert crc_of(stamped) != crc_of(original)
    [checked] = split_batches(stamped)  # the CRC over header fields + records holds
    decoded = decode_batch(checked)
    assert decoded.header.timestamp_type is TimestampType.LOG_APPEND_TIME
    assert decoded.header.max_timestamp == append_time
    assert decoded.header.base_timestamp == min(r.timestamp for r in RECORDS_A)
    assert decoded.header.compression is codec
    assert decoded.header.base_offset == 100
    assert decoded.header.partition_leader_epoch == 3
    assert [r.timestamp for r in decoded.records] == [append_time] * len(RECORDS_A)
    assert [(r.offset, r.key, r.value, r.headers) for r in decoded.records] == [
        (r.offset + 100, r.key, r.value, r.headers) for r in RECORDS_A
    ]


def test_stamp_header_keeps_the_other_attribute_bits() -> None:
    original = build_batch(
        RECORDS_B,
        compression=Compression.SNAPPY,
        transactional=True,
        producer_id=9,
        producer_epoch=2,
        base_sequence=0,
    )
    [view] = split_batches(original)
    stamped = stamp_header(view, 0, 0, log_append_time_ms=5) + original[BATCH_HEADER_SIZE:]
    header = decode_batch(split_batches(stamped)[0]).header
    assert header.is_transactional
    assert not header.is_control
    assert header.compression is Compression.SNAPPY
    assert (header.producer_id, header.producer_epoch, header.base_sequence) == (9, 2, 0)


# --- control batches --------------------------------------------------------------------------


def control_batch(kind: ControlType, coordinator_epoch: int = 17) -> bytes:
    marker = Record(
        offset=8,
        timestamp=1_700_000_000_000,
        key=struct.pack(">hh", 0, int(kind)),
        value=struct.pack(">hi", 0, coordinator_epoch),  # EndTxnMarker v0
    )
    return build_batch(
        [marker], control=True, transactional=True, producer_id=1234, producer_epoch=5
    )


@pytest.mark.parametrize("kind", [ControlType.COMMIT, ControlType.ABORT])
def test_control_type_of_a_marker_batch(kind: ControlType) -> None:
    [view] = split_batches(control_batch(kind))
    batch = decode_batch(view)
    assert batch.header.is_control
    assert batch.header.is_transactional
    assert batch.header.producer_id == 1234
    assert control_type(batch) is kind
    [marker] = batch.records
    assert struct.unpack(">hi", marker.value or b"") == (0, 17)


def test_control_type_constants_match_kafka() -> None:
    assert (int(ControlType.ABORT), int(ControlType.COMMIT)) == (0, 1)


def test_control_type_of_a_data_batch_is_none() -> None:
    assert control_type(decode_batch(build_batch(RECORDS_A))) is None
    transactional = build_batch(RECORDS_A, transactional=True, producer_id=1, producer_epoch=0)
    assert control_type(decode_batch(transactional)) is None


def test_control_record_with_a_short_key_is_corrupt() -> None:
    batch = build_batch([Record(0, 0, b"\x00\x00", b"")], control=True, transactional=True)
    with pytest.raises(CorruptRecordError):
        control_type(decode_batch(batch))


# --- damaged record bodies (CRC resealed, so only the decoder can notice) ---------------------


def test_resealed_good_body_still_decodes() -> None:
    # The helper itself: a resealed copy of a good batch decodes as the original.
    batch = build_batch(RECORDS_A)
    assert reseal(batch) == batch
    assert decode_batch(reseal(batch, batch[BATCH_HEADER_SIZE:])).records == RECORDS_A


def test_record_length_past_the_end_is_corrupt() -> None:
    batch = build_batch(RECORDS_B)
    body = varint(200) + record_body(b"k", b"v")
    damaged = reseal(batch, body)
    [view] = split_batches(damaged)
    with pytest.raises(CorruptRecordError, match="record length out of bounds"):
        decode_batch(view)


def test_record_length_zero_is_corrupt() -> None:
    damaged = reseal(build_batch(RECORDS_B), varint(0))
    with pytest.raises(CorruptRecordError, match="record length out of bounds"):
        decode_batch(damaged)


def test_record_length_varint_that_never_ends_is_corrupt() -> None:
    damaged = reseal(build_batch(RECORDS_B), b"\xff" * 12)
    [view] = split_batches(damaged)
    with pytest.raises(CorruptRecordError, match="varint"):
        decode_batch(view)


def test_varint_running_off_the_end_of_the_records_is_corrupt() -> None:
    damaged = reseal(build_batch(RECORDS_B), b"\x80\x80")
    with pytest.raises(CorruptRecordError, match="truncated inside a varint"):
        decode_batch(damaged)


def test_varint_field_inside_a_record_that_never_ends_is_corrupt() -> None:
    # A well-formed length, then a timestampDelta whose continuation bits never stop.
    body = b"\x00" + b"\xff" * 11 + b"\x00"
    damaged = reseal(build_batch(RECORDS_B), raw_record(body))
    with pytest.raises(CorruptRecordError, match="varint"):
        decode_batch(damaged)


def test_leftover_bytes_after_the_last_record_are_corrupt() -> None:
    batch = build_batch(RECORDS_A)
    damaged = reseal(batch, batch[BATCH_HEADER_SIZE:] + b"\x00")
    [view] = split_batches(damaged)
    with pytest.raises(CorruptRecordError, match="left over"):
        decode_batch(view)


def test_leftover_bytes_inside_a_record_are_corrupt() -> None:
    damaged = reseal(build_batch(RECORDS_B), raw_record(record_body(b"k", b"v") + b"\x00"))
    with pytest.raises(CorruptRecordError, match="does not match its fields"):
        decode_batch(damaged)


def test_fields_running_past_their_record_length_are_corrupt() -> None:
    # Length says 5, the fields need more: they spill past the end the length declares.
    body = record_body(b"k", b"value")
    damaged = reseal(build_batch(RECORDS_B), varint(5) + body)
    with pytest.raises(CorruptRecordError, match="does not match its fields"):
        decode_batch(damaged)


def test_record_count_larger_than_the_records_is_corrupt() -> None:
    batch = bytearray(build_batch(RECORDS_A))
    struct.pack_into(">i", batch, 57, len(RECORDS_A) + 1)
    with pytest.raises(CorruptRecordError):
        decode_batch(reseal(batch))


def test_key_length_past_the_end_is_corrupt() -> None:
    body = b"\x00" + varint(0) + varint(0) + varint(50) + b"kk"
    damaged = reseal(build_batch(RECORDS_B), raw_record(body))
    with pytest.raises(CorruptRecordError, match="truncated inside a key"):
        decode_batch(damaged)


def test_header_with_a_null_key_is_corrupt() -> None:
    headers = varint(1) + varint(-1) + varint(1) + b"v"
    damaged = reseal(build_batch(RECORDS_B), raw_record(record_body(b"k", b"v", headers=headers)))
    with pytest.raises(CorruptRecordError, match="null key"):
        decode_batch(damaged)


def test_damaged_compressed_body_is_corrupt() -> None:
    batch = build_batch(RECORDS_C, compression=Compression.GZIP)
    damaged = reseal(batch, b"\x1f\x8b\x08\x00" + b"\x00" * 20)
    [view] = split_batches(damaged)
    with pytest.raises(CorruptRecordError, match="GZIP"):
        decode_batch(view)


# --- header properties ------------------------------------------------------------------------


def test_header_properties_of_a_plain_batch() -> None:
    batch = build_batch(RECORDS_C)
    header = BatchHeader.parse(batch)
    assert header.base_offset == 10
    assert header.last_offset_delta == 4
    assert header.last_offset == 14
    assert header.record_count == 2
    assert header.size == len(batch)
    assert header.batch_length == len(batch) - LOG_OVERHEAD
    assert header.magic == 2
    assert header.compression is Compression.NONE
    assert header.timestamp_type is TimestampType.CREATE_TIME
    assert not header.is_transactional
    assert not header.is_control
    assert header.base_timestamp == 1_700_000_000_020
    assert header.max_timestamp == 1_700_000_000_021
    assert (header.producer_id, header.producer_epoch, header.base_sequence) == (-1, -1, -1)
    assert header.partition_leader_epoch == -1


@pytest.mark.parametrize("codec", list(Compression))
@pytest.mark.parametrize(
    ("transactional", "control"), [(False, False), (True, False), (True, True)]
)
def test_header_properties_follow_the_attributes(
    codec: Compression, transactional: bool, control: bool
) -> None:
    batch = build_batch(
        RECORDS_A,
        compression=codec,
        transactional=transactional,
        control=control,
        producer_id=77,
        producer_epoch=3,
        base_sequence=10,
        partition_leader_epoch=4,
        timestamp_type=TimestampType.LOG_APPEND_TIME,
    )
    header = BatchHeader.parse(batch)
    assert header.compression is codec
    assert header.is_transactional is transactional
    assert header.is_control is control
    assert header.timestamp_type is TimestampType.LOG_APPEND_TIME
    assert header.attributes == int(codec) | 0x08 | (0x10 * transactional) | (0x20 * control)
    assert header.size == len(batch)
    assert header.last_offset == 2
    assert (header.producer_id, header.producer_epoch, header.base_sequence) == (77, 3, 10)
    assert header.partition_leader_epoch == 4


def test_header_parse_at_a_position() -> None:
    a, c = build_batch(RECORDS_A), build_batch(RECORDS_C)
    header = BatchHeader.parse(a + c, len(a))
    assert (header.base_offset, header.last_offset, header.size) == (10, 14, len(c))


def test_build_batch_rejects_no_records() -> None:
    with pytest.raises(ValueError, match="at least one record"):
        build_batch([])


def test_log_append_time_batch_gives_every_record_the_max_timestamp() -> None:
    batch = build_batch(RECORDS_A, timestamp_type=TimestampType.LOG_APPEND_TIME)
    decoded = decode_batch(batch)
    assert [r.timestamp for r in decoded.records] == [1_700_000_000_005] * 3
