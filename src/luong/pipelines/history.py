"""Bounded runs: the same pipeline over a slice of history, then exit.

`luong pipeline run app.py --from X [--until Y]` reads every partition of the
pipeline's sources from X up to (not including) Y, runs the records through the
same operators as a live worker, writes the outputs, and stops when every
partition has reached its end. X and Y are each `earliest` (X only), an offset (the
same in every partition), or a time: an ISO 8601 date-time (UTC unless it says
otherwise) or `@` and milliseconds since the epoch; a time means the first offset
whose record time is at or after it. Without --until a run ends at the partitions'
ends when it started.

What makes the output the live run's: the same records in the same order per
partition, handed on across partitions in event-time order as a worker does
(`merge.PartitionMerge`), and event time everywhere (windows close by record time,
joins look up tables as of record time). A bounded run starts with empty state at X (a live run
started at X is its twin) and keeps state in memory; repartitioned records go to
the next operators in process (through JSON, as through a topic), so it leaves no
internal topics and no committed offsets. Windows still open at Y are not emitted,
as a live run would not have emitted them yet.

Outputs go to the pipeline's topics with `output_suffix` appended to each name
(the dead-letter topic included), created when missing. With exactly_once the
whole run's output is one transaction (committed at the end, so readers see all of
it or none; the run must end within the transaction timeout, 15 minutes).
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from luong.pipelines.admin import PipelineSetupError, topic_partitions
from luong.pipelines.codecs import CodecError
from luong.pipelines.engine import Engine
from luong.pipelines.merge import PartitionMerge
from luong.pipelines.pipeline import Pipeline
from luong.pipelines.record import Record
from luong.pipelines.restore import TableReader
from luong.pipelines.worker import dead_letter_headers

__all__ = ["BoundedResult", "BoundedRun", "Position", "parse_position", "run_bounded"]

log = logging.getLogger("luong.pipelines")
_SEGMENT = 5_000
_TXN_TIMEOUT_MS = 900_000
_NO_SKIP_MS = 2**62  # a bounded run waits for every partition: the order is the data's


@dataclass(frozen=True)
class Position:
    """Where a slice starts or ends: an offset, a time (ms), or the earliest."""

    offset: int | None = None
    timestamp_ms: int | None = None

    @property
    def earliest(self) -> bool:
        return self.offset is None and self.timestamp_ms is None


def parse_position(text: str) -> Position:
    """`earliest`, an offset, `@MILLIS` or an ISO 8601 date-time."""
    if text == "earliest":
        return Position()
    if text.isdigit():
        return Position(offset=int(text))
    if text.startswith("@") and text[1:].isdigit():
        return Position(timestamp_ms=int(text[1:]))
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not earliest, an offset, @MILLIS or an ISO 8601 date-time"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return Position(timestamp_ms=int(when.timestamp() * 1000))


@dataclass
class BoundedResult:
    records_in: int
    records_out: int
    dead_letters: int
    seconds: float


class BoundedRun:
    """One bounded run (see the module doc)."""

    def __init__(
        self,
        pipeline: Pipeline,
        start: Position,
        until: Position | None,
        output_suffix: str,
        bootstrap: str | None,
        timeout_s: float,
        progress: bool,
    ) -> None:
        self.pipeline = pipeline
        self.start = start
        self.until = until
        self.suffix = output_suffix
        self.consumer_config = pipeline.client_config("consumer", bootstrap)
        self.producer_config = pipeline.client_config("producer", bootstrap)
        self.admin_config = pipeline.client_config("admin", bootstrap)
        self.timeout_s = timeout_s
        self.progress = progress
        self.eos = pipeline.guarantee == "exactly_once"
        self.counts = {"in": 0, "out": 0, "dead": 0}
        self._dead: list[tuple[str, Any, Any, Any, int]] = []
        self._message: Any = None

    def run(self) -> BoundedResult:
        started = time.monotonic()
        admin = AdminClient(self.admin_config)
        partitions = self._check_topics(admin)
        self.engine = Engine(self.pipeline, partitions, self._failed, in_process=True)
        tables = TableReader(
            self.consumer_config,
            self.pipeline.name,
            list(self.pipeline.tables.values()),
            lambda t: partitions[t],
        )
        tables.catch_up(self.timeout_s)
        tables.close()
        self.producer = Producer(self._producer_config())
        if self.eos:
            self.producer.init_transactions(self.timeout_s)
            self.producer.begin_transaction()
        try:
            self._read(partitions)
            self._commit()
            if self.eos:
                self.producer.commit_transaction(self.timeout_s)
            else:
                self.producer.flush(self.timeout_s)
        except BaseException:
            if self.eos:
                self.producer.abort_transaction(self.timeout_s)
            raise
        seconds = time.monotonic() - started
        return BoundedResult(self.counts["in"], self.counts["out"], self.counts["dead"], seconds)

    def _producer_config(self) -> dict[str, Any]:
        config = {
            **self.producer_config,
            "enable.idempotence": True,
            "partitioner": "murmur2_random",
            "linger.ms": 5,
            "queue.buffering.max.messages": 1_000_000,
        }
        if self.eos:
            config["transactional.id"] = f"{self.pipeline.name}-history-{uuid.uuid4().hex[:12]}"
            config["transaction.timeout.ms"] = _TXN_TIMEOUT_MS
        return config

    def _check_topics(self, admin: AdminClient) -> dict[str, int]:
        existing = topic_partitions(admin, self.timeout_s)
        sources = [
            s.topic for sub in self.pipeline.subtopologies() for s in sub.sources if not s.internal
        ]
        wanted = [*sources, *(t.topic for t in self.pipeline.tables.values())]
        missing = sorted(t for t in wanted if t not in existing)
        if missing:
            raise PipelineSetupError(f"source topic(s) {', '.join(missing)} do not exist")
        outputs = [self.pipeline.dead_letter_topic, *self.pipeline.sinks]
        new = [
            NewTopic(t + self.suffix, num_partitions=-1)
            for t in outputs
            if t + self.suffix not in existing
        ]
        for future in (
            admin.create_topics(new, request_timeout=self.timeout_s).values() if new else []
        ):
            try:
                future.result(self.timeout_s)
            except Exception as error:  # another run made it meanwhile: fine
                if "already exists" not in str(error).lower():
                    raise PipelineSetupError(f"cannot create an output topic: {error}") from None
        return {t: existing[t] for t in wanted}

    # -- reading -------------------------------------------------------------------------

    def _read(self, partitions: dict[str, int]) -> None:
        consumer = Consumer(
            {
                **self.consumer_config,
                "group.id": f"{self.pipeline.name}-history",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "isolation.level": "read_committed",
            }
        )
        try:
            sources = {
                s.topic: s for sub in self.engine.subs for s in sub.sources if not s.internal
            }
            bounds = self._bounds(consumer, {t: partitions[t] for t in sources})
            todo = {tp: (start, end) for tp, (start, end) in bounds.items() if start < end}
            consumer.assign([TopicPartition(t, p, s) for (t, p), (s, _) in todo.items()])
            self._consume(consumer, sources, {tp: end for tp, (_, end) in todo.items()})
        finally:
            consumer.close()

    def _bounds(
        self, consumer: Consumer, topics: dict[str, int]
    ) -> dict[tuple[str, int], tuple[int, int]]:
        bounds = {}
        for topic, count in topics.items():
            for partition in range(count):
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=self.timeout_s
                )
                start = self._resolve(consumer, topic, partition, self.start, low, high)
                end = (
                    high
                    if self.until is None
                    else self._resolve(consumer, topic, partition, self.until, low, high)
                )
                bounds[(topic, partition)] = (start, end)
        return bounds

    def _resolve(
        self, consumer: Consumer, topic: str, partition: int, at: Position, low: int, high: int
    ) -> int:
        if at.offset is not None:
            return min(max(at.offset, low), high)
        if at.timestamp_ms is None:
            return low
        found = consumer.offsets_for_times(
            [TopicPartition(topic, partition, at.timestamp_ms)], timeout=self.timeout_s
        )[0]
        return high if found.offset < 0 else found.offset

    def _consume(
        self, consumer: Consumer, sources: dict[str, Any], ends: dict[tuple[str, int], int]
    ) -> None:
        """Read every partition to its end, handing records on in event-time order
        (a partition with nothing buffered is waited for until it ends)."""
        merge: PartitionMerge[Any] = PartitionMerge(max_wait_ms=_NO_SKIP_MS)
        merge.assign(list(ends), 0)
        last_report = time.monotonic()
        since_commit = 0
        while ends or len(merge):
            for message in consumer.consume(_SEGMENT, 0.5) if ends else []:
                self._take(consumer, message, ends, merge)
            for message in merge.ready(0):
                self._process(sources[message.topic()], message)
                since_commit += 1
            if since_commit >= _SEGMENT:
                self._commit()
                since_commit = 0
            if self.progress and time.monotonic() - last_report >= 2.0:
                last_report = time.monotonic()
                print(
                    f"luong: {self.counts['in']:,} records, {len(ends)} partition(s) to go",
                    file=sys.stderr,
                )

    def _take(
        self, consumer: Consumer, message: Any, ends: dict[tuple[str, int], int], merge: Any
    ) -> None:
        tp = (message.topic(), message.partition())
        error = message.error()
        if error is not None:
            if error.code() != KafkaError._PARTITION_EOF:
                raise PipelineSetupError(f"reading {tp[0]}[{tp[1]}]: {error.str()}")
            if tp in ends:
                self._finish(consumer, ends, tp, merge)
            return
        offset = message.offset() or 0
        if tp not in ends or offset >= ends[tp]:
            if tp in ends:
                self._finish(consumer, ends, tp, merge)
            return
        merge.add(tp, message.timestamp()[1], message)
        if offset + 1 >= ends[tp]:
            self._finish(consumer, ends, tp, merge)

    @staticmethod
    def _finish(
        consumer: Consumer, ends: dict[tuple[str, int], int], tp: tuple[str, int], merge: Any
    ) -> None:
        del ends[tp]
        merge.caught_up(tp)
        consumer.pause([TopicPartition(*tp)])

    def _process(self, source: Any, message: Any) -> None:
        self._message = message
        self.counts["in"] += 1
        try:
            key = source.key_codec.decode(message.key())
            value = source.value_codec.decode(message.value())
        except CodecError as error:
            self._failed(None, error)
            return
        record = Record(
            value,
            key,
            message.timestamp()[1],
            list(message.headers() or []),
            message.topic(),
            message.partition(),
            message.offset(),
        )
        self.engine.process(record)

    def _failed(self, record: Record | None, error: BaseException) -> None:
        message = self._message
        where = f"{message.topic()}[{message.partition()}]@{message.offset()}"
        if self.pipeline.on_error == "stop":
            raise PipelineSetupError(f"record {where} failed: {type(error).__name__}: {error}")
        headers = dead_letter_headers(
            list(message.headers() or []),
            error,
            message.topic(),
            message.partition(),
            message.offset(),
        )
        topic = self.pipeline.dead_letter_topic + self.suffix
        self._dead.append((topic, message.key(), message.value(), headers, message.timestamp()[1]))
        self.counts["dead"] += 1

    def _commit(self) -> None:
        for store, _, changes in self.engine.flush():
            store.committed(changes, None)
        for topic, partition, key, value, headers, timestamp in self.engine.take_outbox():
            extra = {} if partition is None else {"partition": partition}
            self._produce(topic + self.suffix, key, value, headers, timestamp, extra)
            self.counts["out"] += 1
        for topic, key, value, headers, timestamp in self._dead:
            self._produce(topic, key, value, headers, timestamp, {})
        self._dead.clear()

    def _produce(
        self, topic: str, key: Any, value: Any, headers: Any, timestamp: int, extra: dict[str, Any]
    ) -> None:
        while True:
            try:
                self.producer.produce(
                    topic, value, key, headers=headers, timestamp=timestamp, **extra
                )
                return
            except BufferError:
                self.producer.poll(0.05)


def run_bounded(
    pipeline: Pipeline,
    start: Position,
    until: Position | None = None,
    *,
    output_suffix: str = "",
    bootstrap: str | None = None,
    timeout_s: float = 30.0,
    progress: bool = False,
) -> BoundedResult:
    """Run `pipeline` over [start, until) of its sources (see the module doc)."""
    run = BoundedRun(pipeline, start, until, output_suffix, bootstrap, timeout_s, progress)
    return run.run()
