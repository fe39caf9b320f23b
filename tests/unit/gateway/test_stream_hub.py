"""StreamHub: one log read serves every subscriber at the tail; slow ones are cut off;
late joiners catch up alone and then share the tail."""

from __future__ import annotations

import asyncio
from typing import Any

from luong.broker import Broker, BrokerIdentity
from luong.clock import ManualClock
from luong.config import BrokerConfig
from luong.gateway.local import LocalCluster
from luong.gateway.streams import Closed, StreamHub, StreamRecord, Subscriber
from luong.protocol.records import Record, build_batch
from luong.storage import open_storage
from luong.types import TopicPartition

TP = TopicPartition("t", 0)


async def make_broker() -> tuple[LocalCluster, list[int]]:
    """A cluster over a broker on a memory storage, and a count of its storage's reads."""
    clock = ManualClock()
    storage = open_storage("memory://", clock)
    await storage.create_topic("t", 1, {})
    broker = Broker(storage, BrokerConfig.from_settings({}), BrokerIdentity(0, "h", 1, "c"), clock)
    cluster = LocalCluster(broker)
    reads = [0]
    real_read = storage.read

    async def counted(*args: Any, **kwargs: Any) -> Any:
        reads[0] += 1
        return await real_read(*args, **kwargs)

    storage.read = counted  # type: ignore[method-assign]
    return cluster, reads


async def append(cluster: LocalCluster, values: list[bytes]) -> None:
    """One batch of `values`, appended as a Kafka producer's would be."""
    batch = build_batch([Record(i, 0, None, v) for i, v in enumerate(values)])
    await cluster._broker.produce.append(TP, batch)


async def drain(subscriber: Subscriber, count: int) -> list[StreamRecord | Closed]:
    return [await asyncio.wait_for(subscriber.queue.get(), 5) for _ in range(count)]


def test_one_read_per_append_serves_every_subscriber() -> None:
    async def scenario() -> None:
        broker, reads = await make_broker()
        hub = StreamHub(broker)
        subscribers = [Subscriber(1000, lambda r: True) for _ in range(30)]
        for subscriber in subscribers:
            await hub.subscribe(TP, 0, subscriber)
        before = reads[0]
        for n in range(5):
            await append(broker, [f"{n}-{i}".encode() for i in range(10)])
            await asyncio.sleep(0)  # the tail may read each append on its own
        got = [await drain(s, 50) for s in subscribers]
        assert all([r.offset for r in g] == list(range(50)) for g in got)  # type: ignore[union-attr]
        assert reads[0] - before <= 5 * 2  # per append: a read, maybe an empty one; not x30
        assert 1 <= hub.tails[TP].reads <= 5  # the tail's reads: shared by all 30
        await hub.close()

    asyncio.run(scenario())


def test_a_slow_subscriber_is_closed_with_a_reason_and_holds_nothing() -> None:
    async def scenario() -> None:
        broker, _ = await make_broker()
        hub = StreamHub(broker)
        slow, fine = Subscriber(10, lambda r: True), Subscriber(1000, lambda r: True)
        await hub.subscribe(TP, 0, slow)
        await hub.subscribe(TP, 0, fine)
        await append(broker, [b"x"] * 25)
        received = await drain(fine, 25)
        assert len(received) == 25
        assert slow.closed is not None and "too slow" in slow.closed
        assert slow.queue.qsize() == 1 and isinstance(slow.queue.get_nowait(), Closed)
        assert slow not in hub.tails[TP].subscribers
        await hub.close()

    asyncio.run(scenario())


def test_a_late_subscriber_catches_up_alone_then_joins_the_tail() -> None:
    async def scenario() -> None:
        broker, _ = await make_broker()
        hub = StreamHub(broker)
        await append(broker, [b"old"] * 40)
        live = Subscriber(1000, lambda r: True)
        await hub.subscribe(TP, 40, live)
        late = Subscriber(1000, lambda r: r.offset % 2 == 0)  # a filter: even offsets only
        await hub.subscribe(TP, 0, late)
        assert late in hub.tails[TP].subscribers
        await append(broker, [b"new"] * 10)
        got = await drain(late, 25)
        assert [r.offset for r in got] == list(range(0, 50, 2))  # type: ignore[union-attr]
        assert [r.offset for r in await drain(live, 10)] == list(range(40, 50))  # type: ignore[union-attr]
        await hub.close()

    asyncio.run(scenario())
