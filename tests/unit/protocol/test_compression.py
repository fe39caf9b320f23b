"""The batch codecs: round trips, the xerial snappy framing, zstd frames without a content
size, damaged input, and whole batches built with each codec."""

from __future__ import annotations

import os
import struct

import cramjam
import pytest
from crc32c import crc32c

from luong.errors import CorruptRecordError
from luong.protocol.records import (
    Compression,
    Record,
    build_batch,
    check_batch,
    compress,
    decode_batch,
    decompress,
    split_batches,
)

CODECS = list(Compression)
COMPRESSING = [codec for codec in Compression if codec is not Compression.NONE]
PAYLOADS = {
    "empty": b"",
    "one-byte": b"\x00",
    "text": b"the quick brown fox jumps over the lazy dog " * 50,
    "random": os.urandom(4096),
    "large": bytes(range(256)) * 2048,  # 512 KiB, several internal blocks for every codec
}
XERIAL_MAGIC = b"\x82SNAPPY\x00"


def reseal_body(batch: bytes, body: bytes) -> bytes:
    """`batch` (its attributes kept) with `body` as its records section, length and CRC fixed."""
    header = bytearray(batch[:61])
    struct.pack_into(">i", header, 8, 61 - 12 + len(body))
    struct.pack_into(">I", header, 17, crc32c(body, crc32c(bytes(header[21:]))))
    resealed = bytes(header) + body
    assert check_batch(memoryview(resealed)) == len(resealed)
    return resealed


def xerial(*chunks: bytes, version: int = 1, compatible: int = 1) -> bytes:
    """The xerial framing kafka-python and aiokafka write, built by hand."""
    out = bytearray(XERIAL_MAGIC + struct.pack(">ii", version, compatible))
    for chunk in chunks:
        block = bytes(cramjam.snappy.compress_raw(chunk))
        out += struct.pack(">i", len(block)) + block
    return bytes(out)


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_every_codec_round_trips(codec: Compression, payload: bytes) -> None:
    compressed = compress(codec, payload)
    assert isinstance(compressed, bytes)
    assert decompress(codec, compressed) == payload


@pytest.mark.parametrize("codec", COMPRESSING)
def test_compressing_codecs_shrink_repetitive_data(codec: Compression) -> None:
    payload = PAYLOADS["text"]
    compressed = compress(codec, payload)
    assert len(compressed) < len(payload) // 4
    assert compressed != payload


def test_none_passes_data_through() -> None:
    assert compress(Compression.NONE, b"abc") == b"abc"
    assert decompress(Compression.NONE, b"abc") == b"abc"


def test_codecs_write_the_formats_kafka_expects() -> None:
    data = PAYLOADS["text"]
    assert compress(Compression.GZIP, data)[:2] == b"\x1f\x8b"
    assert compress(Compression.LZ4, data)[:4] == b"\x04\x22\x4d\x18"  # lz4 frame magic
    assert compress(Compression.ZSTD, data)[:4] == b"\x28\xb5\x2f\xfd"  # zstd frame magic
    snappy = compress(Compression.SNAPPY, data)
    assert not snappy.startswith(XERIAL_MAGIC)
    assert bytes(cramjam.snappy.decompress_raw(snappy)) == data  # a raw block


def test_xerial_snappy_with_several_blocks_decompresses() -> None:
    chunks = [b"first block " * 100, os.urandom(300), b"", b"x" * 40_000, b"last"]
    framed = xerial(*chunks)
    assert framed.startswith(XERIAL_MAGIC)
    assert decompress(Compression.SNAPPY, framed) == b"".join(chunks)


def test_xerial_snappy_with_one_block_decompresses() -> None:
    assert decompress(Compression.SNAPPY, xerial(b"only block")) == b"only block"


def test_xerial_snappy_with_no_blocks_is_empty() -> None:
    assert decompress(Compression.SNAPPY, xerial()) == b""


def test_xerial_snappy_ignores_the_version_fields() -> None:
    framed = xerial(b"abc", b"def", version=1, compatible=1)
    other = xerial(b"abc", b"def", version=2, compatible=0)
    assert decompress(Compression.SNAPPY, framed) == decompress(Compression.SNAPPY, other)


def test_xerial_snappy_with_a_truncated_block_is_corrupt() -> None:
    framed = xerial(b"a" * 1000, b"b" * 1000)
    with pytest.raises(CorruptRecordError, match="xerial snappy block truncated"):
        decompress(Compression.SNAPPY, framed[:-3])


def test_xerial_snappy_with_a_truncated_block_length_is_corrupt() -> None:
    framed = xerial(b"a" * 1000) + b"\x00\x00"
    with pytest.raises(CorruptRecordError, match="block length truncated"):
        decompress(Compression.SNAPPY, framed)


def test_xerial_snappy_with_a_negative_block_length_is_corrupt() -> None:
    framed = xerial(b"a" * 10) + struct.pack(">i", -5) + b"\x00" * 8
    with pytest.raises(CorruptRecordError, match="xerial snappy block truncated"):
        decompress(Compression.SNAPPY, framed)


def test_xerial_snappy_with_a_damaged_block_is_corrupt() -> None:
    header = XERIAL_MAGIC + struct.pack(">ii", 1, 1)
    garbage = b"\xff" * 12
    with pytest.raises(CorruptRecordError, match="SNAPPY"):
        decompress(Compression.SNAPPY, header + struct.pack(">i", len(garbage)) + garbage)


def zstd_stream(data: bytes, pieces: int = 4) -> bytes:
    """A zstd frame written through the streaming API, which does not know the size up front."""
    compressor = cramjam.zstd.Compressor()
    step = max(1, len(data) // pieces)
    for start in range(0, len(data), step):
        compressor.compress(data[start : start + step])
    return bytes(compressor.finish())


def zstd_has_content_size(frame: bytes) -> bool:
    """Frame_Header_Descriptor (the byte after the magic): bits 7-6 Frame_Content_Size_flag,
    bit 5 Single_Segment_flag. The content size is present unless both are 0."""
    assert frame[:4] == b"\x28\xb5\x2f\xfd"
    descriptor = frame[4]
    return bool(descriptor >> 6) or bool(descriptor & 0x20)


def test_zstd_frame_without_content_size_decompresses() -> None:
    data = PAYLOADS["text"] + PAYLOADS["random"]
    frame = zstd_stream(data)
    assert not zstd_has_content_size(frame)
    assert decompress(Compression.ZSTD, frame) == data


def test_zstd_frame_with_content_size_decompresses() -> None:
    frame = compress(Compression.ZSTD, PAYLOADS["text"])
    assert zstd_has_content_size(frame)  # the helper above tells the two apart
    assert decompress(Compression.ZSTD, frame) == PAYLOADS["text"]


def test_batch_whose_zstd_records_lack_a_content_size_decodes() -> None:
    # What a streaming producer sends: re-encode a built batch's records without the size.
    records = [Record(i, 1_700_000_000_000 + i, b"k%d" % i, b"v" * i) for i in range(20)]
    plain = build_batch(records)
    zstd = build_batch(records, compression=Compression.ZSTD)
    frame = zstd_stream(plain[61:])
    assert not zstd_has_content_size(frame)
    [view] = split_batches(reseal_body(zstd, frame))
    assert decode_batch(view).records == records


GARBAGE = {
    "text": b"this is not compressed data at all, not even a little bit",
    "ff": b"\xff" * 64,
    "zeros": b"\x00" * 32,
    "empty": b"",
}


@pytest.mark.parametrize("codec", COMPRESSING)
@pytest.mark.parametrize("garbage", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_input_is_corrupt(codec: Compression, garbage: bytes) -> None:
    with pytest.raises(CorruptRecordError, match=codec.name):
        decompress(codec, garbage)


@pytest.mark.parametrize("codec", COMPRESSING)
@pytest.mark.parametrize("keep", [0.5, 0.9], ids=["half", "most"])
def test_truncated_stream_is_corrupt(codec: Compression, keep: float) -> None:
    compressed = compress(codec, PAYLOADS["random"] + PAYLOADS["text"])
    with pytest.raises(CorruptRecordError):
        decompress(codec, compressed[: int(len(compressed) * keep)])


@pytest.mark.parametrize("codec", COMPRESSING)
def test_stream_with_its_last_byte_missing_is_corrupt(codec: Compression) -> None:
    compressed = compress(codec, PAYLOADS["random"])
    with pytest.raises(CorruptRecordError):
        decompress(codec, compressed[:-1])


RECORDS = [
    Record(100, 1_700_000_000_000, b"key-0", b"value-0" * 40, (("trace", b"abc"), ("n", None))),
    Record(101, 1_700_000_000_007, None, b"value-1" * 40),
    Record(102, 1_699_999_999_990, b"key-2", None),
    Record(105, 1_700_000_000_001, b"", b"", (("", b""),)),
]


@pytest.mark.parametrize("codec", CODECS)
def test_batch_built_with_each_codec_decodes_to_the_same_records(codec: Compression) -> None:
    batch = build_batch(RECORDS, compression=codec)
    [view] = split_batches(batch)
    decoded = decode_batch(view)
    assert decoded.header.compression is codec
    assert decoded.records == RECORDS
    assert decode_batch(build_batch(RECORDS)).records == decoded.records
    if codec is not Compression.NONE:
        plain = build_batch(RECORDS)
        assert batch[61:] != plain[61:]
        assert decompress(codec, batch[61:]) == plain[61:]


def test_batch_with_xerial_snappy_records_decodes() -> None:
    plain = build_batch(RECORDS)
    body = plain[61:]
    framed = xerial(body[:50], body[50:120], body[120:])
    batch = reseal_body(build_batch(RECORDS, compression=Compression.SNAPPY), framed)
    [view] = split_batches(batch)
    assert decode_batch(view).records == RECORDS
