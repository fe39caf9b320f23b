"""TransactionCoordinator: transactional ids and producer ids, a pure state machine.

    Empty/CompleteCommit/CompleteAbort ──AddPartitions/AddOffsets──▶ Ongoing
    Ongoing ──EndTxn(commit)──▶ PrepareCommit ──markers written──▶ CompleteCommit
    Ongoing ──EndTxn(abort), timeout, fencing──▶ PrepareAbort ──markers──▶ CompleteAbort

Every transition is a record of `__transaction_state` (txn_records.py); the caller
writes it and then `apply`s it, exactly as replay does on start-up, so the state in
memory is always the replay of the log. Methods that validate a request return
(error code, records); 0 with no records means nothing changes. The caller holds a
lock per transactional id across validate → write → apply, and writes the markers
of a Prepare* transaction (to every partition in it) before completing it.

Producer ids come from blocks of BLOCK_SIZE reserved by a record before any id of
the block is handed out, so an id is never given twice, even across restarts.
Owned by the broker's event loop; no I/O, no clock of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import IntEnum

from luong.coordinator.txn_records import (
    BLOCK_KEY,
    TxnLogValue,
    decode_block_value,
    decode_txn_key,
    decode_txn_value,
    encode_block_value,
    encode_txn_key,
    encode_txn_value,
    group_partitions,
)
from luong.errors import ErrorCode
from luong.protocol.records import Record

__all__ = ["BLOCK_SIZE", "TransactionCoordinator", "TxnMetadata", "TxnState"]

BLOCK_SIZE = 1000
MAX_EPOCH = 32766  # Kafka: Short.MaxValue - 1; past it a producer gets a new id


class TxnState(IntEnum):
    """Kafka's TransactionState ids (as stored in the transaction log)."""

    EMPTY = 0
    ONGOING = 1
    PREPARE_COMMIT = 2
    PREPARE_ABORT = 3
    COMPLETE_COMMIT = 4
    COMPLETE_ABORT = 5
    DEAD = 6
    PREPARE_EPOCH_FENCE = 7

    @property
    def display(self) -> str:
        return "".join(word.capitalize() for word in self.name.split("_"))


PREPARING = (TxnState.PREPARE_COMMIT, TxnState.PREPARE_ABORT)
SETTLED = (TxnState.EMPTY, TxnState.COMPLETE_COMMIT, TxnState.COMPLETE_ABORT)


@dataclass(frozen=True, slots=True)
class TxnMetadata:
    transactional_id: str
    producer_id: int
    epoch: int
    timeout_ms: int
    state: TxnState
    partitions: frozenset[tuple[str, int]] = field(default_factory=frozenset)
    start_ms: int = -1
    last_update_ms: int = -1


class TransactionCoordinator:
    """Every transactional id of this node, and the producer id allocator."""

    def __init__(self, max_timeout_ms: int = 900_000, id_expiration_ms: int = 604_800_000) -> None:
        self.max_timeout_ms = max_timeout_ms
        self.id_expiration_ms = id_expiration_ms
        self.txns: dict[str, TxnMetadata] = {}
        self._by_producer: dict[int, str] = {}  # producer id → its transactional id
        self.next_producer_id = 0
        self.block_end = 0  # ids below it (and from next_producer_id) are reserved

    # -- records ---------------------------------------------------------------------

    def apply(self, records: Iterable[Record]) -> None:
        """Replay records (after writing them, or on start-up)."""
        for record in records:
            if record.key is None:
                continue
            if record.key == BLOCK_KEY:
                if record.value is not None:
                    start, end = decode_block_value(record.value)
                    self.next_producer_id = max(self.next_producer_id, start)
                    self.block_end = max(self.block_end, end)
                continue
            _, transactional_id = decode_txn_key(record.key)
            if transactional_id is None:
                continue
            old = self.txns.pop(transactional_id, None)
            if old is not None:
                self._by_producer.pop(old.producer_id, None)
            if record.value is not None:
                txn = _metadata(transactional_id, decode_txn_value(record.value))
                self.txns[transactional_id] = txn
                self._by_producer[txn.producer_id] = transactional_id

    @staticmethod
    def record_of(txn: TxnMetadata, now_ms: int) -> Record:
        value = TxnLogValue(
            txn.producer_id,
            txn.epoch,
            txn.timeout_ms,
            int(txn.state),
            group_partitions(sorted(txn.partitions)),
            now_ms,
            txn.start_ms,
        )
        return Record(0, now_ms, encode_txn_key(txn.transactional_id), encode_txn_value(value))

    # -- producer ids ----------------------------------------------------------------

    def ids_left(self) -> int:
        return self.block_end - self.next_producer_id

    def reserve_block(self, now_ms: int) -> list[Record]:
        """The record reserving the next block (write it, apply it, then take ids)."""
        start = max(self.block_end, self.next_producer_id)
        value = encode_block_value(start, start + BLOCK_SIZE)
        return [Record(0, now_ms, BLOCK_KEY, value)]

    def take_producer_id(self) -> int:
        """The next id of the reserved block (call only when ids_left() > 0)."""
        assert self.next_producer_id < self.block_end, "reserve a block first"
        producer_id = self.next_producer_id
        self.next_producer_id += 1
        return producer_id

    def was_allocated(self, producer_id: int) -> bool:
        return 0 <= producer_id < self.block_end

    # -- InitProducerId --------------------------------------------------------------

    def check_init(
        self, transactional_id: str, timeout_ms: int, expected: tuple[int, int] | None
    ) -> int:
        """The error refusing InitProducerId for a transactional id, or 0."""
        if not 0 < timeout_ms <= self.max_timeout_ms:
            return ErrorCode.INVALID_TRANSACTION_TIMEOUT
        txn = self.txns.get(transactional_id)
        if txn is None or expected is None:
            return ErrorCode.NONE
        if expected != (txn.producer_id, txn.epoch):
            return ErrorCode.PRODUCER_FENCED  # KIP-360: only the current instance may bump itself
        return ErrorCode.NONE

    def init(
        self, now_ms: int, transactional_id: str, timeout_ms: int, new_producer_id: int | None
    ) -> tuple[TxnMetadata, list[Record]]:
        """Bump the epoch of a settled transactional id (or start one): the reply and
        its record. `new_producer_id` is used for a new id or an exhausted epoch."""
        txn = self.txns.get(transactional_id)
        if txn is None or txn.epoch >= MAX_EPOCH:
            assert new_producer_id is not None, "a new producer id is needed"
            producer_id, epoch = new_producer_id, 0
        else:
            producer_id, epoch = txn.producer_id, txn.epoch + 1
        bumped = TxnMetadata(
            transactional_id,
            producer_id,
            epoch,
            timeout_ms,
            TxnState.EMPTY,
            frozenset(),
            -1,
            now_ms,
        )
        return bumped, [self.record_of(bumped, now_ms)]

    def needs_producer_id(self, transactional_id: str) -> bool:
        txn = self.txns.get(transactional_id)
        return txn is None or txn.epoch >= MAX_EPOCH

    # -- AddPartitionsToTxn, AddOffsetsToTxn ------------------------------------------

    def check_member(self, transactional_id: str, producer_id: int, epoch: int) -> int:
        """Whether (producer id, epoch) is the current instance of the transactional id."""
        txn = self.txns.get(transactional_id)
        if txn is None or txn.producer_id != producer_id:
            return ErrorCode.INVALID_PRODUCER_ID_MAPPING
        if txn.epoch != epoch:
            return ErrorCode.PRODUCER_FENCED
        if txn.state in PREPARING or txn.state is TxnState.PREPARE_EPOCH_FENCE:
            return ErrorCode.CONCURRENT_TRANSACTIONS
        return ErrorCode.NONE

    def add_partitions(
        self,
        now_ms: int,
        transactional_id: str,
        producer_id: int,
        epoch: int,
        partitions: Iterable[tuple[str, int]],
    ) -> tuple[int, list[Record]]:
        error = self.check_member(transactional_id, producer_id, epoch)
        if error:
            return error, []
        txn = self.txns[transactional_id]
        wanted = frozenset(partitions)
        if txn.state is TxnState.ONGOING and wanted <= txn.partitions:
            return ErrorCode.NONE, []
        ongoing = txn.state is TxnState.ONGOING
        grown = replace(
            txn,
            state=TxnState.ONGOING,
            partitions=(txn.partitions if ongoing else frozenset()) | wanted,
            start_ms=txn.start_ms if ongoing else now_ms,
        )
        return ErrorCode.NONE, [self.record_of(grown, now_ms)]

    def in_transaction(self, producer_id: int, epoch: int, partition: tuple[str, int]) -> bool:
        """Whether some open transaction of (producer id, epoch) holds `partition`."""
        txn = self.txns.get(self._by_producer.get(producer_id, ""))
        return (
            txn is not None
            and txn.epoch == epoch
            and txn.state is TxnState.ONGOING
            and partition in txn.partitions
        )

    # -- EndTxn, timeouts, completion -------------------------------------------------

    def end(
        self, now_ms: int, transactional_id: str, producer_id: int, epoch: int, commit: bool
    ) -> tuple[int, list[Record]]:
        """EndTxn: Ongoing → Prepare{Commit,Abort}; a retried EndTxn of a completed
        transaction succeeds again with nothing to do."""
        txn = self.txns.get(transactional_id)
        if txn is None or txn.producer_id != producer_id:
            return ErrorCode.INVALID_PRODUCER_ID_MAPPING, []
        if txn.epoch != epoch:
            return ErrorCode.PRODUCER_FENCED, []
        done = TxnState.COMPLETE_COMMIT if commit else TxnState.COMPLETE_ABORT
        if txn.state is done:
            return ErrorCode.NONE, []
        if txn.state in PREPARING:
            return ErrorCode.CONCURRENT_TRANSACTIONS, []
        if txn.state is not TxnState.ONGOING:
            return ErrorCode.INVALID_TXN_STATE, []
        prepared = replace(txn, state=TxnState.PREPARE_COMMIT if commit else TxnState.PREPARE_ABORT)
        return ErrorCode.NONE, [self.record_of(prepared, now_ms)]

    def abort(self, now_ms: int, transactional_id: str) -> list[Record]:
        """Prepare to abort an Ongoing transaction that timed out or is being fenced: its
        epoch is bumped, so the old producer's writes and EndTxn are refused from now on."""
        txn = self.txns[transactional_id]
        fenced = replace(txn, state=TxnState.PREPARE_ABORT, epoch=min(txn.epoch + 1, MAX_EPOCH + 1))
        return [self.record_of(fenced, now_ms)]

    def complete(self, now_ms: int, transactional_id: str) -> list[Record]:
        """Prepare* → Complete* once every marker is written."""
        txn = self.txns[transactional_id]
        state = (
            TxnState.COMPLETE_COMMIT
            if txn.state is TxnState.PREPARE_COMMIT
            else TxnState.COMPLETE_ABORT
        )
        completed = replace(txn, state=state, partitions=frozenset())
        return [self.record_of(completed, now_ms)]

    def timed_out(self, now_ms: int) -> list[str]:
        """Ongoing transactions older than their timeout."""
        return [
            t.transactional_id
            for t in self.txns.values()
            if t.state is TxnState.ONGOING and now_ms - t.start_ms > t.timeout_ms
        ]

    def preparing(self) -> list[str]:
        """Transactions whose markers are still to be written (after a restart or a failure)."""
        return [t.transactional_id for t in self.txns.values() if t.state in PREPARING]

    def expire(self, now_ms: int, transactional_ids: Iterable[str] | None = None) -> list[Record]:
        """Tombstones for settled transactional ids (of `transactional_ids`, if given)
        idle for transactional.id.expiration.ms."""
        candidates = (
            self.txns.values()
            if transactional_ids is None
            else [t for i in transactional_ids if (t := self.txns.get(i)) is not None]
        )
        return [
            Record(0, now_ms, encode_txn_key(t.transactional_id), None)
            for t in candidates
            if t.state in SETTLED and now_ms - t.last_update_ms > self.id_expiration_ms
        ]


def _metadata(transactional_id: str, value: TxnLogValue) -> TxnMetadata:
    partitions = frozenset((topic, p) for topic, ps in value.partitions for p in ps)
    return TxnMetadata(
        transactional_id,
        value.producer_id,
        value.producer_epoch,
        value.timeout_ms,
        TxnState(value.status),
        partitions,
        value.start_ms,
        value.last_update_ms,
    )
