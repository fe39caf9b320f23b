"""The codecs Kafka batches use, through cramjam.

Snappy comes in two shapes: raw snappy blocks (librdkafka, Java) and the xerial
framing that kafka-python and aiokafka write:

    magic  b"\\x82SNAPPY\\x00"   (8 bytes)
    version int32, compatible version int32
    then blocks: length int32 (big-endian), raw snappy block of that length

Decompression recognises the xerial magic and falls back to a raw block otherwise.
lz4 is the lz4 frame format; zstd frames may lack a content size.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import cramjam

from luong.errors import CorruptRecordError
from luong.protocol.records.batch import Compression

__all__ = ["compress", "decompress"]

XERIAL_MAGIC = b"\x82SNAPPY\x00"
_XERIAL_HEADER_SIZE = 16


def _xerial_unwrap(data: bytes) -> bytes:
    out = bytearray()
    position = _XERIAL_HEADER_SIZE
    while position < len(data):
        if position + 4 > len(data):
            raise CorruptRecordError("xerial snappy block length truncated")
        (length,) = struct.unpack_from(">i", data, position)
        position += 4
        block = data[position : position + length]
        if length < 0 or len(block) != length:
            raise CorruptRecordError("xerial snappy block truncated")
        out += bytes(cramjam.snappy.decompress_raw(block))
        position += length
    return bytes(out)


def _snappy_decompress(data: bytes) -> bytes:
    if data[:8] == XERIAL_MAGIC:
        return _xerial_unwrap(data)
    return bytes(cramjam.snappy.decompress_raw(data))


_DECOMPRESS: dict[Compression, Callable[[bytes], bytes]] = {
    Compression.GZIP: lambda data: bytes(cramjam.gzip.decompress(data)),
    Compression.SNAPPY: _snappy_decompress,
    Compression.LZ4: lambda data: bytes(cramjam.lz4.decompress(data)),
    Compression.ZSTD: lambda data: bytes(cramjam.zstd.decompress(data)),
}

_COMPRESS: dict[Compression, Callable[[bytes], bytes]] = {
    Compression.GZIP: lambda data: bytes(cramjam.gzip.compress(data)),
    Compression.SNAPPY: lambda data: bytes(cramjam.snappy.compress_raw(data)),
    Compression.LZ4: lambda data: bytes(cramjam.lz4.compress(data, level=1)),
    Compression.ZSTD: lambda data: bytes(cramjam.zstd.compress(data)),
}


def decompress(codec: Compression, data: bytes) -> bytes:
    """Decompress a batch's records section; a damaged stream is CorruptRecordError."""
    if codec is Compression.NONE:
        return data
    try:
        return _DECOMPRESS[codec](data)
    except cramjam.DecompressionError as error:
        raise CorruptRecordError(f"cannot decompress {codec.name} records: {error}") from None


def compress(codec: Compression, data: bytes) -> bytes:
    """Compress a records section with `codec` (raw snappy blocks for snappy)."""
    if codec is Compression.NONE:
        return data
    return _COMPRESS[codec](data)
