"""What a task's processors reach while they run: stores, the outbox, counters.

A *task* is one sub-topology (the operators between sources and repartition
topics) on one partition number: partition p of each of its source topics, and
the state of its stateful operators for p. Its processors are plain functions
`process(record)` chained by `emit`; they run on the worker's thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from luong.pipelines.record import Headers, Record
from luong.pipelines.state import StateStore

__all__ = ["Emit", "OutboxRecord", "TaskContext", "TaskCounters", "fanout", "noop"]

Emit = Callable[[Record], None]
# topic, partition (None: the producer's partitioner), key, value, headers, timestamp
OutboxRecord = tuple[str, int | None, bytes | None, bytes | None, Headers, int]


def noop(record: Record) -> None:
    """Where a stream nobody reads goes."""


def fanout(emits: list[Emit]) -> Emit:
    """One emit that calls each of `emits` in order."""
    if not emits:
        return noop
    if len(emits) == 1:
        return emits[0]

    def emit_all(record: Record) -> None:
        for emit in emits:
            emit(record)

    return emit_all


@dataclass
class TaskCounters:
    """Counts a task keeps for the worker's status."""

    late_dropped: int = 0
    late_sent: int = 0


@dataclass
class TaskContext:
    """One task's view of the worker.

    `outbox` collects the records the current input record causes; the worker sends
    them once the record is fully processed (and drops them if an operator failed).
    `open_store(name, encode, decode)` gives the task's StateStore of that name (its
    changelog topic is `<app>-<name>-changelog`). `route(topic, key_bytes, record)`
    is how repartitioning reaches the next sub-topology in a bounded run (None live:
    records go through the repartition topic).
    """

    app: str
    subtopology: int
    partition: int
    open_store: Callable[..., StateStore]
    outbox: list[OutboxRecord] = field(default_factory=list)
    counters: TaskCounters = field(default_factory=TaskCounters)
    route: Callable[[str, bytes, Record], None] | None = None
    shared: dict[int, Any] = field(default_factory=dict)
    opened: list[Callable[[], None]] = field(default_factory=list)

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Headers,
        timestamp: int,
        partition: int | None = None,
    ) -> None:
        self.outbox.append((topic, partition, key, value, headers, timestamp))
