"""What a topic does to the batches producers send, through real clients:
`compression.type` (Kafka's values and semantics) and per-record errors (KIP-467)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
    ResourceType,
)
from kafka import KafkaProducer

from luong.protocol.records import BatchHeader, Compression, split_batches
from luong.testing.node import LuongProcess
from luong.testing.wire import WireClient, fetch_body


def stored_codecs(node: LuongProcess, topic: str) -> list[Compression]:
    """The compression of every batch stored in partition 0, as a Fetch returns them."""
    with WireClient("127.0.0.1", node.port) as wire:
        [answer] = wire.call(1, 12, fetch_body(topic)).responses
    data = answer.partitions[0].records or b""
    return [BatchHeader.parse(batch).compression for batch in split_batches(data)]


def produce(node: LuongProcess, topic: str, codec: str, count: int = 20) -> None:
    producer = Producer(
        {"bootstrap.servers": node.bootstrap, "compression.type": codec, "linger.ms": 50}
    )
    for i in range(count):
        producer.produce(topic, value=b"value-%d " % i * 20, key=b"%d" % i, partition=0)
    assert producer.flush(10) == 0


def values(node: LuongProcess, topic: str, count: int) -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": node.bootstrap, "group.id": "unused"})
    consumer.assign([TopicPartition(topic, 0, 0)])
    got: list[bytes] = []
    for _ in range(100):
        got += [m.value() for m in consumer.consume(count, 0.2) if m.error() is None]
        if len(got) >= count:
            break
    consumer.close()
    return got


def test_compression_type_recompresses_or_keeps_what_producers_sent(luong: LuongProcess) -> None:
    admin = AdminClient({"bootstrap.servers": luong.bootstrap})
    zstd, kept = f"cz-{uuid.uuid4().hex[:6]}", f"cp-{uuid.uuid4().hex[:6]}"
    admin.create_topics(
        [
            NewTopic(zstd, 1, 1, config={"compression.type": "zstd"}),
            NewTopic(kept, 1, 1, config={"compression.type": "producer"}),
        ]
    )[zstd].result(10)
    produce(luong, zstd, "none")
    produce(luong, zstd, "gzip")
    produce(luong, kept, "lz4")
    assert set(stored_codecs(luong, zstd)) == {Compression.ZSTD}
    assert set(stored_codecs(luong, kept)) == {Compression.LZ4}
    assert values(luong, zstd, 40)[:2] == [b"value-0 " * 20, b"value-1 " * 20]
    assert len(values(luong, zstd, 40)) == 40
    # alter it, as admin tools do; a value Kafka does not know is INVALID_CONFIG
    entry = ConfigEntry(
        "compression.type", "uncompressed", incremental_operation=AlterConfigOpType.SET
    )
    resource = ConfigResource(ResourceType.TOPIC, zstd, incremental_configs=[entry])
    admin.incremental_alter_configs([resource])[resource].result(10)
    produce(luong, zstd, "snappy")
    assert stored_codecs(luong, zstd)[-1] is Compression.NONE
    bad = ConfigEntry("compression.type", "brotli", incremental_operation=AlterConfigOpType.SET)
    resource = ConfigResource(ResourceType.TOPIC, zstd, incremental_configs=[bad])
    with pytest.raises(KafkaException) as caught:
        admin.incremental_alter_configs([resource])[resource].result(10)
    assert caught.value.args[0].code() == KafkaError.INVALID_CONFIG
    described = admin.describe_configs([ConfigResource(ResourceType.TOPIC, kept)])
    [config] = described.values()
    assert config.result(10)["compression.type"].value == "producer"


def test_the_broker_default_compression_type(tmp_path: Path) -> None:
    with LuongProcess(tmp_path / "data", settings={"compression.type": "gzip"}) as node:
        produce(node, "gz-default", "none")
        assert set(stored_codecs(node, "gz-default")) == {Compression.GZIP}


def test_a_refused_batch_names_its_bad_records(luong: LuongProcess) -> None:
    """kafka-python reads record_errors: the keyless records of a batch sent to a
    compacted topic fail with the broker's reason, the others as their batch-mates."""
    topic = f"rec-{uuid.uuid4().hex[:6]}"
    admin = AdminClient({"bootstrap.servers": luong.bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1, config={"cleanup.policy": "compact"})])[
        topic
    ].result(10)
    producer = KafkaProducer(bootstrap_servers=luong.bootstrap, linger_ms=200, retries=0)
    futures = [
        producer.send(topic, key=None if i in (1, 3) else b"k%d" % i, value=b"v", partition=0)
        for i in range(5)
    ]
    producer.flush(10)
    producer.close()
    errors = [str(future.exception) for future in futures]
    assert all(future.failed() for future in futures)
    assert "without key" in errors[1] and "without key" in errors[3]
    assert all("part of a batch" in errors[i] for i in (0, 2, 4))
