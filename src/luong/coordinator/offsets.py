"""OffsetStore: committed offsets per (group, topic, partition), a pure state machine.

`commit` validates a request and returns the records that make it durable, plus
the per-partition answers; the caller appends the records to `__consumer_offsets`
and then `apply`s them, as replay does on start-up, so state changes only by
records. `expire` returns tombstones for the offsets of groups that have had no
commit for `offsets.retention.minutes` and no members. Owned by the broker's
event loop; no I/O and no clock of its own.

Offsets committed in a transaction (TxnOffsetCommit) are written as a transactional
batch of the producer; they stay pending, invisible to OffsetFetch, until the
transaction's marker in `__consumer_offsets` commits them (or aborts them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from luong.coordinator.offset_records import decode_key, decode_value, encode_key, encode_value
from luong.errors import ErrorCode
from luong.protocol.records import ControlType, Record, RecordBatch, control_type

__all__ = ["CommitRequest", "MAX_METADATA_BYTES", "OffsetAndMetadata", "OffsetKey", "OffsetStore"]

MAX_METADATA_BYTES = 4096  # Kafka's offset.metadata.max.bytes


@dataclass(frozen=True, slots=True)
class OffsetKey:
    group: str
    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class OffsetAndMetadata:
    offset: int
    leader_epoch: int
    metadata: str
    commit_timestamp_ms: int


@dataclass(frozen=True, slots=True)
class CommitRequest:
    """One partition of an OffsetCommit request."""

    key: OffsetKey
    offset: int
    leader_epoch: int
    metadata: str | None


class OffsetStore:
    """Committed offsets, rebuilt from records."""

    def __init__(self) -> None:
        self._offsets: dict[OffsetKey, OffsetAndMetadata] = {}
        self._last_commit_ms: dict[str, int] = {}
        self._pending: dict[int, list[Record]] = {}  # producer id → its transaction's offsets

    def apply_batch(self, batch: RecordBatch) -> None:
        """Replay one stored batch: plain records apply now, a transaction's wait for
        its marker."""
        header = batch.header
        if header.is_control:
            self.end_transaction(header.producer_id, control_type(batch) is ControlType.COMMIT)
        elif header.is_transactional:
            self.stage(header.producer_id, batch.records)
        else:
            self.apply(batch.records)

    def stage(self, producer_id: int, records: Iterable[Record]) -> None:
        """Offsets of an open transaction (written, not yet visible)."""
        self._pending.setdefault(producer_id, []).extend(records)

    def end_transaction(self, producer_id: int, commit: bool) -> None:
        """The transaction's marker: its offsets become visible, or are dropped."""
        records = self._pending.pop(producer_id, [])
        if commit:
            self.apply(records)

    def pending(self, group: str) -> set[tuple[str, int]]:
        """Partitions of `group` with offsets waiting in an open transaction."""
        out = set()
        for records in self._pending.values():
            for record in records:
                _, fields = decode_key(record.key or b"")
                if fields is not None and fields[0] == group:
                    out.add((fields[1], fields[2]))
        return out

    def commit(
        self, requests: Sequence[CommitRequest], now_ms: int, membership_error: int = 0
    ) -> tuple[list[Record], list[int]]:
        """Records to append and an error code per request (0: accepted).

        `membership_error` is the group coordinator's verdict on the committing
        member and generation (GroupCoordinator.check_commit); when it is not 0,
        every request gets it and nothing is written.
        """
        records: list[Record] = []
        errors = []
        for request in requests:
            error = membership_error or self._check(request)
            errors.append(error)
            if error == 0:
                value = encode_value(
                    request.offset, request.leader_epoch, request.metadata or "", now_ms
                )
                key = encode_key(request.key.group, request.key.topic, request.key.partition)
                records.append(Record(len(records), now_ms, key, value))
        return records, errors

    @staticmethod
    def _check(request: CommitRequest) -> int:
        if not request.key.group:
            return ErrorCode.INVALID_GROUP_ID
        if len((request.metadata or "").encode()) > MAX_METADATA_BYTES:
            return ErrorCode.OFFSET_METADATA_TOO_LARGE
        return 0

    def apply(self, records: Iterable[Record]) -> None:
        """Replay records (after an append, or on start-up)."""
        for record in records:
            if record.key is None:
                continue
            _, fields = decode_key(record.key)
            if fields is None:
                continue  # a record kind this store does not own
            key = OffsetKey(*fields)
            if record.value is None:
                self._offsets.pop(key, None)
                continue
            offset, epoch, metadata, timestamp = decode_value(record.value)
            self._offsets[key] = OffsetAndMetadata(offset, epoch, metadata, timestamp)
            self._last_commit_ms[key.group] = max(self._last_commit_ms.get(key.group, 0), timestamp)

    def fetch(
        self, group: str, partitions: Iterable[tuple[str, int]] | None
    ) -> dict[tuple[str, int], OffsetAndMetadata | None]:
        """Committed offsets of `group` for `partitions` (None: every committed one)."""
        if partitions is None:
            return {(k.topic, k.partition): v for k, v in self._offsets.items() if k.group == group}
        return {
            (topic, partition): self._offsets.get(OffsetKey(group, topic, partition))
            for topic, partition in partitions
        }

    def groups(self) -> set[str]:
        return {key.group for key in self._offsets}

    def tombstones(
        self, group: str, now_ms: int = 0, partitions: set[tuple[str, int]] | None = None
    ) -> list[Record]:
        """Records deleting the committed offsets of `group` (on `partitions` only, if given)."""
        keys = [
            k
            for k in self._offsets
            if k.group == group and (partitions is None or (k.topic, k.partition) in partitions)
        ]
        return [
            Record(i, now_ms, encode_key(k.group, k.topic, k.partition), None)
            for i, k in enumerate(keys)
        ]

    def expire(self, now_ms: int, retention_ms: int, active: Iterable[str] = ()) -> list[Record]:
        """Tombstones for every offset of groups whose last commit is older than
        `retention_ms`, except `active` groups (those with members), as Kafka does."""
        keep = set(active)
        stale = {
            g
            for g, last in self._last_commit_ms.items()
            if now_ms - last > retention_ms and g not in keep
        }
        keys = [k for k in self._offsets if k.group in stale]
        return [
            Record(i, now_ms, encode_key(k.group, k.topic, k.partition), None)
            for i, k in enumerate(keys)
        ]
