"""Records of several partitions handed out in event-time order.

A worker (or a bounded run) reads many partitions at once; the fetcher delivers
them in chunks, one partition after another, so a backlog read as it comes would go
to the operators partition by partition: records of one partition hours ahead of
another's, and, through a repartition topic, windows closed by the first before the
second arrives. `PartitionMerge` buffers what was fetched and hands out the record
with the smallest timestamp among the partitions' heads, as Kafka Streams orders a
task's partitions, so a replay runs in event-time order.

It waits for a partition that has nothing buffered only while that partition may
still have older records: once the fetcher said it reached the end of the partition
(`caught_up`, librdkafka's partition EOF) it is skipped until a record arrives, and
a partition that has been empty for `max_wait_ms` without saying so is skipped too
(Kafka Streams' max.task.idle.ms). Time is passed in (`now_ms`), never read.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Generic, TypeVar

__all__ = ["PartitionMerge"]

TP = tuple[str, int]
M = TypeVar("M")


class PartitionMerge(Generic[M]):
    """Per-partition buffers of (timestamp, item), merged by timestamp."""

    def __init__(self, max_wait_ms: int = 500) -> None:
        self.max_wait_ms = max_wait_ms
        self._buffers: dict[TP, deque[tuple[int, M]]] = {}
        self._caught_up: set[TP] = set()
        self._empty_since: dict[TP, int] = {}

    def assign(self, tps: list[TP], now_ms: int) -> None:
        for tp in tps:
            self._buffers.setdefault(tp, deque())
            self._empty_since.setdefault(tp, now_ms)

    def remove(self, tps: list[TP]) -> None:
        """Forget partitions (revoked, or sought back): their buffered items are dropped."""
        for tp in tps:
            self._buffers.pop(tp, None)
            self._caught_up.discard(tp)
            self._empty_since.pop(tp, None)

    def clear(self, tp: TP, now_ms: int) -> None:
        """Drop what `tp` has buffered (the consumer was sought back)."""
        if tp in self._buffers:
            self._buffers[tp].clear()
            self._caught_up.discard(tp)
            self._empty_since[tp] = now_ms

    def add(self, tp: TP, timestamp: int, item: M) -> None:
        self._buffers[tp].append((timestamp, item))
        self._caught_up.discard(tp)

    def caught_up(self, tp: TP) -> None:
        """The fetcher reached the end of `tp`: nothing older is on its way."""
        if tp in self._buffers:
            self._caught_up.add(tp)

    def buffered(self, tp: TP) -> int:
        buffer = self._buffers.get(tp)
        return len(buffer) if buffer is not None else 0

    def ready(self, now_ms: int) -> list[M]:
        """Items that can go now, oldest first (ties: the partition named first)."""
        out: list[M] = []
        if len(self._buffers) == 1:  # one partition: its own order is the order
            for tp, buffer in self._buffers.items():
                out = [item for _, item in buffer]
                buffer.clear()
                self._empty_since[tp] = now_ms
            return out
        heads = [(b[0][0], tp) for tp, b in self._buffers.items() if b]
        if not heads:
            return out
        heapq.heapify(heads)
        waiting = self._waiting_for(now_ms)
        while heads:
            if waiting:
                return out
            _, tp = heapq.heappop(heads)
            buffer = self._buffers[tp]
            out.append(buffer.popleft()[1])
            if buffer:
                heapq.heappush(heads, (buffer[0][0], tp))
            else:
                self._empty_since[tp] = now_ms
                waiting = tp not in self._caught_up and self._may_have_more(tp, now_ms)
        return out

    def _waiting_for(self, now_ms: int) -> bool:
        return any(
            not buffer and tp not in self._caught_up and self._may_have_more(tp, now_ms)
            for tp, buffer in self._buffers.items()
        )

    def _may_have_more(self, tp: TP, now_ms: int) -> bool:
        return now_ms - self._empty_since.get(tp, now_ms) < self.max_wait_ms

    def __len__(self) -> int:
        return sum(len(b) for b in self._buffers.values())
