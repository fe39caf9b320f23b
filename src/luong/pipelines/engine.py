"""The engine: a pipeline's tasks in one process, records in, outputs and state out.

The worker (live, through Kafka), bounded runs over history and `PipelineTestDriver`
all run records through an `Engine`; only where records come from and where the
outputs go differ.

Segments. The records between two commits form a segment. Outputs wait in `outbox`
and state changes in the stores until `commit()`, so a failing record can be taken
out of its segment whole: if it changed nothing, what it had put in the outbox is
dropped; if it had changed state, the segment is *rewound*: every store forgets its
uncommitted changes, operators rebuild from the stores, and the segment's other
records run again. The failed record then goes to `on_error` (which sends it to the
dead-letter topic, or raises to stop). User functions may therefore run twice for
the records of a rewound segment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from luong.pipelines.codecs import JSON
from luong.pipelines.graph import build_task
from luong.pipelines.pipeline import Pipeline, Subtopology
from luong.pipelines.record import Record
from luong.pipelines.state import Backend, MemoryBackend, StateStore, StoreChange, WriteCount
from luong.pipelines.task import Emit, OutboxRecord, TaskContext
from luong.protocol.records.partitioner import partition_for_key

__all__ = ["Engine", "StoreFlush", "Task", "internal_partitions"]

BackendFactory = Callable[[str, int], Backend]
OnError = Callable[[Record, BaseException], None]
StoreFlush = tuple[StateStore, int, list[StoreChange]]


class Task:
    """One sub-topology on one partition: its processors and its stores.

    Built with its stores' backends open but not yet read: the owner restores the
    backends (from their changelogs), then calls `open()`."""

    def __init__(
        self,
        app: str,
        sub: Subtopology,
        partition: int,
        make_backend: BackendFactory,
        outbox: list[OutboxRecord],
        writes: WriteCount,
        route: Callable[[str, bytes, Record], None] | None,
    ) -> None:
        self.sub = sub
        self.partition = partition
        self.stores: dict[str, StateStore] = {}
        self._make_backend = make_backend
        self._writes = writes
        self.context = TaskContext(
            app, sub.index, partition, self._open_store, outbox=outbox, route=route
        )
        self.entries: dict[str, Emit] = build_task(sub.sources, self.context)

    def _open_store(self, name: str, encode: Any = None, decode: Any = None) -> StateStore:
        codec = {k: v for k, v in (("encode", encode), ("decode", decode)) if v is not None}
        backend = self._make_backend(name, self.partition)
        store = StateStore(name, backend, writes=self._writes, **codec)
        self.stores[name] = store
        return store

    def open(self) -> None:
        """Build the operators' in-memory state from the stores."""
        for open_operator in self.context.opened:
            open_operator()

    def discard(self) -> None:
        """Forget uncommitted state; operators rebuild from what is committed."""
        for store in self.stores.values():
            store.discard()
        self.open()

    def close(self) -> None:
        for store in self.stores.values():
            store.backend.close()


def internal_partitions(subs: list[Subtopology], partitions: dict[str, int]) -> dict[str, int]:
    """Partition counts of every source topic, repartition topics included: a
    repartition topic has as many partitions as its upstream's widest source."""
    counts = dict(partitions)
    pending = [r for sub in subs for r in sub.repartitions]
    while pending:
        progress = False
        for sub in subs:
            if all(t in counts for t in sub.topics):
                for node in sub.repartitions:
                    if node.topic not in counts:
                        counts[node.topic] = max(counts[t] for t in sub.topics)
                        progress = True
        pending = [r for r in pending if r.topic not in counts]
        if pending and not progress:
            missing = sorted({t for s in subs for t in s.topics if t not in counts})
            raise ValueError(f"partition counts unknown for {', '.join(missing)}")
    return counts


class Engine:
    """Tasks, the records they process and what they produce, segment by segment.

    `in_process=True` (bounded runs, the test driver) hands repartitioned records
    straight to the next sub-topology's task instead of the repartition topic; their
    values go through JSON as they would through the topic."""

    def __init__(
        self,
        pipeline: Pipeline,
        partitions: dict[str, int],
        on_error: OnError,
        make_backend: BackendFactory | None = None,
        in_process: bool = False,
    ) -> None:
        self.pipeline = pipeline
        self.subs = pipeline.subtopologies()
        self.sub_of = {topic: sub for sub in self.subs for topic in sub.topics}
        self.partitions = internal_partitions(self.subs, partitions)
        self.on_error = on_error
        self.make_backend: BackendFactory = make_backend or (lambda name, p: MemoryBackend())
        self.route = self._route if in_process else None
        self.outbox: list[OutboxRecord] = []
        self.writes = WriteCount()
        self.tasks: dict[tuple[int, int], Task] = {}
        self._entries: dict[tuple[str, int], Emit] = {}
        self._segment: list[Record] = []

    # -- tasks ----------------------------------------------------------------------------

    def add_task(self, sub: Subtopology, partition: int) -> Task:
        """A new task, not yet opened (restore its stores, then `task.open()`)."""
        task = Task(
            self.pipeline.name,
            sub,
            partition,
            self.make_backend,
            self.outbox,
            self.writes,
            self.route,
        )
        self.tasks[(sub.index, partition)] = task
        for topic, entry in task.entries.items():
            self._entries[(topic, partition)] = entry
        return task

    def remove_task(self, key: tuple[int, int]) -> None:
        task = self.tasks.pop(key)
        for topic in task.entries:
            self._entries.pop((topic, task.partition), None)
        task.close()

    def task_for(self, topic: str, partition: int) -> Task:
        """The task of (topic, partition), made and opened if there is none (in process)."""
        sub = self.sub_of[topic]
        task = self.tasks.get((sub.index, partition))
        if task is None:
            task = self.add_task(sub, partition)
            task.open()
        return task

    # -- records --------------------------------------------------------------------------

    def process(self, record: Record) -> None:
        """Run one input record (its topic and partition say which task)."""
        outbox_mark, writes_mark = len(self.outbox), self.writes.count
        self._segment.append(record)
        try:
            self._entry(record)(record)
        except Exception as error:
            self._segment.pop()
            if self.writes.count == writes_mark:
                del self.outbox[outbox_mark:]
            else:
                self._rewind()
            self.on_error(record, error)

    def _entry(self, record: Record) -> Emit:
        entry = self._entries.get((record.topic, record.partition))
        if entry is None:
            self.task_for(record.topic, record.partition)
            entry = self._entries[(record.topic, record.partition)]
        return entry

    def _rewind(self) -> None:
        segment, self._segment = self._segment, []
        self.outbox.clear()
        for task in self.tasks.values():
            task.discard()
        for record in segment:
            self.process(record)

    def _route(self, topic: str, kb: bytes, record: Record) -> None:
        partition = partition_for_key(kb, self.partitions[topic])
        value = JSON.decode(JSON.encode(record.value))
        key = JSON.decode(kb)
        moved = Record(value, key, record.timestamp, record.headers, topic, partition, -1)
        self._entry(moved)(moved)

    # -- commits --------------------------------------------------------------------------

    def flush(self) -> list[StoreFlush]:
        """The segment's state changes, store by store (the segment ends here)."""
        self._segment = []
        flushed = []
        for task in self.tasks.values():
            for store in task.stores.values():
                if store.has_changes:
                    flushed.append((store, task.partition, store.flush()))
        return flushed

    def take_outbox(self) -> list[OutboxRecord]:
        outbox = self.outbox[:]
        self.outbox.clear()
        return outbox

    def discard_segment(self) -> None:
        """Drop everything since the last commit (an aborted transaction)."""
        self._segment = []
        self.outbox.clear()
        for task in self.tasks.values():
            task.discard()
