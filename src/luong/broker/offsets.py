"""OffsetService: committed offsets, durable in the internal topic `__consumer_offsets`.

The topic (one partition, compacted) is created on first start; on every start its
records are replayed into the coordinator's OffsetStore. A commit appends its
records durably (acks=all semantics) and then applies them, one commit at a time,
so the state in memory is always the replay of the log. Owned by the broker's
event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence

from luong.clock import Clock
from luong.coordinator.offsets import CommitRequest, OffsetAndMetadata, OffsetStore
from luong.protocol.records import Record, build_batch, decode_batches
from luong.storage import Storage
from luong.types import LATEST_TIMESTAMP, TopicPartition

__all__ = ["OFFSETS_TOPIC", "OFFSETS_TP", "OffsetService"]

OFFSETS_TOPIC = "__consumer_offsets"
OFFSETS_TP = TopicPartition(OFFSETS_TOPIC, 0)
REPLAY_READ_BYTES = 4 << 20


class OffsetService:
    """Commit and fetch offsets for groups; replay on start."""

    def __init__(self, storage: Storage, clock: Clock, retention_ms: int) -> None:
        self.storage = storage
        self.store = OffsetStore()
        self._clock = clock
        self._retention_ms = retention_ms
        self._lock = asyncio.Lock()

    async def start(self, replay: Callable[[list[Record]], None] = lambda _: None) -> None:
        """Create the internal topic if missing, then replay it into the offset store
        and `replay` (the group coordinator)."""
        if OFFSETS_TOPIC not in self.storage.topics():
            await self.storage.create_topic(OFFSETS_TOPIC, 1, {"cleanup.policy": "compact"})
        end = (await self.storage.list_offset(OFFSETS_TP, LATEST_TIMESTAMP)).offset
        offset = (await self.storage.list_offset(OFFSETS_TP, -2)).offset
        while offset < end:
            result = await self.storage.read(OFFSETS_TP, offset, REPLAY_READ_BYTES)
            batches = decode_batches(result.read())
            for batch in batches:
                self.store.apply_batch(batch)
                if not batch.header.is_transactional:
                    replay(batch.records)
            offset = batches[-1].header.last_offset + 1

    async def commit(
        self, requests: Sequence[CommitRequest], membership_error: int = 0
    ) -> list[int]:
        """Error code per request; accepted ones are durable when this returns."""
        async with self._lock:
            now = self._clock.time_ms()
            records, errors = self.store.commit(requests, now, membership_error)
            await self._write(records)
        return errors

    async def commit_in_transaction(
        self, requests: Sequence[CommitRequest], producer_id: int, epoch: int, error: int = 0
    ) -> list[int]:
        """TxnOffsetCommit: the offsets are written as the producer's transactional batch
        and become visible when its transaction commits. Raises the storage's fencing
        errors (InvalidProducerEpochError) for a stale epoch."""
        async with self._lock:
            records, errors = self.store.commit(requests, self._clock.time_ms(), error)
            if records:
                batch = build_batch(
                    records, producer_id=producer_id, producer_epoch=epoch, transactional=True
                )
                await self.storage.append(OFFSETS_TP, batch, durable=True)
                self.store.stage(producer_id, records)
        return errors

    async def write_marker(self, producer_id: int, epoch: int, commit: bool) -> None:
        """End a transaction that holds offsets: its marker, then the offsets apply."""
        async with self._lock:
            await self.storage.write_marker(OFFSETS_TP, producer_id, epoch, commit)
            self.store.end_transaction(producer_id, commit)

    async def append_records(self, records: list[Record]) -> None:
        """Append other records of the internal topic (group metadata), in call order."""
        async with self._lock:
            await self._write(records)

    async def _write(self, records: list[Record]) -> None:
        if records:
            await self.storage.append(OFFSETS_TP, build_batch(records), durable=True)
            self.store.apply(records)

    def fetch(
        self, group: str, partitions: Iterable[tuple[str, int]] | None
    ) -> dict[tuple[str, int], OffsetAndMetadata | None]:
        return self.store.fetch(group, partitions)

    async def delete_offsets(self, group: str, partitions: Iterable[tuple[str, int]]) -> None:
        """Tombstones for the committed offsets of `group` on `partitions`."""
        async with self._lock:
            await self._write(self.store.tombstones(group, partitions=set(partitions)))

    async def delete_group(self, group: str) -> None:
        """Tombstones for every committed offset of `group`."""
        async with self._lock:
            await self._write(self.store.tombstones(group))

    async def expire(self, active_groups: Iterable[str] = ()) -> None:
        """Delete the offsets of memberless groups idle for `offsets.retention.minutes`."""
        async with self._lock:
            now = self._clock.time_ms()
            await self._write(self.store.expire(now, self._retention_ms, active_groups))
