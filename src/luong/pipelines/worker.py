"""The live worker: a pipeline's tasks fed by a consumer group, committed in segments.

One thread does everything with Kafka (an HTTP thread only reads status and
stores, under `lock`):

    consume a batch -> PartitionMerge (event-time order across partitions)
        -> decode each record -> Engine.process                  (outputs wait)
    every commit_interval_ms, at a rebalance and at the end: commit

A commit with exactly_once: the outbox, dead letters and changelog records are
produced in the open transaction, the segment's input positions go in with
send_offsets_to_transaction (the group's metadata fences a zombie of an older
generation), the transaction commits, and only then do stores write their changes
locally with the changelog offset they reached. With at_least_once: the same
records are produced and flushed, the stores write, the offsets are committed.

If a transaction fails (abortable), it is aborted, the engine forgets the segment,
and the consumer goes back to the last committed positions: the segment runs again.

Rebalances (range assignment, so that same-numbered partitions of co-partitioned
topics land on one worker): before partitions are revoked the work is committed
and their tasks closed; for assigned partitions tasks are built, their stores
restored from the changelog tail, then opened. A partition that comes back to this
worker finds its store current and restores almost nothing.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from luong.pipelines.admin import prepare_topics
from luong.pipelines.codecs import CodecError
from luong.pipelines.engine import Engine, StoreFlush, Task
from luong.pipelines.merge import PartitionMerge
from luong.pipelines.pipeline import Pipeline
from luong.pipelines.record import Record
from luong.pipelines.restore import Restorer, TableReader, changelog_topic
from luong.pipelines.slots import Slot, take_slot
from luong.pipelines.state import Backend, MemoryBackend, RocksBackend, StateStore
from luong.pipelines.status import STATUS_TOPIC, StatusServer
from luong.pipelines.topology import SourceNode
from luong.pipelines.worker_status import StatusBuilder

__all__ = ["PipelineError", "Worker", "WorkerOptions", "dead_letter_headers", "run"]

log = logging.getLogger("luong.pipelines")
_STATUS_INTERVAL_S = 2.0
_SNAPSHOT_INTERVAL_S = 0.5
_MAX_ABORTS = 5  # a segment whose transaction keeps failing stops the worker
_BATCH = 2000


class PipelineError(Exception):
    """The pipeline stopped: a record failed with on_error="stop", or Kafka said no."""


class WorkerOptions:
    """How to run a worker (defaults from the pipeline)."""

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        bootstrap: str | None = None,
        state_dir: str | None = None,
        http_listen: str | None = "127.0.0.1:0",
        http_token: str | None = None,
        timeout_s: float = 30.0,
        on_ready: Callable[[Worker], None] | None = None,
        tune_gc: bool = True,
    ) -> None:
        self.bootstrap = bootstrap or pipeline.bootstrap
        self.state_dir = Path(state_dir or pipeline.state_dir)
        self.http_listen = http_listen
        self.http_token = http_token
        self.timeout_s = timeout_s
        self.on_ready = on_ready
        self.tune_gc = tune_gc


def dead_letter_headers(
    headers: list[tuple[str, bytes | None]],
    error: BaseException,
    topic: str,
    partition: int,
    offset: int,
) -> list[tuple[str, bytes | None]]:
    """The input's headers plus `luong.dlq.*`: why, and where the record came from."""
    return [
        *headers,
        ("luong.dlq.reason", f"{type(error).__name__}: {error}".encode()),
        ("luong.dlq.topic", topic.encode()),
        ("luong.dlq.partition", str(partition).encode()),
        ("luong.dlq.offset", str(offset).encode()),
    ]


class Worker:
    """One worker of a pipeline (see the module doc)."""

    def __init__(self, pipeline: Pipeline, options: WorkerOptions) -> None:
        self.pipeline = pipeline
        self.options = options
        self.lock = threading.RLock()
        self.eos = pipeline.guarantee == "exactly_once"
        self.consumer_config = pipeline.client_config("consumer", options.bootstrap)
        self.producer_config = pipeline.client_config("producer", options.bootstrap)
        self.state = "starting"
        self.started_ms = int(time.time() * 1000)
        self.counts = {"records_in": 0, "records_out": 0, "dead_letters": 0, "commits": 0}
        self.restored = {"records": 0, "seconds": 0.0}
        self._stop = threading.Event()
        self._positions: dict[tuple[str, int], int] = {}
        self._committed: dict[tuple[str, int], int] = {}
        self._last_timestamp: dict[tuple[str, int], int] = {}
        self._dead: list[tuple[str, bytes | None, bytes | None, Any, int]] = []
        self._current: Message | None = None
        self._status_builder = StatusBuilder(self)
        self._failure: BaseException | None = None
        self._stopped_cleanly = False
        self._closing = False
        self._snapshot: dict[str, Any] = {"state": "starting"}
        self.merge: PartitionMerge[Message] = PartitionMerge()
        self._undelivered: list[str] = []
        self._aborts = 0

    # -- lifecycle ---------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> int:
        """Run until `stop()`; 0 on a clean stop."""
        self.slot: Slot = take_slot(self.options.state_dir, self.pipeline.name)
        try:
            self._start()
            if self.options.tune_gc:
                _tune_gc()
            self._loop()
            self._stopped_cleanly = True
            return 0
        finally:
            self._shutdown()

    def _start(self) -> None:
        admin = AdminClient(self.pipeline.client_config("admin", self.options.bootstrap))
        self.partitions = prepare_topics(admin, self.pipeline, self.options.timeout_s)
        self.engine = Engine(self.pipeline, self.partitions, self._failed, self._backend)
        self.sources: dict[str, SourceNode] = {
            s.topic: s for sub in self.engine.subs for s in sub.sources
        }
        self.status_producer = Producer({**self.producer_config, "linger.ms": 50})
        self.producer = Producer(self._producer_config())
        if self.eos:
            self.producer.init_transactions(self.options.timeout_s)
            self.producer.begin_transaction()
        self.restorer = Restorer(self.consumer_config, self.pipeline.name, self.options.timeout_s)
        tables = list(self.pipeline.tables.values())
        self.tables = TableReader(
            self.consumer_config, self.pipeline.name, tables, lambda topic: self.partitions[topic]
        )
        self.tables.catch_up(self.options.timeout_s)
        self.http = self._http()
        self.consumer = Consumer(self._consumer_config())
        self.consumer.subscribe(
            sorted(self.sources),
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        self.state = "rebalancing"  # until the group's first assignment (Kafka Streams' word)
        self._take_snapshot()
        log.info(
            "pipeline %s worker %s started (%s)%s",
            self.pipeline.name,
            self.slot.worker_id,
            self.pipeline.guarantee,
            f", HTTP {self.http.url}" if self.http else "",
        )
        if self.options.on_ready:
            self.options.on_ready(self)

    def _producer_config(self) -> dict[str, Any]:
        config = {
            **self.producer_config,
            "enable.idempotence": True,
            "partitioner": "murmur2_random",
            "linger.ms": 5,
            "queue.buffering.max.messages": 1_000_000,
        }
        if self.eos:
            config["transactional.id"] = f"{self.pipeline.name}-{self.slot.worker_id}"
            config.setdefault("transaction.timeout.ms", 10_000)
        else:  # a failed delivery fails the transaction with eos; here it must fail the commit
            config["on_delivery"] = self._delivered
        return config

    def _delivered(self, error: Any, message: Any) -> None:
        if error is not None:
            self._undelivered.append(f"{message.topic()}: {error.str()}")

    def _consumer_config(self) -> dict[str, Any]:
        return {
            **self.consumer_config,
            "group.id": self.pipeline.name,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "partition.assignment.strategy": "range",
            "client.id": f"{self.pipeline.name}-{self.slot.worker_id}",
        }

    def _http(self) -> StatusServer | None:
        if not self.options.http_listen:
            return None
        host, _, port = self.options.http_listen.rpartition(":")
        server = StatusServer(self, host or "127.0.0.1", int(port or 0), self.options.http_token)
        server.start()
        return server

    def _backend(self, store: str, partition: int) -> Backend:
        if self.pipeline.state_store == "memory":
            return MemoryBackend()
        return RocksBackend(self.slot.store_path(store, partition))

    def _shutdown(self) -> None:
        consumer = getattr(self, "consumer", None)
        if consumer is not None:
            try:
                if self._stopped_cleanly:
                    self._commit()
            except Exception as error:  # the process is stopping: report, close the rest
                log.error("final commit failed: %s", error)
            self.state = "stopped"
            self._closing = True
            consumer.close()
        for name in ("tables", "restorer"):
            part = getattr(self, name, None)
            if part is not None:
                part.close()
        engine: Engine | None = getattr(self, "engine", None)
        if engine is not None:
            for key in list(engine.tasks):
                engine.remove_task(key)
        http: StatusServer | None = getattr(self, "http", None)
        if http is not None:
            http.close()
        if getattr(self, "status_producer", None):
            self._publish_status(tombstone=True)
            self.status_producer.flush(5)
        self.slot.release()

    # -- the loop ----------------------------------------------------------------------

    def _loop(self) -> None:
        interval_s = self.pipeline.commit_interval_ms / 1000
        next_commit = time.monotonic() + interval_s
        next_status = next_snapshot = time.monotonic()
        while not self._stop.is_set():
            messages = self._fetch(min(interval_s, 0.1))
            with self.lock:
                self.tables.poll()
                self._buffer(messages)
                self._handle_all(self.merge.ready(_now_ms()))
                if not self.eos and self.engine.outbox:
                    self._send_now()
            if self._failure is not None:
                raise self._failure
            now = time.monotonic()
            if now >= next_commit:
                with self.lock:
                    self._commit()
                next_commit = now + interval_s
            if now >= next_snapshot:
                self._take_snapshot()
                next_snapshot = now + _SNAPSHOT_INTERVAL_S
            if now >= next_status:
                self._publish_status()
                next_status = now + _STATUS_INTERVAL_S

    def _fetch(self, timeout_s: float) -> list[Message]:
        """What has arrived: wait (up to `timeout_s`) for one message, then take what
        else is there without waiting (consume(n, timeout) would wait for n, or the
        whole timeout: a record arriving alone would wait that long)."""
        first = self.consumer.poll(timeout_s)
        if first is None:
            return []
        return [first, *self.consumer.consume(_BATCH - 1, 0)]

    def _buffer(self, messages: list[Message]) -> None:
        """Into the merge, which hands them out in event-time order."""
        merge = self.merge
        for message in messages:
            error = message.error()
            tp = (message.topic() or "", message.partition() or 0)
            if error is None:
                if tp in self._positions:  # else revoked while the batch was on its way
                    merge.add(tp, message.timestamp()[1], message)
            elif error.code() == KafkaError._PARTITION_EOF:
                merge.caught_up(tp)
            elif error.fatal():
                raise PipelineError(f"consumer: {error.str()}")
            else:
                log.warning("consumer: %s", error.str())

    def _handle_all(self, messages: list[Any]) -> None:
        """Decode each message and run it through the engine (the hot loop: names
        bound once, the record built in one call)."""
        sources, process = self.sources, self.engine.process
        positions, last_timestamp = self._positions, self._last_timestamp
        committed = self._committed
        for message in messages:
            topic, partition, offset = message.topic(), message.partition(), message.offset()
            source = sources[topic]
            self._current = message
            timestamp = message.timestamp()[1]
            try:
                key = source.key_codec.decode(message.key())
                value = source.value_codec.decode(message.value())
            except CodecError as decode_error:
                self._failed(None, decode_error)
            else:
                headers = message.headers()
                process(Record(value, key, timestamp, headers or [], topic, partition, offset))
            tp = (topic, partition)
            positions[tp] = offset + 1
            last_timestamp[tp] = timestamp
            if tp not in committed:  # nothing committed yet: a rewind comes back here
                committed[tp] = offset
        self.counts["records_in"] += len(messages)

    def _failed(self, record: Record | None, error: BaseException) -> None:
        """A record failed to decode or in an operator: dead-letter it or stop."""
        message = self._current
        assert message is not None
        where = f"{message.topic()}[{message.partition()}]@{message.offset()}"
        if self.pipeline.on_error == "stop":
            self._failure = PipelineError(f"record {where} failed: {type(error).__name__}: {error}")
            raise self._failure
        log.warning(
            "record %s to %s: %s: %s",
            where,
            self.pipeline.dead_letter_topic,
            type(error).__name__,
            error,
        )
        headers = dead_letter_headers(_headers(message), error, *_coordinates(message))
        self._dead.append(
            (
                self.pipeline.dead_letter_topic,
                message.key(),
                message.value(),
                headers,
                message.timestamp()[1],
            )
        )
        self.counts["dead_letters"] += 1

    # -- commits -----------------------------------------------------------------------

    def _commit(self) -> None:
        self._sync_positions()
        committed = self._committed
        changed = [
            tp
            for tp, offset in self._positions.items()
            if offset >= 0 and committed.get(tp) != offset
        ]
        flushed = self.engine.flush()
        outbox = self.engine.take_outbox()
        if not changed and not flushed and not outbox and not self._dead:
            return
        try:
            self._produce_all(outbox)
            checkpoints = self._produce_changelogs(flushed)
            offsets = [TopicPartition(t, p, self._positions[(t, p)]) for t, p in changed]
            if self.eos:
                self.producer.flush(self.options.timeout_s)
                if offsets:
                    self.producer.send_offsets_to_transaction(
                        offsets, self.consumer.consumer_group_metadata(), self.options.timeout_s
                    )
                self.producer.commit_transaction(self.options.timeout_s)
            else:
                self._flush_or_fail()
        except KafkaException as error:
            self._commit_failed(error)
            return
        for store, _, changes in flushed:
            store.committed(changes, checkpoints.get(id(store)))
        if not self.eos and changed:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        for tp in changed:
            self._committed[tp] = self._positions[tp]
        self.counts["records_out"] += len(outbox)
        self.counts["commits"] += 1
        self._aborts = 0
        self._dead.clear()
        if self.eos:
            self.producer.begin_transaction()

    def _sync_positions(self) -> None:
        """Take the consumer's positions where they are past the last processed record:
        it steps over transaction markers, which a processed offset + 1 stops before
        (a group would show a lag of 1 behind every committed transaction)."""
        if not self._positions:
            return
        asked = [TopicPartition(t, p) for t, p in self._positions]
        for tp in self.consumer.position(asked):
            key = (tp.topic, tp.partition)
            if tp.offset > self._positions.get(key, -1) >= 0 and not self.merge.buffered(key):
                self._positions[key] = tp.offset

    def _send_now(self) -> None:
        """at_least_once: outputs go as soon as their records are processed (a commit
        later waits for their delivery before committing offsets). A record that fails
        sends nothing; a rewound segment sends its other records' outputs again."""
        outbox = self.engine.take_outbox()
        self._produce_all(outbox, dead=False)
        self.counts["records_out"] += len(outbox)

    def _produce_all(self, outbox: list[Any], dead: bool = True) -> None:
        produce = self.producer.produce
        for topic, partition, key, value, headers, timestamp in outbox:
            try:
                if partition is None:
                    produce(topic, value, key, headers=headers or None, timestamp=timestamp)
                else:
                    produce(
                        topic, value, key, partition, headers=headers or None, timestamp=timestamp
                    )
            except BufferError:
                extra = {} if partition is None else {"partition": partition}
                self._produce(produce, topic, key, value, headers, timestamp, extra)
        for topic, key, value, headers, timestamp in self._dead if dead else ():
            self._produce(produce, topic, key, value, headers, timestamp, {})

    def _produce(
        self,
        produce: Any,
        topic: str,
        key: Any,
        value: Any,
        headers: Any,
        timestamp: int,
        extra: dict[str, Any],
    ) -> None:
        """Produce, waiting for room while the producer's queue is full."""
        while True:
            try:
                produce(topic, value, key, headers=headers or None, timestamp=timestamp, **extra)
                return
            except BufferError:
                self.producer.poll(0.05)

    def _produce_changelogs(self, flushed: list[StoreFlush]) -> dict[int, int]:
        """Changelog records of each flushed store; the checkpoint (next changelog
        offset) each store reaches, once delivered."""
        checkpoints: dict[int, int] = {}
        produce = self.producer.produce
        for store, partition, changes in flushed:
            topic = changelog_topic(self.pipeline.name, store.name)
            for key, value in changes[:-1]:
                try:
                    produce(topic, value, key, partition)
                except BufferError:
                    self._produce(produce, topic, key, value, None, 0, {"partition": partition})
            key, value = changes[-1]
            on_delivery = _checkpoint_at(checkpoints, store, self._delivered)
            extra = {"partition": partition, "on_delivery": on_delivery}
            self._produce(produce, topic, key, value, None, 0, extra)
        return checkpoints

    def _flush_or_fail(self) -> None:
        """at_least_once: every output delivered before the offsets are committed."""
        self.producer.flush(self.options.timeout_s)
        if self._undelivered:
            first, count = self._undelivered[0], len(self._undelivered)
            raise PipelineError(f"{count} record(s) not delivered ({first}); nothing committed")
        if len(self.producer) > 0:
            raise PipelineError(f"{len(self.producer)} records not delivered in time")

    def _commit_failed(self, error: KafkaException) -> None:
        kafka_error = error.args[0]
        self._aborts += 1
        if self.eos and kafka_error.txn_requires_abort() and self._aborts <= _MAX_ABORTS:
            log.warning("transaction aborted (%s): running the segment again", kafka_error.str())
            self.producer.abort_transaction(self.options.timeout_s)
            self._rewind()
            self.producer.begin_transaction()
            return
        again = f" ({self._aborts} times in a row)" if self._aborts > 1 else ""
        raise PipelineError(f"commit failed{again}: {kafka_error.str()}") from error

    def _rewind(self) -> None:
        """Back to the last commit: state forgotten, inputs read again."""
        self.engine.discard_segment()
        self._dead.clear()
        for (topic, partition), offset in self._committed.items():
            if (topic, partition) in self._positions:
                self.consumer.seek(TopicPartition(topic, partition, offset))
                self._positions[(topic, partition)] = offset
                self.merge.clear((topic, partition), _now_ms())

    # -- rebalances --------------------------------------------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        with self.lock:
            self.state = "restoring"
            self._snapshot = {**self._snapshot, "state": "restoring"}
            committed = consumer.committed(partitions, timeout=self.options.timeout_s)
            self.merge.assign([(tp.topic, tp.partition) for tp in partitions], _now_ms())
            for tp in committed:
                position = tp.offset if tp.offset >= 0 else -1
                self._positions[(tp.topic, tp.partition)] = position
                if position >= 0:
                    self._committed[(tp.topic, tp.partition)] = position
            for sub, partition in sorted(
                {(self.engine.sub_of[tp.topic].index, tp.partition) for tp in partitions}
            ):
                if (sub, partition) not in self.engine.tasks:
                    self._open_task(self.engine.subs[sub], partition)
            self.state = "running"
            self._snapshot = self._status_builder.build()

    def _open_task(self, sub: Any, partition: int) -> None:
        task = self.engine.add_task(sub, partition)
        for store in task.stores.values():
            result = self.restorer.restore(store, partition)
            self.restored["records"] += result.records
            self.restored["seconds"] += result.seconds
            if result.records:
                log.info(
                    "restored %s-%d: %d records in %.2f s",
                    store.name,
                    partition,
                    result.records,
                    result.seconds,
                )
        task.open()

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        with self.lock:
            if not self._closing:
                self.state = "rebalancing"
            if self._failure is None and not self._closing:
                try:
                    self._commit()
                except (KafkaException, PipelineError) as error:
                    self._failure = PipelineError(f"commit before a rebalance failed: {error}")
            self._drop(partitions)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        with self.lock:
            if self.eos:
                self.producer.abort_transaction(self.options.timeout_s)
                self.engine.discard_segment()
                self.producer.begin_transaction()
            self._drop(partitions)

    def _drop(self, partitions: list[TopicPartition]) -> None:
        self.merge.remove([(tp.topic, tp.partition) for tp in partitions])
        for tp in partitions:
            key = (tp.topic, tp.partition)
            self._positions.pop(key, None)
            self._committed.pop(key, None)
            task_key = (self.engine.sub_of[tp.topic].index, tp.partition)
            if task_key in self.engine.tasks:
                self.engine.remove_task(task_key)

    # -- status ------------------------------------------------------------------------

    def queryable(self) -> dict[str, Any]:
        return self.pipeline.queryable

    def stores_of(self, name: str) -> list[StateStore]:
        return [t.stores[name] for t in self._tasks() if name in t.stores]

    def partitions_of(self, name: str) -> list[int]:
        if name in self.pipeline.tables:
            return list(range(self.partitions.get(self.pipeline.tables[name].topic, 0)))
        return sorted(t.partition for t in self._tasks() if name in t.stores)

    def _tasks(self) -> list[Task]:
        engine = getattr(self, "engine", None)
        return list(engine.tasks.values()) if engine else []

    def status(self) -> dict[str, Any]:
        """The latest status, as of at most half a second ago. Any thread may ask; it
        is computed on the worker's thread only (librdkafka's handles are not to be
        called from the HTTP thread while the worker is inside a rebalance)."""
        return self._snapshot

    def _take_snapshot(self) -> None:
        with self.lock:
            self._snapshot = self._status_builder.build()

    def _publish_status(self, tombstone: bool = False) -> None:
        import orjson

        key = f"{self.pipeline.name}/{self.slot.worker_id}".encode()
        if not tombstone:
            self._take_snapshot()
        value = None if tombstone else orjson.dumps(self._snapshot)
        try:
            self.status_producer.produce(STATUS_TOPIC, value, key)
            self.status_producer.poll(0)
        except (BufferError, KafkaException) as error:
            log.warning("status record not sent: %s", error)


def _tune_gc() -> None:
    """Python's collector runs its young generation every 700 allocations: a busy
    pipeline allocates a few objects per record and would spend a fifth of its time
    there (measured with the windowed count of benchmarks/pipeline_bench.py). The
    objects made so far (the pipeline, its stores' caches) are frozen out of the
    collector's view, and it runs every 20,000 allocations instead. `tune_gc=False`
    leaves a process's collector alone."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 50)


def _now_ms() -> int:
    return int(time.monotonic() * 1000)


def _coordinates(message: Message) -> tuple[str, int, int]:
    return message.topic() or "", message.partition() or 0, message.offset() or 0


def _headers(message: Message) -> list[tuple[str, bytes | None]]:
    """A message's headers as a list (librdkafka gives None when there are none)."""
    headers: Any = message.headers()
    return list(headers) if headers else []


def _checkpoint_at(
    checkpoints: dict[int, int], store: StateStore, failed: Callable[[Any, Any], None]
) -> Callable[[Any, Any], None]:
    def delivered(error: Any, message: Any) -> None:
        if error is None:
            checkpoints[id(store)] = message.offset() + 1
        else:
            failed(error, message)

    return delivered


def run(pipeline: Pipeline, **options: Any) -> int:
    """Run a worker until SIGINT/SIGTERM (in the main thread) or `stop()`."""
    worker = Worker(pipeline, WorkerOptions(pipeline, **options))
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: worker.stop())
    return worker.run()
