"""PartitionMerge: records of several partitions in event-time order, waiting only
for partitions that may still hold older records."""

from __future__ import annotations

from luong.pipelines.merge import PartitionMerge

A, B, C = ("t", 0), ("t", 1), ("t", 2)


def test_buffered_records_come_out_in_timestamp_order_once_every_partition_has_some():
    merge: PartitionMerge[str] = PartitionMerge(max_wait_ms=500)
    merge.assign([A, B], now_ms=0)
    for ts in (1, 5, 9):
        merge.add(A, ts, f"a{ts}")
    assert merge.ready(now_ms=10) == []  # B may still have older records
    merge.add(B, 3, "b3")
    merge.add(B, 4, "b4")
    # after b4, B is empty again and not known to be at its end: wait for it
    assert merge.ready(now_ms=10) == ["a1", "b3", "b4"]
    merge.caught_up(B)
    assert merge.ready(now_ms=10) == ["a5", "a9"]


def test_a_partition_at_its_end_is_not_waited_for():
    merge: PartitionMerge[str] = PartitionMerge()
    merge.assign([A, B, C], now_ms=0)
    merge.caught_up(B)
    merge.caught_up(C)
    merge.add(A, 7, "a7")
    assert merge.ready(now_ms=1) == ["a7"]
    merge.add(B, 2, "b2")  # a new record: B is no longer known to be at its end
    merge.add(A, 8, "a8")
    assert merge.ready(now_ms=2) == ["b2"]  # then wait for B, which may have more
    assert merge.ready(now_ms=600) == ["a8"]  # ... but not longer than max_wait_ms


def test_ties_go_to_the_partition_named_first_and_revoked_partitions_are_forgotten():
    merge: PartitionMerge[str] = PartitionMerge()
    merge.assign([A, B], now_ms=0)
    merge.add(B, 5, "b5")
    merge.add(A, 5, "a5")
    merge.caught_up(A)
    merge.caught_up(B)
    assert merge.ready(now_ms=0) == ["a5", "b5"]
    merge.add(A, 6, "a6")
    merge.remove([A])
    assert merge.ready(now_ms=0) == [] and len(merge) == 0


def test_clear_drops_a_partitions_buffer_after_a_seek():
    merge: PartitionMerge[str] = PartitionMerge()
    merge.assign([A], now_ms=0)
    merge.add(A, 1, "a1")
    merge.clear(A, now_ms=0)
    assert merge.buffered(A) == 0
    merge.add(A, 1, "a1")
    merge.caught_up(A)
    assert merge.ready(now_ms=0) == ["a1"]
