"""Kafka v2 record batches: header validation for the hot path, full codecs off it."""

from luong.protocol.records.batch import (
    BATCH_HEADER_SIZE,
    LOG_OVERHEAD,
    BatchHeader,
    Compression,
    TimestampType,
    check_batch,
    set_base_offset,
    split_batches,
    stamp_header,
    stamp_prefix,
)
from luong.protocol.records.compression import compress, decompress
from luong.protocol.records.record import (
    ControlType,
    Header,
    Record,
    RecordBatch,
    build_batch,
    build_marker,
    control_type,
    decode_batch,
    decode_batches,
    rebuild_batch,
    recompress,
)

__all__ = [
    "BATCH_HEADER_SIZE",
    "LOG_OVERHEAD",
    "BatchHeader",
    "Compression",
    "ControlType",
    "Header",
    "Record",
    "RecordBatch",
    "TimestampType",
    "build_batch",
    "build_marker",
    "check_batch",
    "compress",
    "control_type",
    "decode_batch",
    "decode_batches",
    "decompress",
    "rebuild_batch",
    "recompress",
    "set_base_offset",
    "split_batches",
    "stamp_header",
    "stamp_prefix",
]
