"""OffsetStore: commits become records, state is their replay, idle groups expire."""

from __future__ import annotations

from luong.coordinator.offset_records import decode_key, decode_value, encode_key
from luong.coordinator.offsets import CommitRequest, OffsetKey, OffsetStore
from luong.protocol.records import Record, build_batch, build_marker, decode_batch, decode_batches


def request(group: str, partition: int, offset: int, metadata: str | None = "m") -> CommitRequest:
    return CommitRequest(OffsetKey(group, "t", partition), offset, 0, metadata)


def test_a_commit_is_records_and_replaying_them_rebuilds_the_state() -> None:
    store = OffsetStore()
    records, errors = store.commit([request("g", 0, 10), request("g", 1, 20, None)], 1000)
    assert errors == [0, 0]
    assert store.fetch("g", None) == {}  # nothing changes before the records are applied
    [batch] = decode_batches(build_batch(records))  # as written to __consumer_offsets
    store.apply(batch.records)
    again = OffsetStore()
    again.apply(batch.records)
    for replayed in (store, again):
        committed = replayed.fetch("g", [("t", 0), ("t", 1), ("t", 2)])
        assert committed[("t", 0)] is not None and committed[("t", 0)].offset == 10
        assert committed[("t", 1)] is not None and committed[("t", 1)].metadata == ""
        assert committed[("t", 2)] is None
    assert decode_key(records[0].key or b"") == (1, ("g", "t", 0))
    assert decode_value(records[0].value or b"") == (10, 0, "m", 1000)


def test_bad_commits_are_refused_one_by_one() -> None:
    store = OffsetStore()
    records, errors = store.commit(
        [request("", 0, 1), request("g", 0, 5, "x" * 5000), request("g", 1, 7)], 1
    )
    assert errors == [24, 12, 0]  # INVALID_GROUP_ID, OFFSET_METADATA_TOO_LARGE, ok
    assert len(records) == 1
    records, errors = store.commit([request("g", 0, 1)], 1, membership_error=22)
    assert errors == [22] and records == []  # the coordinator's verdict applies to all


def test_later_commits_win_and_tombstones_delete() -> None:
    store = OffsetStore()
    for offset in (5, 9):
        records, _ = store.commit([request("g", 0, offset)], offset)
        store.apply(records)
    assert store.fetch("g", None)[("t", 0)].offset == 9  # type: ignore[union-attr]
    store.apply([Record(0, 10, encode_key("g", "t", 0), None)])
    assert store.fetch("g", None) == {}


def test_idle_groups_expire_after_the_retention() -> None:
    store = OffsetStore()
    for group, at in (("old", 1_000), ("new", 50_000)):
        records, _ = store.commit([request(group, 0, 1), request(group, 1, 2)], at)
        store.apply(records)
    tombstones = store.expire(now_ms=60_000, retention_ms=30_000)
    assert len(tombstones) == 2 and all(r.value is None for r in tombstones)
    store.apply(tombstones)
    assert store.groups() == {"new"}


def test_records_of_other_kinds_are_skipped_on_replay() -> None:
    store = OffsetStore()
    group_metadata_key = (2).to_bytes(2, "big") + b"\x00\x01g"
    store.apply([Record(0, 1, group_metadata_key, b"whatever"), Record(1, 1, None, b"x")])
    assert store.groups() == set()


def test_offsets_of_a_transaction_wait_for_its_marker() -> None:
    store = OffsetStore()
    key = OffsetKey("g", "t", 0)
    records, errors = store.commit([CommitRequest(key, 42, -1, "")], 1000)
    assert errors == [0]
    batch = build_batch(records, producer_id=5, producer_epoch=0, transactional=True)
    store.apply_batch(decode_batch(batch))
    assert store.fetch("g", [("t", 0)]) == {("t", 0): None}
    assert store.pending("g") == {("t", 0)}
    store.apply_batch(decode_batch(build_marker(5, 0, False, 0, 0)))  # aborted
    assert store.fetch("g", [("t", 0)]) == {("t", 0): None} and store.pending("g") == set()
    store.apply_batch(decode_batch(batch))
    store.apply_batch(decode_batch(build_marker(5, 0, True, 0, 0)))  # committed
    found = store.fetch("g", [("t", 0)])[("t", 0)]
    assert found is not None and found.offset == 42
