"""Hand-rolled ProduceResponse encoder, versions 3-11 (kio's costs ~36 µs per response).

    responses [topic: name, partitions [index int32, error_code int16,
               base_offset int64, log_append_time_ms int64 (v2+),
               log_start_offset int64 (v5+), record_errors [batch_index int32,
               batch_index_error_message nullable string] (v8+),
               error_message nullable string (v8+)]]
    throttle_time_ms int32
Flexible from v9: compact arrays and strings, an empty tagged-field section (one
0 byte) closing every struct and the response header.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from luong.protocol.primitives import (
    INT16,
    INT32,
    INT64,
    length_prefix,
    string,
)

__all__ = ["PartitionProduceResult", "encode_produce_response"]

FLEXIBLE_FROM = 9


@dataclass(frozen=True, slots=True)
class PartitionProduceResult:
    """One partition's answer to a Produce request."""

    index: int
    error_code: int = 0
    base_offset: int = -1
    log_append_time_ms: int = -1
    log_start_offset: int = -1
    error_message: str | None = None
    record_errors: tuple[tuple[int, str | None], ...] = ()  # (record index, why), KIP-467


def encode_produce_response(
    version: int,
    correlation_id: int,
    topics: Sequence[tuple[str, Sequence[PartitionProduceResult]]],
    throttle_time_ms: int = 0,
) -> bytes:
    """The whole response frame, size prefix included."""
    flexible = version >= FLEXIBLE_FROM
    parts = [INT32.pack(correlation_id), b"\x00" if flexible else b""]
    parts.append(length_prefix(len(topics), flexible))
    for name, partitions in topics:
        parts.append(string(name, flexible))
        parts.append(length_prefix(len(partitions), flexible))
        parts.extend(_partition(version, flexible, p) for p in partitions)
        parts.append(b"\x00" if flexible else b"")
    parts.append(INT32.pack(throttle_time_ms))
    parts.append(b"\x00" if flexible else b"")
    body = b"".join(parts)
    return INT32.pack(len(body)) + body


def _partition(version: int, flexible: bool, p: PartitionProduceResult) -> bytes:
    out = [INT32.pack(p.index), INT16.pack(p.error_code), INT64.pack(p.base_offset)]
    out.append(INT64.pack(p.log_append_time_ms))
    if version >= 5:
        out.append(INT64.pack(p.log_start_offset))
    if version >= 8:
        out.append(length_prefix(len(p.record_errors), flexible))
        for index, message in p.record_errors:
            out += [INT32.pack(index), string(message, flexible), b"\x00" if flexible else b""]
        out.append(string(p.error_message, flexible))
    if flexible:
        out.append(b"\x00")
    return b"".join(out)
