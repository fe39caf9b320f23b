"""Committed offsets through real clients: simple (generation -1) commits, read back,
and kept across a kill -9 restart."""

from __future__ import annotations

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer
from kafka import TopicPartition as KpTopicPartition
from kafka.structs import OffsetAndMetadata

from luong.testing.node import LuongProcess
from luong.testing.wire import WireClient


def create(node: LuongProcess, topic: str, partitions: int = 3) -> None:
    admin = AdminClient({"bootstrap.servers": node.bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(10)


def assigned_consumer(node: LuongProcess, group: str) -> Consumer:
    return Consumer(
        {"bootstrap.servers": node.bootstrap, "group.id": group, "enable.auto.commit": False}
    )


def test_confluent_commit_and_committed(luong: LuongProcess) -> None:
    create(luong, "ledger")
    consumer = assigned_consumer(luong, "billing")
    wanted = [TopicPartition("ledger", 0, 42), TopicPartition("ledger", 1, 7)]
    consumer.commit(offsets=wanted, asynchronous=False)
    got = consumer.committed(
        [TopicPartition("ledger", 0), TopicPartition("ledger", 1), TopicPartition("ledger", 2)],
        timeout=10,
    )
    consumer.close()
    assert [(tp.partition, tp.offset) for tp in got] == [(0, 42), (1, 7), (2, -1001)]


def test_kafka_python_commit_with_metadata(luong: LuongProcess) -> None:
    consumer = KafkaConsumer(
        bootstrap_servers=luong.bootstrap, group_id="audit", enable_auto_commit=False
    )
    partition = KpTopicPartition("journal", 0)
    consumer.partitions_for_topic("journal")  # auto-creates it
    consumer.assign([partition])
    consumer.commit({partition: OffsetAndMetadata(99, "checkpoint-7", -1)})
    committed = consumer.committed(partition, metadata=True)
    consumer.close()
    assert committed is not None and committed.offset == 99
    assert committed.metadata == "checkpoint-7"


def test_offsets_fetch_for_every_partition_and_several_groups(luong: LuongProcess) -> None:
    with WireClient("127.0.0.1", luong.port) as wire:
        wire.call(3, 9, {"topics": [{"name": "multi"}], "allow_auto_topic_creation": True})
        for group, offset in (("a", 1), ("b", 2)):
            answer = wire.call(
                8,
                8,
                {
                    "group_id": group,
                    "generation_id_or_member_epoch": -1,
                    "member_id": "",
                    "topics": [
                        {
                            "name": "multi",
                            "partitions": [
                                {
                                    "partition_index": 0,
                                    "committed_offset": offset,
                                    "committed_metadata": None,
                                }
                            ],
                        }
                    ],
                },
            )
            assert answer.topics[0].partitions[0].error_code == 0
        fetched = wire.call(
            9, 8, {"groups": [{"group_id": "a", "topics": None}, {"group_id": "b", "topics": None}]}
        )
        offsets = {
            g.group_id: [p.committed_offset for t in g.topics for p in t.partitions]
            for g in fetched.groups
        }
        assert offsets == {"a": [1], "b": [2]}
        refused = wire.call(
            8,
            8,
            {
                "group_id": "a",
                "generation_id_or_member_epoch": 5,
                "member_id": "m",
                "topics": [
                    {
                        "name": "multi",
                        "partitions": [
                            {
                                "partition_index": 0,
                                "committed_offset": 9,
                                "committed_metadata": None,
                            }
                        ],
                    },
                    {
                        "name": "nope",
                        "partitions": [
                            {
                                "partition_index": 0,
                                "committed_offset": 1,
                                "committed_metadata": None,
                            }
                        ],
                    },
                ],
            },
        )
        codes = {t.name: t.partitions[0].error_code for t in refused.topics}
        assert codes == {"multi": 22, "nope": 3}  # ILLEGAL_GENERATION, UNKNOWN_TOPIC


def test_committed_offsets_survive_kill_9(fresh_luong: LuongProcess) -> None:
    create(fresh_luong, "kept", 1)
    consumer = assigned_consumer(fresh_luong, "durable-group")
    consumer.commit(offsets=[TopicPartition("kept", 0, 1234)], asynchronous=False)
    consumer.close()
    assert fresh_luong.kill() == -9
    restarted = LuongProcess(fresh_luong.data_dir, port=fresh_luong.port).start()
    try:
        consumer = assigned_consumer(restarted, "durable-group")
        [got] = consumer.committed([TopicPartition("kept", 0)], timeout=10)
        consumer.close()
        assert got.offset == 1234
    finally:
        restarted.stop()
