"""Rebuilding a partition's ProducerStateTable on open: a snapshot, then a header scan.

The snapshot of a partition (kept in the storage's checkpoint file, see
docs/formats.md) is the table as it stood at offset `offset`, taken when every
batch before `offset` had been fsynced. On open, the table is the snapshot plus
the batches from `offset` to the log end, read header by header (a control batch
is read whole for its marker). Without a usable snapshot (none yet, or one past
the recovered log end because its tail was lost), the whole log is scanned. The
cost therefore follows the bytes written since the last checkpoint, like recovery.
"""

from __future__ import annotations

from typing import Any

from luong.storage.log.partition_log import PartitionLog
from luong.storage.producers import ProducerStateTable, info_of

__all__ = ["rebuild_producer_state", "snapshot_producer_state"]


def snapshot_producer_state(log: PartitionLog) -> dict[str, Any]:
    """The table as of the log end, for the checkpoint file (JSON-ready)."""
    return {"offset": log.log_end_offset, **log.producers.to_json()}


def rebuild_producer_state(log: PartitionLog, snapshot: dict[str, Any] | None, now_ms: int) -> None:
    """Set `log.producers` from `snapshot` and the batches after it."""
    start = log.segments[0].base_offset
    table = ProducerStateTable()
    if snapshot is not None and start <= snapshot["offset"] <= log.log_end_offset:
        table = ProducerStateTable.from_json(snapshot)
        start = snapshot["offset"]
    for segment in log.segments:
        if segment.next_offset <= start or segment.size == 0:
            continue
        position = segment.position_of(start) if segment.base_offset < start else 0
        for batch_position, header in segment.headers_from(position):
            if header.producer_id < 0 or header.last_offset < start:
                continue
            batch = b""
            if header.is_control:
                batch = segment.read_bytes(batch_position, header.size)
            table.record_batch(info_of(header), header.base_offset, now_ms, batch)
    table.truncate_before(log.log_start_offset)
    log.producers = table
