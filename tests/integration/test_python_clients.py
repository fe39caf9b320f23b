"""kafka-python and aiokafka against a real luong serve, and every client reading what
every other client wrote."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka import TopicPartition as AioTopicPartition
from confluent_kafka import Consumer, Producer
from confluent_kafka import TopicPartition as CkTopicPartition
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KpTopicPartition
from kafka.admin import NewTopic

from luong.testing.node import LuongProcess

CODECS = ["gzip", "snappy", "lz4", "zstd", None]
MESSAGES = [
    (b"k0", b"plain", [("h", b"v")]),
    (None, b"null key", []),
    (b"tomb", None, [("why", b"deleted")]),
    (b"big", b"x" * 20_000, []),
]
Message = tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]


def topic_name() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


# -- writers: each sends MESSAGES to partition 0 with a codec -------------------------


def write_confluent(node: LuongProcess, topic: str, codec: str | None) -> None:
    producer = Producer(
        {"bootstrap.servers": node.bootstrap, "acks": "all", "compression.type": codec or "none"}
    )
    for key, value, headers in MESSAGES:
        producer.produce(topic, key=key, value=value, headers=headers, partition=0)
    assert producer.flush(20) == 0


def write_kafka_python(node: LuongProcess, topic: str, codec: str | None) -> None:
    producer = KafkaProducer(bootstrap_servers=node.bootstrap, acks="all", compression_type=codec)
    for key, value, headers in MESSAGES:
        producer.send(topic, key=key, value=value, headers=headers, partition=0).get(20)
    producer.close()


def write_aiokafka(node: LuongProcess, topic: str, codec: str | None) -> None:
    async def main() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=node.bootstrap, acks="all", compression_type=codec
        )
        await producer.start()
        try:
            for key, value, headers in MESSAGES:
                await producer.send_and_wait(
                    topic, key=key, value=value, headers=headers, partition=0
                )
        finally:
            await producer.stop()

    asyncio.run(main())


# -- readers: each returns (key, value, headers) of the first len(MESSAGES) records --


def read_confluent(node: LuongProcess, topic: str) -> list[Message]:
    consumer = Consumer({"bootstrap.servers": node.bootstrap, "group.id": "unused"})
    consumer.assign([CkTopicPartition(topic, 0, 0)])
    out: list[Message] = []
    deadline = time.monotonic() + 20
    while len(out) < len(MESSAGES) and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            out.append((message.key(), message.value(), list(message.headers() or [])))
    consumer.close()
    return out


def read_kafka_python(node: LuongProcess, topic: str) -> list[Message]:
    consumer = KafkaConsumer(
        bootstrap_servers=node.bootstrap, enable_auto_commit=False, consumer_timeout_ms=20_000
    )
    consumer.assign([KpTopicPartition(topic, 0)])
    consumer.seek(KpTopicPartition(topic, 0), 0)
    out: list[Message] = []
    for record in consumer:
        out.append((record.key, record.value, [(k, v) for k, v in record.headers]))
        if len(out) == len(MESSAGES):
            break
    consumer.close()
    return out


def read_aiokafka(node: LuongProcess, topic: str) -> list[Message]:
    async def main() -> list[Message]:
        consumer = AIOKafkaConsumer(bootstrap_servers=node.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            partition = AioTopicPartition(topic, 0)
            consumer.assign([partition])
            consumer.seek(partition, 0)
            out: list[Message] = []
            while len(out) < len(MESSAGES):
                record = await asyncio.wait_for(consumer.getone(), 20)
                out.append((record.key, record.value, [(k, v) for k, v in record.headers]))
            return out
        finally:
            await consumer.stop()

    return asyncio.run(main())


WRITERS = {
    "confluent": write_confluent,
    "kafka-python": write_kafka_python,
    "aiokafka": write_aiokafka,
}
READERS = {
    "confluent": read_confluent,
    "kafka-python": read_kafka_python,
    "aiokafka": read_aiokafka,
}


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_what_each_client_writes_every_client_reads(
    luong: LuongProcess, writer: str, codec: str | None
) -> None:
    topic = topic_name()
    WRITERS[writer](luong, topic, codec)
    expected = [(k, v, h) for k, v, h in MESSAGES]
    for reader in sorted(READERS):
        assert READERS[reader](luong, topic) == expected, f"{reader} reading {writer}/{codec}"


def test_kafka_python_admin_and_offsets(luong: LuongProcess) -> None:
    admin = KafkaAdminClient(bootstrap_servers=luong.bootstrap)
    topic = topic_name()
    admin.create_topics([NewTopic(topic, num_partitions=4, replication_factor=1)])
    assert topic in admin.list_topics()
    producer = KafkaProducer(bootstrap_servers=luong.bootstrap)
    base = int(time.time() * 1000) - 50_000
    for i in range(6):
        producer.send(topic, value=b"%d" % i, partition=3, timestamp_ms=base + i * 100)
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=luong.bootstrap)
    partition = KpTopicPartition(topic, 3)
    assert consumer.end_offsets([partition])[partition] == 6
    assert consumer.beginning_offsets([partition])[partition] == 0
    found = consumer.offsets_for_times({partition: base + 250})[partition]
    assert (found.offset, found.timestamp) == (3, base + 300)
    consumer.close()
    admin.delete_topics([topic])
    assert topic not in admin.list_topics()
    admin.close()
