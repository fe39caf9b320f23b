"""TransactionService: the transaction coordinator on the event loop.

Owns the internal topic `__transaction_state` (one partition, compacted): created
on first start, replayed into the TransactionCoordinator on every start. Each
transition is written durably, then applied, under a lock per transactional id,
so requests for one id run one at a time and the state in memory is always the
replay of the log. Ending a transaction writes Prepare{Commit,Abort}, then a marker
to every partition in it (through the storage; the one of `__consumer_offsets`
through the OffsetService, which then applies or drops the offsets), then
Complete{Commit,Abort}. A ticker aborts transactions past their timeout (with an
epoch bump, fencing the producer) and finishes any whose markers are still due
(after a restart or a failed write). Producer ids come from blocks reserved by a
record first.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable

from luong.broker.internal import Ticker, open_internal_topic
from luong.broker.offsets import OFFSETS_TP, OffsetService
from luong.clock import Clock
from luong.coordinator.transactions import (
    PREPARING,
    TransactionCoordinator,
    TxnMetadata,
    TxnState,
)
from luong.coordinator.txn_records import decode_txn_key
from luong.errors import LuongError, UnknownTopicOrPartitionError
from luong.protocol.records import Record, build_batch
from luong.storage import Storage
from luong.types import TopicPartition

__all__ = ["TRANSACTIONS_TOPIC", "TransactionService"]

TRANSACTIONS_TOPIC = "__transaction_state"
TRANSACTIONS_TP = TopicPartition(TRANSACTIONS_TOPIC, 0)
log = logging.getLogger("luong.transactions")


class TransactionService:
    """InitProducerId, AddPartitionsToTxn/AddOffsetsToTxn, EndTxn and the timeouts."""

    def __init__(
        self,
        storage: Storage,
        offsets: OffsetService,
        coordinator: TransactionCoordinator,
        clock: Clock,
        check_interval_ms: int,
    ) -> None:
        self.storage = storage
        self.offsets = offsets
        self.coordinator = coordinator
        self._clock = clock
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._write_lock = asyncio.Lock()  # one append to the topic at a time, in order
        self._id_lock = asyncio.Lock()  # one block reservation at a time
        self._ticker = Ticker(self._upkeep, check_interval_ms / 1000)

    # -- life cycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Create the topic if missing, replay it, finish transactions left half-ended."""
        await open_internal_topic(
            self.storage, TRANSACTIONS_TOPIC, lambda batch: self.coordinator.apply(batch.records)
        )
        self._ticker.start(now=True)

    async def stop(self) -> None:
        await self._ticker.stop()

    async def _upkeep(self) -> None:
        try:
            await self.settle()
        except LuongError as error:
            log.error("transaction upkeep failed: %s", error)

    async def settle(self) -> None:
        """Abort transactions past their timeout; finish those whose markers are due."""
        now = self._clock.time_ms()
        for transactional_id in self.coordinator.timed_out(now):
            async with self._locks[transactional_id]:
                txn = self.coordinator.txns.get(transactional_id)
                if txn is not None and txn.state is TxnState.ONGOING:
                    log.info("transaction %s timed out: aborting", transactional_id)
                    await self._write(self.coordinator.abort(now, transactional_id))
        for transactional_id in self.coordinator.preparing():
            async with self._locks[transactional_id]:
                await self._finish(transactional_id)

    async def expire(self) -> None:
        """Forget transactional ids idle for transactional.id.expiration.ms (each under its
        lock, so an InitProducerId arriving meanwhile is not undone by the tombstone)."""
        for record in self.coordinator.expire(self._clock.time_ms()):
            _, transactional_id = decode_txn_key(record.key or b"")
            if transactional_id is None:
                continue
            async with self._locks[transactional_id]:
                now = self._clock.time_ms()
                await self._write(self.coordinator.expire(now, [transactional_id]))

    # -- producer ids ----------------------------------------------------------------

    async def new_producer_id(self) -> int:
        async with self._id_lock:
            if self.coordinator.ids_left() == 0:
                await self._write(self.coordinator.reserve_block(self._clock.time_ms()))
            return self.coordinator.take_producer_id()

    # -- requests --------------------------------------------------------------------

    async def init_producer_id(
        self, transactional_id: str, timeout_ms: int, expected: tuple[int, int] | None
    ) -> tuple[int, int, int]:
        """(error code, producer id, epoch) for a transactional producer starting up:
        an open transaction of an older instance is aborted first (fencing it)."""
        async with self._locks[transactional_id]:
            error = self.coordinator.check_init(transactional_id, timeout_ms, expected)
            if error:
                return error, -1, -1
            txn = self.coordinator.txns.get(transactional_id)
            if txn is not None and txn.state is TxnState.ONGOING:
                await self._write(self.coordinator.abort(self._clock.time_ms(), transactional_id))
            if transactional_id in self.coordinator.preparing():
                await self._finish(transactional_id)
            new_id = None
            if self.coordinator.needs_producer_id(transactional_id):
                new_id = await self.new_producer_id()
            bumped, records = self.coordinator.init(
                self._clock.time_ms(), transactional_id, timeout_ms, new_id
            )
            await self._write(records)
            return 0, bumped.producer_id, bumped.epoch

    async def add_partitions(
        self, transactional_id: str, producer_id: int, epoch: int, partitions: list[tuple[str, int]]
    ) -> int:
        async with self._locks[transactional_id]:
            error, records = self.coordinator.add_partitions(
                self._clock.time_ms(), transactional_id, producer_id, epoch, partitions
            )
            await self._write(records)
            return error

    async def end_transaction(
        self, transactional_id: str, producer_id: int, epoch: int, commit: bool
    ) -> int:
        async with self._locks[transactional_id]:
            error, records = self.coordinator.end(
                self._clock.time_ms(), transactional_id, producer_id, epoch, commit
            )
            if error or not records:
                return error
            await self._write(records)
            await self._finish(transactional_id)
            return 0

    def check_produce(self, producer_id: int, epoch: int, tp: TopicPartition) -> bool:
        """Whether a transactional batch of (producer id, epoch) may go to `tp`: the
        partition must have been added to the producer's open transaction."""
        return self.coordinator.in_transaction(producer_id, epoch, (tp.topic, tp.partition))

    def describe(self, transactional_ids: Iterable[str]) -> list[tuple[str, TxnMetadata | None]]:
        return [(t, self.coordinator.txns.get(t)) for t in transactional_ids]

    # -- internals -------------------------------------------------------------------

    async def _finish(self, transactional_id: str) -> None:
        """Write the markers of a Prepare* transaction, then complete it. Callers hold
        the id's lock; a transaction another caller finished meanwhile (the ticker
        listed it as preparing while its EndTxn was finishing it) is left alone: it
        was finished again as an abort, its state record saying CompleteAbort after a
        commit."""
        txn = self.coordinator.txns.get(transactional_id)
        if txn is None or txn.state not in PREPARING:
            return
        commit = txn.state is TxnState.PREPARE_COMMIT
        for topic, partition in sorted(txn.partitions):
            tp = TopicPartition(topic, partition)
            try:
                if tp == OFFSETS_TP:
                    await self.offsets.write_marker(txn.producer_id, txn.epoch, commit)
                else:
                    await self.storage.write_marker(tp, txn.producer_id, txn.epoch, commit)
            except UnknownTopicOrPartitionError:
                continue  # deleted since: nothing to mark
        await self._write(self.coordinator.complete(self._clock.time_ms(), transactional_id))

    async def _write(self, records: list[Record]) -> None:
        """Append durably, then apply (so memory is always the replay of the log)."""
        if not records:
            return
        async with self._write_lock:
            numbered = [Record(i, r.timestamp, r.key, r.value) for i, r in enumerate(records)]
            await self.storage.append(TRANSACTIONS_TP, build_batch(numbered), durable=True)
            self.coordinator.apply(numbered)
