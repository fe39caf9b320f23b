"""Flusher: makes appends durable without fsync ever running on the event loop thread.

Group commit: an append that must be durable registers a waiter and awaits it.
One pass at a time takes a FlushSnapshot of every partition with waiters (on the
loop thread), fsyncs them on the flush threads (one task per partition, so the
file system can merge their journal commits), then releases every waiter of the
pass. Appends that arrive during a pass wait for the next one, so one fsync per
file covers every append that queued while the previous fsync ran: the window
adapts to the disk's latency. The `fsync` policy runs a pass per append instead.

Owned by LogStorage on its event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from luong.errors import KafkaStorageError
from luong.storage.log.partition_log import FlushSnapshot, PartitionLog

__all__ = ["Flusher", "fsync_snapshot"]

FLUSH_THREADS = 4
log = logging.getLogger("luong.storage")


def fsync_snapshot(snapshot: FlushSnapshot) -> None:
    """fsync a snapshot's files: sealed segments with their indexes, then the active log."""
    *sealed, active = snapshot.segments
    for segment in sealed:
        segment.flush()
        segment.flush_indexes()
    active.flush()
    if snapshot.directory_fd is not None:
        os.fsync(snapshot.directory_fd)


class Flusher:
    """Runs fsync passes on a small pool of background threads."""

    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(FLUSH_THREADS, thread_name_prefix="luong-flush")
        self._waiting: dict[PartitionLog, list[asyncio.Future[None]]] = {}
        self._pass: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Future[Any]] = set()  # fsyncs not yet returned
        self._log_locks: weakref.WeakKeyDictionary[PartitionLog, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self.passes = 0

    @property
    def busy(self) -> bool:
        """True while any fsync may still use a segment's descriptor."""
        return self._pass is not None or bool(self._in_flight)

    async def group_flush(self, log: PartitionLog) -> None:
        """Return once everything `log` holds now is on disk (shared fsync)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(log, []).append(waiter)
        self._start_passes()
        await waiter

    def schedule(self, log: PartitionLog) -> None:
        """Flush `log` in the next pass without anyone waiting (after a roll)."""
        self._waiting.setdefault(log, [])
        self._start_passes()

    def _start_passes(self) -> None:
        if self._pass is None:
            self._pass = asyncio.get_running_loop().create_task(self._run_passes())

    async def flush_now(self, log: PartitionLog) -> None:
        """One pass for `log` alone (the `fsync` policy). Passes of one log run one after
        the other, so an append is never acknowledged before an earlier snapshot (a
        sealed segment, a directory entry) is on disk."""
        lock = self._log_locks.setdefault(log, asyncio.Lock())
        async with lock:
            snapshot = log.flush_snapshot()
            [error] = await self._fsync([snapshot])
            if error is not None:
                log.flush_failed(snapshot)
                raise error
            log.mark_flushed(snapshot)

    async def _run_passes(self) -> None:
        try:
            while self._waiting:
                waiting, self._waiting = self._waiting, {}
                snapshots = [(log, log.flush_snapshot()) for log in waiting]
                errors = await self._fsync([s for _, s in snapshots])
                for (log, snapshot), error in zip(snapshots, errors, strict=True):
                    if error is None:
                        log.mark_flushed(snapshot)
                    else:
                        log.flush_failed(snapshot)
                    _release(waiting[log], error)
        finally:
            self._pass = None

    async def _fsync(self, snapshots: list[FlushSnapshot]) -> list[KafkaStorageError | None]:
        """fsync every snapshot in parallel; one partition's failure fails only its own."""
        self.passes += 1
        loop = asyncio.get_running_loop()
        work = asyncio.gather(
            *(loop.run_in_executor(self.executor, fsync_snapshot, s) for s in snapshots),
            return_exceptions=True,
        )
        self._in_flight.add(work)
        try:
            results = await work
        finally:
            self._in_flight.discard(work)
        return [_storage_error(result) for result in results]

    async def run_in_thread(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run other file work (a checkpoint) on the flush threads, counted as busy."""
        work = asyncio.get_running_loop().run_in_executor(self.executor, function, *args)
        self._in_flight.add(work)
        try:
            return await work
        finally:
            self._in_flight.discard(work)

    async def drain(self) -> None:
        """Wait until no pass runs and no fsync is in flight."""
        while self.busy:
            pending: list[asyncio.Future[Any]] = [*self._in_flight]
            if self._pass is not None:
                pending.append(self._pass)
            await asyncio.wait(pending)

    def close(self) -> None:
        self.executor.shutdown(wait=True)


def _storage_error(result: object) -> KafkaStorageError | None:
    """None for success; any failure (an I/O error, or a bug) fails only its waiters."""
    if result is None:
        return None
    if not isinstance(result, OSError):
        log.error("flush failed unexpectedly: %r", result)
    return KafkaStorageError(f"fsync failed: {result}")


def _release(waiters: list[asyncio.Future[None]], error: KafkaStorageError | None) -> None:
    for waiter in waiters:
        if waiter.done():
            continue
        if error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(error)
