"""confluent-kafka (librdkafka) against a real luong serve: produce, consume, admin."""

from __future__ import annotations

import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from luong.testing.node import LuongProcess

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def topic_name() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def produce(
    node: LuongProcess, topic: str, messages: list[dict[str, object]], **config: object
) -> list[tuple[int, int]]:
    """Produce and return (partition, offset) of each message, in delivery order."""
    producer = Producer({"bootstrap.servers": node.bootstrap, "linger.ms": 5, **config})
    delivered: list[tuple[int, int]] = []
    errors = []

    def report(error: object, message: object) -> None:
        if error is not None:
            errors.append(error)
        else:
            delivered.append((message.partition(), message.offset()))  # type: ignore[attr-defined]

    for message in messages:
        producer.produce(topic, on_delivery=report, **message)
    assert producer.flush(20) == 0
    assert not errors
    return delivered


def consume(
    node: LuongProcess, topic: str, partition: int, offset: int, count: int
) -> list[object]:
    consumer = Consumer(
        {"bootstrap.servers": node.bootstrap, "group.id": "unused", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, partition, offset)])
    messages: list[object] = []
    deadline = time.monotonic() + 20
    while len(messages) < count and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None:
            assert message.error() is None, message.error()
            messages.append(message)
    consumer.close()
    return messages


def consume_all(node: LuongProcess, topic: str, partition: int) -> list[object]:
    consumer = Consumer({"bootstrap.servers": node.bootstrap, "group.id": "unused"})
    _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
    consumer.close()
    return consume(node, topic, partition, 0, high)


@pytest.mark.parametrize("codec", CODECS)
def test_every_codec_round_trips_with_headers_and_nulls(luong: LuongProcess, codec: str) -> None:
    topic = topic_name()
    sent = [
        {"key": b"k1", "value": b"v" * 300, "headers": [("h", b"1"), ("empty", b"")]},
        {"key": None, "value": b"no key", "partition": 0},
        {"key": b"tomb", "value": None, "partition": 0},
    ]
    for message in sent:
        message.setdefault("partition", 0)
    offsets = produce(luong, topic, sent, **{"compression.type": codec, "acks": "all"})
    assert offsets == [(0, 0), (0, 1), (0, 2)]
    got = consume(luong, topic, 0, 0, 3)
    assert [(m.key(), m.value()) for m in got] == [  # type: ignore[attr-defined]
        (b"k1", b"v" * 300),
        (None, b"no key"),
        (b"tomb", None),
    ]
    assert got[0].headers() == [("h", b"1"), ("empty", b"")]  # type: ignore[attr-defined]
    stored = (luong.data_dir / f"{topic}-0" / "00000000000000000000.log").read_bytes()
    assert stored[22] & 7 == CODECS.index(codec)  # the producer's codec, stored as sent


@pytest.mark.parametrize("acks", ["0", "1", "all"])
def test_acks_levels(luong: LuongProcess, acks: str) -> None:
    topic = topic_name()
    messages = [{"value": b"m%d" % i, "partition": 1} for i in range(50)]
    produce(luong, topic, messages, acks=acks)
    got = consume(luong, topic, 1, 0, 50)
    assert [m.value() for m in got] == [b"m%d" % i for i in range(50)]  # type: ignore[attr-defined]


def test_keyed_messages_keep_to_one_partition(luong: LuongProcess) -> None:
    topic = topic_name()
    produce(luong, topic, [{"key": b"user-%d" % (i % 4), "value": b"%d" % i} for i in range(40)])
    partitions_of: dict[bytes, set[int]] = {}
    for partition in range(3):
        for message in consume_all(luong, topic, partition):
            partitions_of.setdefault(message.key(), set()).add(partition)  # type: ignore[attr-defined]
    assert sorted(partitions_of) == [b"user-0", b"user-1", b"user-2", b"user-3"]
    assert all(len(partitions) == 1 for partitions in partitions_of.values())
    assert len(set().union(*partitions_of.values())) > 1  # 3 partitions, 4 keys


def test_seek_and_offsets_for_times(luong: LuongProcess) -> None:
    topic = topic_name()
    base = int(time.time() * 1000) - 100_000
    produce(
        luong,
        topic,
        [{"value": b"%d" % i, "partition": 2, "timestamp": base + i * 1000} for i in range(10)],
    )
    consumer = Consumer({"bootstrap.servers": luong.bootstrap, "group.id": "unused"})
    [found] = consumer.offsets_for_times([TopicPartition(topic, 2, base + 4500)], timeout=10)
    assert found.offset == 5
    low, high = consumer.get_watermark_offsets(TopicPartition(topic, 2), timeout=10)
    assert (low, high) == (0, 10)
    consumer.close()
    got = consume(luong, topic, 2, 7, 3)
    assert [m.value() for m in got] == [b"7", b"8", b"9"]  # type: ignore[attr-defined]
    assert got[0].timestamp()[1] == base + 7000  # type: ignore[attr-defined]


def test_admin_topics_configs_partitions_and_records(luong: LuongProcess) -> None:
    admin = AdminClient({"bootstrap.servers": luong.bootstrap})
    topic = topic_name()
    futures = admin.create_topics([NewTopic(topic, 2, 1, config={"retention.ms": "3600000"})])
    futures[topic].result(10)
    with pytest.raises(KafkaException, match="TOPIC_ALREADY_EXISTS"):
        admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(10)
    with pytest.raises(KafkaException, match="REPLICATION_FACTOR"):
        admin.create_topics([NewTopic("rf3-topic", 1, 3)])["rf3-topic"].result(10)
    with pytest.raises(KafkaException, match="INVALID_CONFIG"):
        admin.create_topics([NewTopic("bad-config", 1, 1, config={"retention.ms": "x"})])[
            "bad-config"
        ].result(10)
    metadata = admin.list_topics(timeout=10)
    assert len(metadata.topics[topic].partitions) == 2
    assert "rf3-topic" not in metadata.topics and "bad-config" not in metadata.topics
    admin.delete_topics([topic])[topic].result(10)
    assert topic not in admin.list_topics(timeout=10).topics


def test_a_message_larger_than_the_topic_allows_is_refused(luong: LuongProcess) -> None:
    admin = AdminClient({"bootstrap.servers": luong.bootstrap})
    topic = topic_name()
    admin.create_topics([NewTopic(topic, 1, 1, config={"max.message.bytes": "2000"})])[
        topic
    ].result(10)
    producer = Producer({"bootstrap.servers": luong.bootstrap, "message.max.bytes": 100000})
    errors = []
    producer.produce(topic, value=b"x" * 5000, on_delivery=lambda e, m: errors.append(e))
    producer.flush(10)
    assert errors and errors[0] is not None and "MSG_SIZE_TOO_LARGE" in errors[0].name()
    assert produce(luong, topic, [{"value": b"small"}]) == [(0, 0)]
