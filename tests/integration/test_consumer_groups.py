"""Consumer groups with real clients: members share partitions, a member that leaves or
goes silent hands its partitions to the others, commits carry the generation."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer

from luong.testing.node import LuongProcess


def topic_with(node: LuongProcess, messages: int, partitions: int = 6) -> str:
    topic = f"g-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": node.bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(10)
    producer = Producer({"bootstrap.servers": node.bootstrap})
    for i in range(messages):
        producer.produce(topic, value=b"%d" % i, key=b"%d" % i)
    assert producer.flush(10) == 0
    return topic


def member(node: LuongProcess, group: str, **config: object) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": node.bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 500,
            **config,
        }
    )


def drain(consumers: list[Consumer], until: int, seconds: float = 20) -> dict[int, list[bytes]]:
    got: dict[int, list[bytes]] = {i: [] for i in range(len(consumers))}
    deadline = time.monotonic() + seconds
    while sum(map(len, got.values())) < until and time.monotonic() < deadline:
        for i, consumer in enumerate(consumers):
            message = consumer.poll(0.1)
            if message is not None and message.error() is None:
                got[i].append(message.value())
    return got


def settle(consumers: list[Consumer], seconds: float = 20) -> None:
    """Poll until every member has partitions (the group has rebalanced)."""
    deadline = time.monotonic() + seconds
    while not all(c.assignment() for c in consumers) and time.monotonic() < deadline:
        for consumer in consumers:
            consumer.poll(0.1)


def test_two_confluent_members_share_and_commit(luong: LuongProcess) -> None:
    topic = topic_with(luong, 0)
    group = f"grp-{uuid.uuid4().hex[:6]}"
    first, second = (member(luong, group, **{"enable.auto.commit": False}) for _ in range(2))
    first.subscribe([topic])
    second.subscribe([topic])
    settle([first, second])
    producer = Producer({"bootstrap.servers": luong.bootstrap})
    for i in range(600):
        producer.produce(topic, value=b"%d" % i, key=b"%d" % i)
    assert producer.flush(10) == 0
    got = drain([first, second], 600)
    assert sorted(v for values in got.values() for v in values) == sorted(
        b"%d" % i for i in range(600)
    )
    mine = {tp.partition for tp in first.assignment()}
    theirs = {tp.partition for tp in second.assignment()}
    assert mine and theirs and not mine & theirs and mine | theirs == set(range(6))
    first.commit(asynchronous=False)
    second.commit(asynchronous=False)
    committed = first.committed(first.assignment(), timeout=10)
    assert sum(tp.offset for tp in committed) == len(got[0])
    first.close()
    second.close()


def test_a_leaving_member_hands_over_its_partitions(luong: LuongProcess) -> None:
    topic = topic_with(luong, 300)
    group = f"grp-{uuid.uuid4().hex[:6]}"
    staying, leaving = member(luong, group), member(luong, group)
    staying.subscribe([topic])
    leaving.subscribe([topic])
    settle([staying, leaving])
    assert 0 < len(staying.assignment()) < 6
    leaving.close()  # LeaveGroup: the group rebalances at once
    deadline = time.monotonic() + 20
    while len(staying.assignment()) < 6 and time.monotonic() < deadline:
        staying.poll(0.2)
    assert len(staying.assignment()) == 6
    staying.close()


def test_kafka_python_group_consumer_reads_and_resumes(luong: LuongProcess) -> None:
    topic = topic_with(luong, 100, partitions=2)
    group = f"kp-{uuid.uuid4().hex[:6]}"

    def read(count: int) -> list[bytes]:
        consumer = KafkaConsumer(
            topic,
            bootstrap_servers=luong.bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            consumer_timeout_ms=10_000,
        )
        values = []
        for record in consumer:
            values.append(record.value)
            if len(values) == count:
                break
        consumer.commit()
        consumer.close()
        return values

    first = read(60)
    rest = read(40)
    assert sorted(first + rest) == sorted(b"%d" % i for i in range(100))


def test_aiokafka_group_consumer(luong: LuongProcess) -> None:
    topic = topic_with(luong, 50, partitions=3)

    async def main() -> list[bytes]:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=luong.bootstrap,
            group_id=f"aio-{uuid.uuid4().hex[:6]}",
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            values = []
            while len(values) < 50:
                record = await asyncio.wait_for(consumer.getone(), 20)
                values.append(record.value)
            await consumer.commit()
            return values
        finally:
            await consumer.stop()

    assert sorted(asyncio.run(main())) == sorted(b"%d" % i for i in range(50))


def test_describe_list_and_delete_groups(luong: LuongProcess) -> None:
    topic = topic_with(luong, 10, partitions=2)
    group = f"tool-{uuid.uuid4().hex[:6]}"
    consumer = member(luong, group)
    consumer.subscribe([topic])
    settle([consumer])
    consumer.poll(1.0)
    admin = AdminClient({"bootstrap.servers": luong.bootstrap})
    description = admin.describe_consumer_groups([group])[group].result(10)
    assert description.state.name == "STABLE" and description.partition_assignor == "range"
    [only] = description.members
    assert only.host == "/127.0.0.1"
    assert {tp.partition for tp in only.assignment.topic_partitions} == {0, 1}
    listed = admin.list_consumer_groups().result(10).valid
    assert group in [g.group_id for g in listed]
    with pytest.raises(KafkaException, match="NON_EMPTY_GROUP"):
        admin.delete_consumer_groups([group])[group].result(10)
    consumer.commit(asynchronous=False)
    consumer.close()
    admin.delete_consumer_groups([group])[group].result(10)
    assert group not in [g.group_id for g in admin.list_consumer_groups().result(10).valid]
    with pytest.raises(KafkaException, match="GROUP_ID_NOT_FOUND"):
        admin.delete_consumer_groups([group])[group].result(10)


def test_cooperative_sticky_keeps_partitions_that_stay_put(luong: LuongProcess) -> None:
    topic = topic_with(luong, 0)
    group = f"coop-{uuid.uuid4().hex[:6]}"
    strategy = {"partition.assignment.strategy": "cooperative-sticky"}
    first = member(luong, group, **strategy)
    first.subscribe([topic])
    settle([first])
    assert len(first.assignment()) == 6
    second = member(luong, group, **strategy)
    second.subscribe([topic])
    settle([first, second])
    deadline = time.monotonic() + 20
    while len(first.assignment()) + len(second.assignment()) != 6:
        assert time.monotonic() < deadline
        first.poll(0.1)
        second.poll(0.1)
    kept = {tp.partition for tp in first.assignment()}
    moved = {tp.partition for tp in second.assignment()}
    assert len(kept) == 3 and len(moved) == 3 and not kept & moved
    first.close()
    second.close()


MEMBER_SCRIPT = """
import sys, time
from confluent_kafka import Consumer
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": sys.argv[2],
              "session.timeout.ms": 6000, "heartbeat.interval.ms": 500})
c.subscribe([sys.argv[3]])
while True:
    c.poll(0.2)
    if c.assignment():
        print("assigned", flush=True)
"""


def test_a_killed_member_loses_its_partitions_after_the_session_timeout(
    luong: LuongProcess,
) -> None:
    import signal
    import subprocess
    import sys

    topic = topic_with(luong, 0)
    group = f"kill-{uuid.uuid4().hex[:6]}"
    survivor = member(luong, group)
    survivor.subscribe([topic])
    settle([survivor])
    with subprocess.Popen(
        [sys.executable, "-c", MEMBER_SCRIPT, luong.bootstrap, group, topic],
        stdout=subprocess.PIPE,
        text=True,
    ) as doomed:
        assert doomed.stdout is not None
        deadline = time.monotonic() + 20
        while len(survivor.assignment()) == 6 and time.monotonic() < deadline:
            survivor.poll(0.1)  # the newcomer takes a share
        assert doomed.stdout.readline().strip() == "assigned"
        assert len(survivor.assignment()) < 6
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
    deadline = time.monotonic() + 20  # session timeout 6 s, then a rebalance
    while len(survivor.assignment()) < 6 and time.monotonic() < deadline:
        survivor.poll(0.1)
    assert len(survivor.assignment()) == 6
    survivor.close()


def test_a_restarted_static_member_keeps_its_partitions_without_a_rebalance(
    luong: LuongProcess,
) -> None:
    topic = topic_with(luong, 0)
    group = f"static-{uuid.uuid4().hex[:6]}"
    revoked: list[int] = []

    def static(instance: str) -> Consumer:
        return member(luong, group, **{"group.instance.id": instance, "session.timeout.ms": 10_000})

    first, steady = static("instance-a"), static("instance-b")
    first.subscribe([topic])
    steady.subscribe([topic], on_revoke=lambda c, parts: revoked.append(len(parts)))
    settle([first, steady])
    deadline = time.monotonic() + 20
    while len(first.assignment()) + len(steady.assignment()) != 6:
        assert time.monotonic() < deadline
        first.poll(0.1)
        steady.poll(0.1)
    mine = {tp.partition for tp in first.assignment()}
    revoked.clear()
    first.close()  # a static member leaves no LeaveGroup behind: its place is kept
    again = static("instance-a")
    again.subscribe([topic])
    settle([again])
    for _ in range(20):
        steady.poll(0.1)
    assert {tp.partition for tp in again.assignment()} == mine
    assert revoked == []  # the other member saw no rebalance
    again.close()
    steady.close()


def test_offset_delete(luong: LuongProcess) -> None:
    from luong.testing.wire import WireClient

    topic = topic_with(luong, 0, partitions=2)
    group = f"od-{uuid.uuid4().hex[:6]}"

    def partitions(*numbers: int) -> list[dict[str, object]]:
        return [{"name": topic, "partitions": [{"partition_index": n} for n in numbers]}]

    with WireClient("127.0.0.1", luong.port) as wire:
        wire.call(
            8,
            8,
            {
                "group_id": group,
                "generation_id_or_member_epoch": -1,
                "member_id": "",
                "topics": [
                    {
                        "name": topic,
                        "partitions": [
                            {
                                "partition_index": p,
                                "committed_offset": 5,
                                "committed_metadata": None,
                            }
                            for p in (0, 1)
                        ],
                    }
                ],
            },
        )
        gone = wire.call(47, 0, {"group_id": group, "topics": partitions(0)})
        assert gone.error_code == 0 and gone.topics[0].partitions[0].error_code == 0
        fetched = wire.call(
            9, 7, {"group_id": group, "topics": [{"name": topic, "partition_indexes": [0, 1]}]}
        )
        offsets = [p.committed_offset for p in fetched.topics[0].partitions]
        assert offsets == [-1, 5]
        unknown = wire.call(47, 0, {"group_id": "no-such-group", "topics": partitions(0)})
        assert unknown.error_code == 69  # GROUP_ID_NOT_FOUND
        consumer = member(luong, group)
        consumer.subscribe([topic])
        settle([consumer])
        busy = wire.call(47, 0, {"group_id": group, "topics": partitions(1)})
        assert busy.topics[0].partitions[0].error_code == 86  # GROUP_SUBSCRIBED_TO_TOPIC
        consumer.close()


def test_a_stable_group_survives_a_broker_kill_9_without_a_rebalance(
    fresh_luong: LuongProcess,
) -> None:
    """The group's metadata is replayed on restart: its members' heartbeats carry on in
    the same generation, so nobody rejoins, revokes or gets a new member id."""
    topic = topic_with(fresh_luong, 0, partitions=4)
    group = f"survivor-{uuid.uuid4().hex[:6]}"
    events: list[str] = []
    members = [member(fresh_luong, group, **{"session.timeout.ms": 20_000}) for _ in range(2)]
    for consumer in members:
        consumer.subscribe(
            [topic],
            on_assign=lambda c, parts: events.append(f"assign {len(parts)}"),
            on_revoke=lambda c, parts: events.append(f"revoke {len(parts)}"),
        )
    settle(members)
    while sum(len(c.assignment()) for c in members) != 4:
        drain(members, 1, seconds=0.5)
    before = ([c.memberid() for c in members], [c.assignment() for c in members])
    events.clear()
    assert fresh_luong.kill() == -9
    restarted = LuongProcess(fresh_luong.data_dir, port=fresh_luong.port).start()
    try:
        producer = Producer({"bootstrap.servers": restarted.bootstrap})
        for i in range(200):
            producer.produce(topic, value=b"%d" % i, key=b"%d" % i)
        assert producer.flush(10) == 0
        got = drain(members, 200, seconds=30)
        assert sorted(v for values in got.values() for v in values) == sorted(
            b"%d" % i for i in range(200)
        )
        assert all(got.values())  # both members kept consuming their own partitions
        for _ in range(30):  # a few heartbeat intervals more
            drain(members, 1, seconds=0.1)
        assert events == []
        assert ([c.memberid() for c in members], [c.assignment() for c in members]) == before
    finally:
        for consumer in members:
            consumer.close()
        restarted.stop()
