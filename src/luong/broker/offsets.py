"""OffsetService: committed offsets, durable in the internal topic `__consumer_offsets`.

The topic (one partition, compacted) is created on first start; on every start its
records are replayed into the coordinator's OffsetStore. A commit appends its
records durably (acks=all semantics) and then applies them; commits in flight
share group-commit fsyncs and are applied in log order, so the state in memory is
always the replay of the log. Owned by the broker's
event loop.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from luong.broker.internal import open_internal_topic
from luong.clock import Clock
from luong.coordinator.offsets import CommitRequest, OffsetAndMetadata, OffsetKey, OffsetStore
from luong.protocol.records import Record, RecordBatch, build_batch
from luong.storage import Storage
from luong.types import TopicPartition

__all__ = ["OFFSETS_TOPIC", "OFFSETS_TP", "OffsetService"]

OFFSETS_TOPIC = "__consumer_offsets"
OFFSETS_TP = TopicPartition(OFFSETS_TOPIC, 0)


class OffsetService:
    """Commit and fetch offsets for groups; replay on start."""

    def __init__(self, storage: Storage, clock: Clock, retention_ms: int) -> None:
        self.storage = storage
        self.store = OffsetStore()
        self._clock = clock
        self._retention_ms = retention_ms
        # writes in flight, in log order: (its append, what it changes, done when applied)
        self._in_flight: deque[tuple[asyncio.Task[Any], Callable[[], None], asyncio.Future[None]]]
        self._in_flight = deque()

    async def start(self, replay: Callable[[list[Record]], None] = lambda _: None) -> None:
        """Create the internal topic if missing, then replay it into the offset store
        and `replay` (the group coordinator: its records are never transactional)."""

        def apply(batch: RecordBatch) -> None:
            self.store.apply_batch(batch)
            if not batch.header.is_transactional:
                replay(batch.records)

        await open_internal_topic(self.storage, OFFSETS_TOPIC, apply)

    async def commit(
        self, requests: Sequence[CommitRequest], membership_error: int = 0
    ) -> list[int]:
        """Error code per request; accepted ones are durable (and visible) on return."""
        records, errors = self.store.commit(requests, self._clock.time_ms(), membership_error)
        await self._write(records)
        return errors

    async def commit_in_transaction(
        self, requests: Sequence[CommitRequest], producer_id: int, epoch: int, error: int = 0
    ) -> list[int]:
        """TxnOffsetCommit: the offsets are written as the producer's transactional batch
        and become visible when its transaction commits. Raises the storage's fencing
        errors (InvalidProducerEpochError) for a stale epoch."""
        records, errors = self.store.commit(requests, self._clock.time_ms(), error)
        if records:
            batch = build_batch(
                records, producer_id=producer_id, producer_epoch=epoch, transactional=True
            )
            await self._in_order(
                lambda: self.storage.append(OFFSETS_TP, batch, durable=True),
                lambda: self.store.stage(producer_id, records),
            )
        return errors

    async def write_marker(self, producer_id: int, epoch: int, commit: bool) -> None:
        """End a transaction that holds offsets: its marker, then the offsets apply."""
        await self._in_order(
            lambda: self.storage.write_marker(OFFSETS_TP, producer_id, epoch, commit),
            lambda: self.store.end_transaction(producer_id, commit),
        )

    async def append_records(self, records: list[Record]) -> None:
        """Append other records of the internal topic (group metadata), in call order."""
        await self._write(records)

    async def _write(self, records: list[Record]) -> None:
        if records:
            batch = build_batch(records)
            await self._in_order(
                lambda: self.storage.append(OFFSETS_TP, batch, durable=True),
                lambda: self.store.apply(records),
            )

    async def _in_order(
        self, write: Callable[[], Awaitable[Any]], apply: Callable[[], None]
    ) -> None:
        """Start `write` now and return once it is durable and `apply`d.

        Writes start in call order (a task's first step, the append itself, runs before
        its first await, and tasks start in creation order), so the log holds them in
        call order; each waits for durability on its own, so concurrent commits share
        one group-commit fsync; and `apply` runs strictly in log order, so the store is
        always the replay of a prefix of the log. A write that fails changes nothing.
        """
        task = asyncio.ensure_future(write())
        applied: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._in_flight.append((task, apply, applied))
        task.add_done_callback(lambda _: self._apply_done())
        await applied

    def _apply_done(self) -> None:
        while self._in_flight and self._in_flight[0][0].done():
            task, apply, applied = self._in_flight.popleft()
            error = None if task.cancelled() else task.exception()
            if not task.cancelled() and error is None:
                apply()  # even if its caller went away: the log holds it
            if applied.done():
                continue
            if task.cancelled():
                applied.cancel()
            elif error is not None:
                applied.set_exception(error)
            else:
                applied.set_result(None)

    async def commit_positions(self, group: str, offsets: Mapping[TopicPartition, int]) -> None:
        """Commit as a client managing its own partitions (no generation, no metadata)."""
        requests = [
            CommitRequest(OffsetKey(group, tp.topic, tp.partition), offset, -1, None)
            for tp, offset in offsets.items()
        ]
        await self.commit(requests)

    def groups(self) -> set[str]:
        """Every group that has committed offsets."""
        return self.store.groups()

    def fetch(
        self, group: str, partitions: Iterable[tuple[str, int]] | None
    ) -> dict[tuple[str, int], OffsetAndMetadata | None]:
        return self.store.fetch(group, partitions)

    async def delete_offsets(self, group: str, partitions: Iterable[tuple[str, int]]) -> None:
        """Tombstones for the committed offsets of `group` on `partitions`."""
        await self._write(self.store.tombstones(group, partitions=set(partitions)))

    async def delete_group(self, group: str) -> None:
        """Tombstones for every committed offset of `group`."""
        await self._write(self.store.tombstones(group))

    async def expire(self, active_groups: Iterable[str] = ()) -> None:
        """Delete the offsets of memberless groups idle for `offsets.retention.minutes`."""
        now = self._clock.time_ms()
        await self._write(self.store.expire(now, self._retention_ms, active_groups))
