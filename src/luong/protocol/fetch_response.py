"""Hand-rolled FetchResponse encoder, versions 4-12, with records passed through.

    throttle_time_ms int32, error_code int16 (v7+), session_id int32 (v7+),
    responses [topic: name, partitions [partition_index int32, error_code int16,
        high_watermark int64, last_stable_offset int64, log_start_offset int64 (v5+),
        aborted_transactions nullable [producer_id int64, first_offset int64],
        preferred_read_replica int32 (v11+), records nullable bytes]]
Flexible from v12 (compact lengths, tagged-field sections). The stored batches
are never joined into the response: the encoder returns the frame as a list of
pieces, bytes for the fields and the storage's regions for the records, so the
server can send each region straight from its file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from luong.protocol.primitives import (
    INT16,
    INT32,
    INT64,
    length_prefix,
    string,
)

__all__ = ["Chunk", "PartitionFetchData", "encode_fetch_response"]

FLEXIBLE_FROM = 12


class Chunk(Protocol):
    """Stored bytes of a known length (a storage region)."""

    @property
    def length(self) -> int: ...


@dataclass(frozen=True, slots=True)
class PartitionFetchData:
    """One partition's answer to a Fetch request."""

    partition_index: int
    error_code: int = 0
    high_watermark: int = -1
    last_stable_offset: int = -1
    log_start_offset: int = -1
    aborted_transactions: Sequence[tuple[int, int]] | None = None
    records: Sequence[Chunk] = field(default_factory=tuple)


def encode_fetch_response(
    version: int,
    correlation_id: int,
    topics: Sequence[tuple[str, Sequence[PartitionFetchData]]],
    *,
    throttle_time_ms: int = 0,
    error_code: int = 0,
    session_id: int = 0,
) -> list[bytes | Chunk]:
    """The response frame as pieces: bytes, and the regions of stored records."""
    flexible = version >= FLEXIBLE_FROM
    pieces: list[bytes | Chunk] = []
    head = [INT32.pack(correlation_id), b"\x00" if flexible else b"", INT32.pack(throttle_time_ms)]
    if version >= 7:
        head += [INT16.pack(error_code), INT32.pack(session_id)]
    head.append(length_prefix(len(topics), flexible))
    pending = b"".join(head)
    for name, partitions in topics:
        pending += string(name, flexible)
        pending += length_prefix(len(partitions), flexible)
        for partition in partitions:
            pending += _partition_head(version, flexible, partition)
            if partition.records:
                pieces.append(pending)
                pieces.extend(partition.records)
                pending = b""
            pending += b"\x00" if flexible else b""  # the partition's tagged fields
        pending += b"\x00" if flexible else b""
    pending += b"\x00" if flexible else b""
    pieces.append(pending)
    size = sum(len(p) if isinstance(p, bytes) else p.length for p in pieces)
    return [INT32.pack(size), *pieces]


def _partition_head(version: int, flexible: bool, p: PartitionFetchData) -> bytes:
    out = [
        INT32.pack(p.partition_index),
        INT16.pack(p.error_code),
        INT64.pack(p.high_watermark),
        INT64.pack(p.last_stable_offset),
    ]
    if version >= 5:
        out.append(INT64.pack(p.log_start_offset))
    aborted = p.aborted_transactions
    if aborted is None:
        out.append(length_prefix(None, flexible))
    else:
        out.append(length_prefix(len(aborted), flexible))
        for producer_id, first_offset in aborted:
            out += [INT64.pack(producer_id), INT64.pack(first_offset)]
            if flexible:
                out.append(b"\x00")
    if version >= 11:
        out.append(INT32.pack(-1))  # preferred_read_replica: none
    size = sum(chunk.length for chunk in p.records)
    out.append(length_prefix(size, flexible))
    return b"".join(out)
