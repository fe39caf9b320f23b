"""ProducerStateTable: per partition, what each idempotent or transactional producer wrote.

For every producer id seen in the partition the table keeps (Kafka's ProducerStateEntry):
the producer epoch, its last five batches (first and last sequence, first and last
offset), the broker time of its last append, the coordinator epoch of its last
transaction marker, and the first offset of its open transaction (-1: none). The
partition's aborted transactions (producer id, first offset, marker offset) are kept
in marker order; read_committed fetches return the ones overlapping what they read.

A client append is `check`ed first (all batches, against a staged copy, before
anything is written) and `record`ed after it is written; `record` is also how the
table is rebuilt from a log's batch headers. The rules are Kafka's:
- a batch without a producer id (-1) is not tracked: the fast path;
- an epoch below the producer's current one: InvalidProducerEpochError;
- a batch equal (same epoch, first and last sequence) to one of the last five is a
  duplicate: nothing is written and the append answers with the first one's offsets;
- a new epoch must start at sequence 0 (unless the old epoch is unknown);
- otherwise the first sequence must follow the last one (int32 wrapping to 0);
  an unknown producer (state expired, or never seen here) may start anywhere;
- a non-transactional batch while the producer has an open transaction:
  InvalidTxnStateError.
Owned by its partition's owner (the storage's event loop); pure: no I/O, no clock.
"""

from __future__ import annotations

import bisect
import struct
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from luong.errors import (
    InvalidProducerEpochError,
    InvalidTxnStateError,
    OutOfOrderSequenceError,
)
from luong.protocol.records import BatchHeader, decode_batch

__all__ = [
    "AbortedTxn",
    "BatchInfo",
    "CachedBatch",
    "ProducerEntry",
    "ProducerStateTable",
    "batch_info",
    "info_of",
    "marker_of",
]

MAX_CACHED_BATCHES = 5  # Kafka's per-producer window (max.in.flight.requests.per.connection)
INT32_MAX = 2**31 - 1
_FIELDS = struct.Struct(">hi16xqhi")  # attributes @21 .. baseSequence @53
_TRANSACTIONAL, _CONTROL = 0x10, 0x20
_MARKER_KEY = struct.Struct(">hh")  # control record key: version, type (0 abort, 1 commit)


class BatchInfo(NamedTuple):
    """The producer fields of a stored or produced batch header."""

    producer_id: int
    epoch: int
    base_sequence: int
    last_offset_delta: int
    transactional: bool
    control: bool


def batch_info(batch: bytes | memoryview) -> BatchInfo:
    attributes, delta, producer_id, epoch, sequence = _FIELDS.unpack_from(batch, 21)
    return BatchInfo(
        producer_id,
        epoch,
        sequence,
        delta,
        bool(attributes & _TRANSACTIONAL),
        bool(attributes & _CONTROL),
    )


def info_of(header: BatchHeader) -> BatchInfo:
    return BatchInfo(
        header.producer_id,
        header.producer_epoch,
        header.base_sequence,
        header.last_offset_delta,
        header.is_transactional,
        header.is_control,
    )


class CachedBatch(NamedTuple):
    first_sequence: int
    last_sequence: int
    first_offset: int
    last_offset: int


class AbortedTxn(NamedTuple):
    producer_id: int
    first_offset: int
    last_offset: int  # the abort marker's offset


@dataclass(slots=True)
class ProducerEntry:
    producer_id: int
    epoch: int
    last_append_ms: int
    batches: deque[CachedBatch] = field(default_factory=lambda: deque(maxlen=MAX_CACHED_BATCHES))
    coordinator_epoch: int = -1
    txn_first_offset: int = -1

    @property
    def last_sequence(self) -> int:
        return self.batches[-1].last_sequence if self.batches else -1

    def to_json(self) -> list[Any]:
        return [
            self.producer_id,
            self.epoch,
            self.last_append_ms,
            self.coordinator_epoch,
            self.txn_first_offset,
            [list(b) for b in self.batches],
        ]

    @classmethod
    def from_json(cls, data: list[Any]) -> ProducerEntry:
        producer_id, epoch, last_ms, coordinator_epoch, txn_first, batches = data
        entry = cls(producer_id, epoch, last_ms, coordinator_epoch=coordinator_epoch)
        entry.txn_first_offset = txn_first
        entry.batches.extend(CachedBatch(*b) for b in batches)
        return entry


class _Staged(NamedTuple):
    """What `check` needs of a producer while it walks a request's batches."""

    epoch: int
    last_sequence: int
    known: bool  # the producer has state here (not expired, not new)
    in_txn: bool


class ProducerStateTable:
    """Every producer's state in one partition, and its aborted transactions."""

    def __init__(self) -> None:
        self.producers: dict[int, ProducerEntry] = {}
        self.aborted: list[AbortedTxn] = []

    # -- client appends --------------------------------------------------------------

    def check(self, batches: Sequence[memoryview]) -> tuple[int, int] | None:
        """Validate a client append; (first, last offset) of the batch it duplicates, or
        None to append it. Raises (and changes nothing) when it must be refused."""
        staged: dict[int, _Staged] = {}
        for batch in batches:
            info = batch_info(batch)
            if info.producer_id < 0:
                continue
            entry = self.producers.get(info.producer_id)
            first = info.producer_id not in staged  # its first batch in this request
            if first and (duplicate := _duplicate(entry, info)) is not None:
                return duplicate
            state = _stage(entry) if first else staged[info.producer_id]
            staged[info.producer_id] = _check_batch(state, info)
        return None

    def record(self, batches: Iterable[bytes | memoryview], base_offset: int, now_ms: int) -> None:
        """Account for batches written from `base_offset` on (dense offsets)."""
        offset = base_offset
        for batch in batches:
            info = batch_info(batch)
            if info.producer_id >= 0:
                self.record_batch(info, offset, now_ms, batch)
            offset += info.last_offset_delta + 1

    def record_batch(
        self, info: BatchInfo, offset: int, now_ms: int, batch: bytes | memoryview = b""
    ) -> None:
        """Account for one batch stored at `offset` (`batch` is read for markers only)."""
        entry = self.producers.get(info.producer_id)
        if entry is None:
            entry = self.producers[info.producer_id] = ProducerEntry(
                info.producer_id, info.epoch, now_ms
            )
        if info.epoch != entry.epoch:
            entry.epoch = info.epoch
            entry.batches.clear()
        entry.last_append_ms = now_ms
        last_offset = offset + info.last_offset_delta
        if info.control:
            self._end_transaction(entry, batch, last_offset)
            return
        if info.base_sequence >= 0:
            last_sequence = (info.base_sequence + info.last_offset_delta) % (INT32_MAX + 1)
            entry.batches.append(
                CachedBatch(info.base_sequence, last_sequence, offset, last_offset)
            )
        if info.transactional and entry.txn_first_offset < 0:
            entry.txn_first_offset = offset

    def check_marker(self, producer_id: int, epoch: int) -> None:
        """A transaction marker must not carry an epoch older than the producer's."""
        entry = self.producers.get(producer_id)
        if entry is not None and epoch < entry.epoch:
            raise InvalidProducerEpochError(
                f"marker of producer {producer_id} epoch {epoch}: current epoch is {entry.epoch}"
            )

    def _end_transaction(
        self, entry: ProducerEntry, batch: bytes | memoryview, offset: int
    ) -> None:
        commit, coordinator_epoch = marker_of(batch)
        if entry.txn_first_offset >= 0 and not commit:
            self.aborted.append(AbortedTxn(entry.producer_id, entry.txn_first_offset, offset))
        entry.txn_first_offset = -1
        entry.coordinator_epoch = coordinator_epoch

    # -- reads -----------------------------------------------------------------------

    def first_unstable_offset(self) -> int | None:
        """The first offset of the oldest open transaction (None: all are decided)."""
        open_txns = [e.txn_first_offset for e in self.producers.values() if e.txn_first_offset >= 0]
        return min(open_txns, default=None)

    def last_stable_offset(self, log_end_offset: int) -> int:
        first = self.first_unstable_offset()
        return log_end_offset if first is None else first

    def aborted_between(self, start: int, end: int) -> list[AbortedTxn]:
        """Aborted transactions with records in [start, end) (markers come in offset
        order, so the ones ending before `start` are skipped by bisection)."""
        i = bisect.bisect_left(self.aborted, start, key=lambda t: t.last_offset)
        return [t for t in self.aborted[i:] if t.first_offset < end]

    # -- upkeep ----------------------------------------------------------------------

    def expire(self, now_ms: int, expiration_ms: int) -> None:
        """Forget producers idle for `producer.id.expiration.ms` (never one in a transaction)."""
        stale = [
            pid
            for pid, e in self.producers.items()
            if e.txn_first_offset < 0 and now_ms - e.last_append_ms >= expiration_ms
        ]
        for pid in stale:
            del self.producers[pid]

    def truncate_before(self, log_start_offset: int) -> None:
        """Drop aborted transactions wholly before the log start (retention, DeleteRecords)."""
        self.aborted = [t for t in self.aborted if t.last_offset >= log_start_offset]

    def to_json(self) -> dict[str, Any]:
        return {
            "producers": [e.to_json() for e in self.producers.values()],
            "aborted": [list(t) for t in self.aborted],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProducerStateTable:
        table = cls()
        for item in data["producers"]:
            entry = ProducerEntry.from_json(item)
            table.producers[entry.producer_id] = entry
        table.aborted = [AbortedTxn(*t) for t in data["aborted"]]
        return table


def marker_of(batch: bytes | memoryview) -> tuple[bool, int]:
    """(commit?, coordinator epoch) of a control batch's marker record.

    A marker batch is uncompressed with one record: length varint, attributes int8,
    timestamp delta varint, offset delta varint, key length varint (4), key
    (version int16, type int16), value length varint (6), value (version int16,
    coordinator epoch int32).
    """
    records = decode_batch(batch).records  # markers are rare: decode them whole
    record = records[0] if records else None
    if record is None or record.key is None or len(record.key) < 4:
        return False, -1
    _, kind = _MARKER_KEY.unpack_from(record.key)
    epoch = struct.unpack_from(">i", record.value, 2)[0] if record.value else -1
    return kind == 1, epoch


def _stage(entry: ProducerEntry | None) -> _Staged:
    if entry is None:
        return _Staged(-1, -1, False, False)
    return _Staged(entry.epoch, entry.last_sequence, True, entry.txn_first_offset >= 0)


def _duplicate(entry: ProducerEntry | None, info: BatchInfo) -> tuple[int, int] | None:
    if entry is None or info.epoch != entry.epoch or info.base_sequence < 0:
        return None
    last = (info.base_sequence + info.last_offset_delta) % (INT32_MAX + 1)
    for cached in entry.batches:
        if cached.first_sequence == info.base_sequence and cached.last_sequence == last:
            return cached.first_offset, cached.last_offset
    return None


def _check_batch(state: _Staged, info: BatchInfo) -> _Staged:
    """The producer's staged state after `info`, or the error refusing it."""
    pid = info.producer_id
    if info.control:
        raise InvalidTxnStateError(f"producer {pid}: clients may not write control batches")
    if state.known and info.epoch < state.epoch:
        raise InvalidProducerEpochError(
            f"producer {pid} epoch {info.epoch} is older than its current epoch {state.epoch}"
        )
    sequence = info.base_sequence
    if sequence >= 0 and state.known:
        if info.epoch != state.epoch and sequence != 0:
            raise OutOfOrderSequenceError(
                f"producer {pid}: new epoch {info.epoch} must start at sequence 0, not {sequence}"
            )
        expected = 0 if state.last_sequence == INT32_MAX else state.last_sequence + 1
        if info.epoch == state.epoch and sequence != expected:
            raise OutOfOrderSequenceError(
                f"producer {pid} epoch {info.epoch}: sequence {sequence}, expected {expected}"
            )
    in_txn = state.in_txn and info.epoch == state.epoch
    if in_txn and not info.transactional:
        raise InvalidTxnStateError(
            f"producer {pid}: non-transactional batch while its transaction is open"
        )
    last = (sequence + info.last_offset_delta) % (INT32_MAX + 1) if sequence >= 0 else -1
    return _Staged(info.epoch, last, True, in_txn or info.transactional)
