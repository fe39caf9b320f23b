"""Helpers that build record batches for tests."""

from __future__ import annotations

from luong.protocol.records import Compression, Record, build_batch

__all__ = ["make_batch"]


def make_batch(
    values: list[bytes | None],
    *,
    keys: list[bytes | None] | None = None,
    timestamp: int = 1_699_999_999_000,
    compression: Compression = Compression.NONE,
    producer: tuple[int, int, int] | None = None,
    transactional: bool = False,
) -> bytes:
    """A batch (baseOffset 0, as a producer sends it) of records with these values.

    The default timestamp lies just before ManualClock's default start.
    Record i has timestamp `timestamp + i` and key `keys[i]` (default b"k<i>").
    `producer` is (producer id, epoch, base sequence) of an idempotent producer.
    """
    keys = keys if keys is not None else [b"k%d" % i for i in range(len(values))]
    records = [
        Record(i, timestamp + i, key, value)
        for i, (key, value) in enumerate(zip(keys, values, strict=True))
    ]
    producer_id, epoch, sequence = producer or (-1, -1, -1)
    return build_batch(
        records,
        compression=compression,
        producer_id=producer_id,
        producer_epoch=epoch,
        base_sequence=sequence,
        transactional=transactional,
    )
