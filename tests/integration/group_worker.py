"""A consumer-group member for the failover tests, run as a separate process.

    python group_worker.py KIND BOOTSTRAP TOPIC GROUP OUT

KIND is confluent, kafka-python or aiokafka. The worker subscribes to TOPIC in GROUP
(session timeout 6 s, no auto commit, earliest) and, for each batch it polls, appends
one line "partition offset value" per record to OUT.records, flushes, and only then
commits synchronously the offsets after those records: it commits what it processed,
never more. Whenever its assignment changes it appends "p,p,p" (partitions, sorted;
empty when it has none) to OUT.assignment. SIGTERM makes it close its consumer
(leaving the group) and exit 0; the test kills it with SIGKILL to simulate a crash.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Iterable
from typing import IO, Any

SESSION_TIMEOUT_MS = 6000
HEARTBEAT_INTERVAL_MS = 500
BATCH = 200
POLL_S = 0.2

stopping = False


def on_sigterm(signum: int, frame: object) -> None:
    global stopping
    stopping = True


class Output:
    """The two files the test reads: processed records and assignment changes."""

    def __init__(self, out: str) -> None:
        self.records: IO[str] = open(out + ".records", "a")  # noqa: SIM115
        self.assignments: IO[str] = open(out + ".assignment", "a")  # noqa: SIM115
        self.last: list[int] | None = None

    def processed(self, records: Iterable[tuple[int, int, bytes]]) -> None:
        self.records.writelines(f"{p} {o} {v.decode()}\n" for p, o, v in records)
        self.records.flush()

    def assignment(self, partitions: Iterable[int]) -> None:
        now = sorted(partitions)
        if now != self.last:
            self.last = now
            self.assignments.write(",".join(map(str, now)) + "\n")
            self.assignments.flush()

    def close(self) -> None:
        self.records.close()
        self.assignments.close()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_confluent(bootstrap: str, topic: str, group: str, output: Output) -> None:
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "session.timeout.ms": SESSION_TIMEOUT_MS,
            "heartbeat.interval.ms": HEARTBEAT_INTERVAL_MS,
        }
    )
    consumer.subscribe([topic])
    while not stopping:
        records = []
        for m in consumer.consume(BATCH, POLL_S):
            partition, offset, value = m.partition(), m.offset(), m.value()
            if m.error() is None and partition is not None and offset is not None:
                records.append((partition, offset, value or b""))
        output.assignment(tp.partition for tp in consumer.assignment())
        if not records:
            continue
        output.processed(records)
        ends = {partition: offset + 1 for partition, offset, _ in records}
        try:
            consumer.commit(
                offsets=[TopicPartition(topic, p, o) for p, o in ends.items()],
                asynchronous=False,
            )
        except KafkaException as error:  # a rebalance: the next owner reads them again
            log(f"commit failed: {error}")
    consumer.close()


def run_kafka_python(bootstrap: str, topic: str, group: str, output: Output) -> None:
    from kafka import KafkaConsumer, OffsetAndMetadata
    from kafka.errors import KafkaError

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
    )
    while not stopping:
        batches: dict[Any, list[Any]] = consumer.poll(
            timeout_ms=int(POLL_S * 1000), max_records=BATCH
        )
        output.assignment(tp.partition for tp in consumer.assignment())
        if not batches:
            continue
        output.processed((r.partition, r.offset, r.value) for rs in batches.values() for r in rs)
        ends = {tp: OffsetAndMetadata(rs[-1].offset + 1, "", -1) for tp, rs in batches.items()}
        try:
            consumer.commit(ends)
        except KafkaError as error:  # a rebalance: the next owner reads them again
            log(f"commit failed: {error!r}")
    consumer.close()


async def run_aiokafka(bootstrap: str, topic: str, group: str, output: Output) -> None:
    from aiokafka import AIOKafkaConsumer
    from aiokafka.errors import KafkaError

    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, on_sigterm, signal.SIGTERM, None)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
    )
    await consumer.start()
    try:
        while not stopping:
            batches: dict[Any, list[Any]] = await consumer.getmany(
                timeout_ms=int(POLL_S * 1000), max_records=BATCH
            )
            output.assignment(tp.partition for tp in consumer.assignment())
            if not batches:
                continue
            output.processed(
                (r.partition, r.offset, r.value) for rs in batches.values() for r in rs
            )
            try:
                await consumer.commit({tp: rs[-1].offset + 1 for tp, rs in batches.items()})
            except KafkaError as error:  # a rebalance: the next owner reads them again
                log(f"commit failed: {error!r}")
    finally:
        await consumer.stop()


def main(kind: str, bootstrap: str, topic: str, group: str, out: str) -> None:
    signal.signal(signal.SIGTERM, on_sigterm)
    output = Output(out)
    try:
        if kind == "confluent":
            run_confluent(bootstrap, topic, group, output)
        elif kind == "kafka-python":
            run_kafka_python(bootstrap, topic, group, output)
        elif kind == "aiokafka":
            asyncio.run(run_aiokafka(bootstrap, topic, group, output))
        else:
            raise SystemExit(f"unknown client kind {kind!r}")
    finally:
        output.close()
    log("stopped")


if __name__ == "__main__":
    main(*sys.argv[1:6])
