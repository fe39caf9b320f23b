"""Properties of the v2 record codecs: varints, batch round trips, and the CRC's reach."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from luong.errors import CorruptRecordError, InvalidRecordError
from luong.protocol.records import (
    BatchHeader,
    Compression,
    Record,
    build_batch,
    decode_batch,
    split_batches,
)
from luong.protocol.records.varint import read_varint, write_varint

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
MAYBE_BYTES = st.none() | st.binary(max_size=64)
HEADER_KEYS = st.text(st.characters(codec="utf-8"), max_size=12)
HEADERS = st.lists(st.tuples(HEADER_KEYS, MAYBE_BYTES), max_size=4).map(tuple)
# Timestamps from 1970 to 2100 in ms, plus Kafka's "no timestamp" -1.
TIMESTAMPS = st.integers(min_value=0, max_value=4_102_444_800_000) | st.just(-1)

PROPERTY = settings(max_examples=100, deadline=None)


@st.composite
def record_lists(draw: st.DrawFn, max_records: int = 8) -> list[Record]:
    """Records with increasing offsets (gaps allowed, as compaction leaves them)."""
    offset = draw(st.integers(min_value=0, max_value=2**62))
    count = draw(st.integers(min_value=1, max_value=max_records))
    records = []
    for _ in range(count):
        records.append(
            Record(
                offset=offset,
                timestamp=draw(TIMESTAMPS),
                key=draw(MAYBE_BYTES),
                value=draw(MAYBE_BYTES),
                headers=draw(HEADERS),
            )
        )
        offset += draw(st.integers(min_value=1, max_value=1000) | st.just(1))
    return records


CODECS = st.sampled_from(list(Compression))


@PROPERTY
@given(INT64)
def test_varint_round_trips_over_int64(value: int) -> None:
    out = bytearray(b"\xaa")  # a prefix, to check reading at a position
    write_varint(out, value)
    assert 2 <= len(out) <= 11  # 1 to 10 bytes of varint
    assert all(byte & 0x80 for byte in out[1:-1])
    assert not out[-1] & 0x80
    assert read_varint(bytes(out), 1) == (value, len(out))
    assert read_varint(memoryview(out), 1) == (value, len(out))


@PROPERTY
@given(st.integers(min_value=-(2**31), max_value=2**31 - 1))
def test_varint_zigzag_keeps_small_magnitudes_short(value: int) -> None:
    out = bytearray()
    write_varint(out, value)
    zigzag = 2 * value if value >= 0 else -2 * value - 1
    assert len(out) == max(1, -(-zigzag.bit_length() // 7))


@PROPERTY
@given(record_lists(), CODECS)
def test_build_split_decode_round_trips(records: list[Record], codec: Compression) -> None:
    batch = build_batch(records, compression=codec)
    [view] = split_batches(batch)
    assert len(view) == len(batch)
    decoded = decode_batch(view)
    assert decoded.records == records
    header = decoded.header
    assert header.compression is codec
    assert header.base_offset == records[0].offset
    assert header.last_offset == records[-1].offset
    assert header.record_count == len(records)
    assert header.base_timestamp == min(r.timestamp for r in records)
    assert header.max_timestamp == max(r.timestamp for r in records)
    assert header.size == len(batch)


@PROPERTY
@given(st.lists(st.tuples(record_lists(max_records=4), CODECS), min_size=1, max_size=4))
def test_back_to_back_batches_round_trip(batches: list[tuple[list[Record], Compression]]) -> None:
    encoded = [build_batch(records, compression=codec) for records, codec in batches]
    views = split_batches(b"".join(encoded))
    assert [bytes(view) for view in views] == encoded
    assert [decode_batch(view).records for view in views] == [records for records, _ in batches]


FLIPS = st.integers(min_value=1, max_value=255)


@PROPERTY
@given(record_lists(), CODECS, st.data())
def test_flipping_a_byte_the_crc_covers_is_corrupt(
    records: list[Record], codec: Compression, data: st.DataObject
) -> None:
    """Bytes 17.. are the CRC field and everything it covers: one changed byte there is
    always caught (CRC32C detects every error burst of 32 bits or fewer); a codec
    changed to one that does not exist is refused by name before the CRC is computed."""
    batch = bytearray(build_batch(records, compression=codec))
    position = data.draw(st.integers(min_value=17, max_value=len(batch) - 1), label="position")
    batch[position] ^= data.draw(FLIPS, label="flip")
    try:
        split_batches(batch)
    except CorruptRecordError as error:
        codec_byte = position == 22 and batch[22] & 0x07 > Compression.ZSTD
        assert ("unknown compression codec" if codec_byte else "CRC mismatch") in str(error)
    else:
        raise AssertionError(f"a changed byte at {position} went unnoticed")


@PROPERTY
@given(record_lists(), st.data())
def test_changing_the_magic_byte_is_invalid(records: list[Record], data: st.DataObject) -> None:
    batch = bytearray(build_batch(records))
    batch[16] ^= data.draw(FLIPS, label="flip")
    try:
        split_batches(batch)
    except InvalidRecordError as error:
        assert f"magic {batch[16]}" in str(error)
    else:
        raise AssertionError("a batch with magic other than 2 was accepted")


@PROPERTY
@given(record_lists(), CODECS, st.data())
def test_changing_the_batch_length_is_corrupt(
    records: list[Record], codec: Compression, data: st.DataObject
) -> None:
    """A changed batchLength (bytes 8-11) points past the end, below the minimum, or at a
    shorter span whose CRC32C no longer matches (a 2**-32 coincidence aside)."""
    batch = bytearray(build_batch(records, compression=codec))
    position = data.draw(st.integers(min_value=8, max_value=11), label="position")
    batch[position] ^= data.draw(FLIPS, label="flip")
    try:
        split_batches(batch)
    except CorruptRecordError:
        pass
    else:
        raise AssertionError(f"a changed batchLength byte at {position} went unnoticed")


@PROPERTY
@given(record_lists(), CODECS, st.data())
def test_base_offset_and_leader_epoch_lie_outside_the_crc(
    records: list[Record], codec: Compression, data: st.DataObject
) -> None:
    """Bytes 0-7 (baseOffset) and 12-15 (partitionLeaderEpoch) may change freely: the batch
    still validates, with the new values and the same records section."""
    original = build_batch(records, compression=codec)
    batch = bytearray(original)
    position = data.draw(
        st.integers(min_value=0, max_value=7) | st.integers(min_value=12, max_value=15),
        label="position",
    )
    batch[position] ^= data.draw(FLIPS, label="flip")
    [view] = split_batches(batch)
    header = BatchHeader.parse(view)
    assert (header.base_offset, header.partition_leader_epoch) != (
        BatchHeader.parse(original).base_offset,
        BatchHeader.parse(original).partition_leader_epoch,
    )
    assert bytes(view[16:]) == original[16:]
    decoded = decode_batch(view)
    shift = header.base_offset - records[0].offset
    assert [r.offset - shift for r in decoded.records] == [r.offset for r in records]
    assert [(r.key, r.value, r.headers, r.timestamp) for r in decoded.records] == [
        (r.key, r.value, r.headers, r.timestamp) for r in records
    ]
