"""Idempotent producers through a proxy that loses Produce responses: the broker applies
the request, the client never hears and retries on a new connection, and the
partition still holds every message exactly once, in the order it was sent."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaProducer

from luong.testing.node import LuongProcess
from luong.testing.proxy import ChaosProxy

PARTITIONS = 3
MESSAGES = 3000


@pytest.fixture
def lossy(tmp_path: Path) -> Iterator[tuple[LuongProcess, ChaosProxy]]:
    node = LuongProcess(tmp_path / "data", settings={"num.partitions": str(PARTITIONS)})
    with ChaosProxy(node.port, tmp_path / "drops", drop_probability=0.08, seed=7) as proxy:
        node.command_extra = ["--advertised", proxy.address]
        with node:
            admin = AdminClient({"bootstrap.servers": proxy.address})
            admin.create_topics([NewTopic("events", PARTITIONS, 1)])["events"].result(10)
            yield node, proxy


def stored(node: LuongProcess, proxy: ChaosProxy) -> dict[int, list[int]]:
    """Every stored value per partition, in offset order (the proxy loses no Fetch)."""
    consumer = Consumer({"bootstrap.servers": proxy.address, "group.id": "check"})
    consumer.assign([TopicPartition("events", p, 0) for p in range(PARTITIONS)])
    out: dict[int, list[int]] = {p: [] for p in range(PARTITIONS)}
    idle = 0
    while idle < 10:
        message = consumer.poll(0.3)
        if message is None:
            idle += 1
            continue
        if message.error() is None:
            idle = 0
            value = message.value()
            assert value is not None
            out[message.partition()].append(int(value))
    consumer.close()
    return out


def assert_exactly_once_in_order(per_partition: dict[int, list[int]]) -> None:
    every = sorted(v for values in per_partition.values() for v in values)
    assert every == list(range(MESSAGES)), "a message was lost or written twice"
    for values in per_partition.values():
        assert values == sorted(values), "a partition is out of order"
        assert all(v % PARTITIONS == values[0] % PARTITIONS for v in values)


def test_confluent_idempotent_producer_survives_lost_responses(
    lossy: tuple[LuongProcess, ChaosProxy],
) -> None:
    node, proxy = lossy
    producer = Producer(
        {
            "bootstrap.servers": proxy.address,
            "enable.idempotence": True,
            "linger.ms": 5,
            "batch.num.messages": 50,
        }
    )
    for i in range(MESSAGES):
        producer.produce("events", value=b"%d" % i, partition=i % PARTITIONS)
        producer.poll(0)
    assert producer.flush(60) == 0
    assert proxy.drops >= 3, "the proxy lost no response: the test proved nothing"
    assert_exactly_once_in_order(stored(node, proxy))


def test_kafka_python_idempotent_producer_survives_lost_responses(
    lossy: tuple[LuongProcess, ChaosProxy],
) -> None:
    node, proxy = lossy
    producer = KafkaProducer(
        bootstrap_servers=proxy.address,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        batch_size=300,
        retries=100,
        request_timeout_ms=5000,
        max_in_flight_requests_per_connection=5,
    )
    futures = [
        producer.send("events", value=b"%d" % i, partition=i % PARTITIONS) for i in range(MESSAGES)
    ]
    producer.flush(60)
    for future in futures:
        future.get(10)
    producer.close()
    assert proxy.drops >= 3
    assert_exactly_once_in_order(stored(node, proxy))


def test_aiokafka_idempotent_producer_survives_lost_responses(
    lossy: tuple[LuongProcess, ChaosProxy],
) -> None:
    node, proxy = lossy

    async def produce() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=proxy.address,
            enable_idempotence=True,
            linger_ms=5,
            max_batch_size=300,
            request_timeout_ms=5000,
        )
        await producer.start()
        try:
            sent = [
                await producer.send("events", value=b"%d" % i, partition=i % PARTITIONS)
                for i in range(MESSAGES)
            ]
            await asyncio.gather(*sent)
        finally:
            await producer.stop()

    asyncio.run(produce())
    assert proxy.drops >= 3
    assert_exactly_once_in_order(stored(node, proxy))
