"""Live streams of a partition's records, one log read shared by every subscriber.

A `PartitionTail` follows one partition at its log end: it reads what is appended
(woken as soon as data arrives, through the cluster's `wait`, not by a timer),
decodes each batch once
and offers every record to each of its subscribers. A subscriber that starts
behind the tail reads on its own (`catch_up`) until it reaches the tail's
position, then joins it, so subscribers at the same position share one read. A
subscriber holds at most `max_queued` records: one that falls that far behind is
closed with a reason instead of letting memory grow. Tails without subscribers
stop. Owned by the event loop (the gateway's `StreamHub`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from luong.errors import LuongError
from luong.gateway.cluster import Cluster
from luong.gateway.filters import Matchable
from luong.protocol.records import Header
from luong.types import LATEST_TIMESTAMP, TopicPartition

__all__ = [
    "Chunk",
    "Closed",
    "PartitionTail",
    "StreamHub",
    "StreamRecord",
    "Subscriber",
    "read_chunk",
]

log = logging.getLogger("luong.gateway")
WAIT_S = 30.0


class StreamRecord(Matchable):
    """One record as subscribers see it: decoded once and shared (its JSON value is
    parsed at most once, by the first filter that looks at it)."""

    def __init__(
        self,
        topic: str,
        partition: int,
        offset: int,
        timestamp: int,
        key: bytes | None,
        value: bytes | None,
        headers: tuple[Header, ...],
    ) -> None:
        super().__init__(key, value, headers)
        self.encoded: dict[str, str] = {}  # JSON text by format, for every stream to share
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp


@dataclass(frozen=True, slots=True)
class Closed:
    """Put in a subscriber's queue when it is closed; `reason` says why."""

    reason: str


class Subscriber:
    """A bounded queue of records for one stream (one HTTP response).

    `accept` filters; records it refuses still advance the positions.
    """

    def __init__(self, max_queued: int, accept: Callable[[StreamRecord], bool]) -> None:
        self.queue: asyncio.Queue[StreamRecord | Closed] = asyncio.Queue(max_queued)
        self.max_queued = max_queued
        self.accept = accept
        self.closed: str | None = None

    def offer(self, record: StreamRecord) -> None:
        """From a tail: never waits; a full queue closes the subscriber."""
        if self.closed is not None or not self.accept(record):
            return
        if self.queue.qsize() >= self.max_queued:
            self.close(f"too slow: {self.max_queued} records waiting to be sent")
            return
        self.queue.put_nowait(record)

    async def put(self, record: StreamRecord) -> None:
        """While catching up alone: waits for room (the reader sets the pace)."""
        if self.closed is None and self.accept(record):
            await self.queue.put(record)  # anything after a Closed is never read

    def close(self, reason: str) -> None:
        """Drop what is queued and end the stream with `reason`."""
        if self.closed is not None:
            return
        self.closed = reason
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(Closed(reason))


class PartitionTail:
    """Reads one partition from `position` on, for all its subscribers."""

    def __init__(self, cluster: Cluster, tp: TopicPartition, position: int) -> None:
        self.cluster = cluster
        self.tp = tp
        self.position = position
        self.subscribers: set[Subscriber] = set()
        self.reads = 0  # log reads made (shared by every subscriber)
        self.task: asyncio.Task[None] | None = None

    async def run(self, on_idle: Callable[[PartitionTail], None]) -> None:
        try:
            while self.subscribers:
                chunk = await read_chunk(self.cluster, self.tp, self.position)
                if chunk is None:
                    await self.cluster.wait([self.tp], WAIT_S)
                    continue
                self.reads += 1
                for record in chunk.records:
                    for subscriber in list(self.subscribers):
                        subscriber.offer(record)
                self.position = chunk.next_offset
                self.subscribers = {s for s in self.subscribers if s.closed is None}
        except LuongError as error:  # the topic went away, or the log failed
            for subscriber in self.subscribers:
                subscriber.close(f"cannot read {self.tp.topic}/{self.tp.partition}: {error}")
        finally:
            on_idle(self)


@dataclass(frozen=True, slots=True)
class Chunk:
    """Records read from the log, and the offset after the last batch read."""

    records: list[StreamRecord]
    next_offset: int


async def read_chunk(cluster: Cluster, tp: TopicPartition, position: int) -> Chunk | None:
    """Committed records from `position` on (about 1 MiB); None when there are none
    yet (see Cluster.read: aborted transactions and control batches are left out)."""
    chunk = await cluster.read(tp, position)
    if chunk is None:
        return None
    records = [
        StreamRecord(tp.topic, tp.partition, r.offset, r.timestamp, r.key, r.value, r.headers)
        for r in chunk.records
    ]
    return Chunk(records, chunk.next_offset)


class StreamHub:
    """Every live tail, by partition. Owned by the gateway on the event loop."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.tails: dict[TopicPartition, PartitionTail] = {}

    async def subscribe(self, tp: TopicPartition, offset: int, subscriber: Subscriber) -> None:
        """Deliver `tp`'s records from `offset` on to `subscriber`: alone until it
        reaches the tail's position, then through the tail."""
        while subscriber.closed is None:
            tail = await self._tail(tp)
            if offset >= tail.position:
                tail.subscribers.add(subscriber)
                self._start(tail)
                return
            chunk = await read_chunk(self.cluster, tp, offset)
            if chunk is None:  # nothing past `offset` (records deleted under it): follow
                tail.subscribers.add(subscriber)
                self._start(tail)
                return
            for record in chunk.records:
                await subscriber.put(record)
            offset = chunk.next_offset

    def unsubscribe(self, subscriber: Subscriber) -> None:
        for tail in self.tails.values():
            tail.subscribers.discard(subscriber)

    async def _tail(self, tp: TopicPartition) -> PartitionTail:
        tail = self.tails.get(tp)
        if tail is None:
            end = await self.cluster.list_offset(tp, LATEST_TIMESTAMP)
            tail = self.tails.get(tp)  # another subscriber may have made it meanwhile
            if tail is None:
                tail = self.tails[tp] = PartitionTail(self.cluster, tp, end)
        return tail

    def _start(self, tail: PartitionTail) -> None:
        if tail.task is None:
            tail.task = asyncio.get_running_loop().create_task(tail.run(self._forget))

    def _forget(self, tail: PartitionTail) -> None:
        if self.tails.get(tail.tp) is tail:
            del self.tails[tail.tp]
        for subscriber in tail.subscribers:
            subscriber.close("the stream stopped")

    async def close(self) -> None:
        tasks = [t.task for t in self.tails.values() if t.task is not None]
        for tail in list(self.tails.values()):
            for subscriber in tail.subscribers:
                subscriber.close("the broker is stopping")
            tail.subscribers.clear()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
