"""What the pipeline integration tests share: writing apps, producing, reading back."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from textwrap import dedent
from typing import Any

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

Out = tuple[Any, Any, int]  # key, value, timestamp


def write_app(path: Path, body: str) -> Path:
    path.write_text(dedent(body))
    return path


def create_topics(bootstrap: str, *specs: tuple[str, int], compact: bool = False) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    config = {"cleanup.policy": "compact"} if compact else {}
    new = [NewTopic(name, num_partitions=n, config=config) for name, n in specs]
    for future in admin.create_topics(new).values():
        future.result(10)


def produce(bootstrap: str, topic: str, records: Iterable[tuple[Any, Any, int]]) -> int:
    """(key, value, timestamp) records; values are JSON-encoded unless bytes."""
    producer = Producer(
        {"bootstrap.servers": bootstrap, "partitioner": "murmur2_random", "linger.ms": 5}
    )
    count = 0
    for key, value, timestamp in records:
        data = value if isinstance(value, bytes) or value is None else orjson.dumps(value)
        producer.produce(
            topic, data, None if key is None else str(key).encode(), timestamp=timestamp
        )
        count += 1
        if count % 10_000 == 0:
            producer.poll(0)
    assert producer.flush(30) == 0
    return count


def read(
    bootstrap: str,
    topic: str,
    expect: int | None = None,
    timeout_s: float = 30.0,
    quiet_s: float = 1.5,
) -> list[Out]:
    """Committed records of `topic` from the beginning: until `expect` of them (then a
    short wait for extras) or, without `expect`, until nothing new for `quiet_s`."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "test-reader",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in metadata.partitions])
        out: list[Out] = []
        deadline = time.monotonic() + timeout_s
        last_new = time.monotonic()
        while time.monotonic() < deadline:
            got = [m for m in consumer.consume(1000, 0.2) if m.error() is None]
            for m in got:
                key = None if m.key() is None else m.key().decode()
                value = None if m.value() is None else orjson.loads(m.value())
                out.append((key, value, m.timestamp()[1]))
            now = time.monotonic()
            last_new = now if got else last_new
            if expect is not None and len(out) >= expect and now - last_new > 0.5:
                break
            if expect is None and now - last_new > quiet_s:
                break
        return out
    finally:
        consumer.close()


def read_raw(bootstrap: str, topic: str, expect: int, timeout_s: float = 20.0) -> list[Any]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "test-raw",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in metadata.partitions])
        out: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while len(out) < expect and time.monotonic() < deadline:
            out.extend(
                m
                for m in consumer.consume(100, 0.2)
                if m.error() is None or m.error().code() != KafkaError._PARTITION_EOF
            )
        return out
    finally:
        consumer.close()
