"""`luong dump-log FILE [--records]`: the batches of a `.log` segment file, as
`kafka-dump-log.sh` prints them."""

from __future__ import annotations

import argparse

from luong.protocol.records import BatchHeader, decode_batch
from luong.storage.log.dump import iter_segment_batches

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    for position, batch in iter_segment_batches(args.file):
        h = BatchHeader.parse(batch)
        print(
            f"baseOffset: {h.base_offset} lastOffset: {h.last_offset} count: {h.record_count} "
            f"position: {position} size: {h.size} compression: {h.compression.name.lower()} "
            f"maxTimestamp: {h.max_timestamp} producerId: {h.producer_id} "
            f"isTransactional: {h.is_transactional} isControl: {h.is_control}"
        )
        if args.records:
            for r in decode_batch(batch).records:
                print(
                    f"| offset: {r.offset} timestamp: {r.timestamp} key: {r.key!r} "
                    f"value: {r.value!r} headers: {list(r.headers)}"
                )
    return 0
