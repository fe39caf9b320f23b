"""What the coordinators' services share: their internal topics and their tickers.

`open_internal_topic` creates a one-partition compacted topic if it is missing and
replays every stored batch of it, in offset order, into `apply` (the state machine
rebuilt from its records). `Ticker` runs a coroutine function every `interval_s`
on the event loop until stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from luong.protocol.records import RecordBatch, decode_batches
from luong.storage import Storage
from luong.types import EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, TopicPartition

__all__ = ["Ticker", "open_internal_topic"]

REPLAY_READ_BYTES = 4 << 20


async def open_internal_topic(
    storage: Storage, name: str, apply: Callable[[RecordBatch], None]
) -> TopicPartition:
    """Create topic `name` (1 partition, compacted) if missing; replay it into `apply`."""
    tp = TopicPartition(name, 0)
    if name not in storage.topics():
        await storage.create_topic(name, 1, {"cleanup.policy": "compact"})
    end = (await storage.list_offset(tp, LATEST_TIMESTAMP)).offset
    offset = (await storage.list_offset(tp, EARLIEST_TIMESTAMP)).offset
    while offset < end:
        batches = decode_batches((await storage.read(tp, offset, REPLAY_READ_BYTES)).read())
        for batch in batches:
            apply(batch)
        offset = batches[-1].header.last_offset + 1
    return tp


class Ticker:
    """`tick()` every `interval_s`, first after `interval_s` (or at once with `now`)."""

    def __init__(self, tick: Callable[[], Awaitable[None]], interval_s: float) -> None:
        self._tick = tick
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self, *, now: bool = False) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(now))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self, now: bool) -> None:
        if not now:
            await asyncio.sleep(self._interval_s)
        while True:
            await self._tick()
            await asyncio.sleep(self._interval_s)
