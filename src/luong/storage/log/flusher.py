"""Flusher: makes appends durable without fsync ever running on the event loop thread.

Group commit: an append that must be durable registers a waiter and awaits it.
One pass at a time takes a FlushSnapshot of every partition with waiters (on the
loop thread), fsyncs them on the flush thread, then releases every waiter of the
pass. Appends that arrive during a pass wait for the next one, so one fsync per
file covers every append that queued while the previous fsync ran: the window
adapts to the disk's latency. The `fsync` policy runs a pass per append instead.

Owned by LogStorage on its event loop.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from luong.errors import KafkaStorageError
from luong.storage.log.partition_log import FlushSnapshot, PartitionLog

__all__ = ["Flusher", "fsync_snapshot"]


def fsync_snapshot(snapshot: FlushSnapshot) -> None:
    """fsync a snapshot's files: sealed segments with their indexes, then the active log."""
    *sealed, active = snapshot.segments
    for segment in sealed:
        segment.flush()
        segment.flush_indexes()
    active.flush()
    if snapshot.directory_fd is not None:
        os.fsync(snapshot.directory_fd)


def _fsync_each(snapshots: list[FlushSnapshot]) -> list[OSError | None]:
    """fsync every snapshot; one partition's failure does not fail the others."""
    errors: list[OSError | None] = []
    for snapshot in snapshots:
        try:
            fsync_snapshot(snapshot)
            errors.append(None)
        except OSError as error:
            errors.append(error)
    return errors


class Flusher:
    """Runs fsync passes on one background thread."""

    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="luong-flush")
        self._waiting: dict[PartitionLog, list[asyncio.Future[None]]] = {}
        self._pass: asyncio.Task[None] | None = None
        self.passes = 0

    @property
    def busy(self) -> bool:
        return self._pass is not None

    async def group_flush(self, log: PartitionLog) -> None:
        """Return once everything `log` holds now is on disk (shared fsync)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiting.setdefault(log, []).append(waiter)
        if self._pass is None:
            self._pass = loop.create_task(self._run_passes())
        await waiter

    def schedule(self, log: PartitionLog) -> None:
        """Flush `log` in the next pass without anyone waiting (after a roll)."""
        self._waiting.setdefault(log, [])
        if self._pass is None:
            self._pass = asyncio.get_running_loop().create_task(self._run_passes())

    async def flush_now(self, log: PartitionLog) -> None:
        """One pass for `log` alone (the `fsync` policy)."""
        snapshot = log.flush_snapshot()
        [error] = await self._run_in_thread([snapshot])
        if error is not None:
            raise error
        log.mark_flushed(snapshot)

    async def _run_passes(self) -> None:
        try:
            while self._waiting:
                waiting, self._waiting = self._waiting, {}
                snapshots = [(log, log.flush_snapshot()) for log in waiting]
                errors = await self._run_in_thread([s for _, s in snapshots])
                for (log, snapshot), error in zip(snapshots, errors, strict=True):
                    if error is None:
                        log.mark_flushed(snapshot)
                    _release(waiting[log], error)
        finally:
            self._pass = None

    async def _run_in_thread(
        self, snapshots: list[FlushSnapshot]
    ) -> list[KafkaStorageError | None]:
        self.passes += 1
        loop = asyncio.get_running_loop()
        errors = await loop.run_in_executor(self.executor, _fsync_each, snapshots)
        return [None if e is None else KafkaStorageError(f"fsync failed: {e}") for e in errors]

    async def drain(self) -> None:
        """Wait for the running pass and any queued one."""
        while self._pass is not None:
            await asyncio.shield(self._pass)

    def close(self) -> None:
        self.executor.shutdown(wait=True)


def _release(waiters: list[asyncio.Future[None]], error: KafkaStorageError | None) -> None:
    for waiter in waiters:
        if waiter.done():
            continue
        if error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(error)
