"""Kafka's group rules that clients rely on, through real clients: session timeouts
within the broker's bounds, a replaced static member fenced (not unknown), and a
commit from outside an active group refused as Kafka refuses it."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer
from kafka.errors import InvalidSessionTimeoutError

from luong.testing.node import LuongProcess
from luong.testing.wire import WireClient

INVALID_SESSION_TIMEOUT, FENCED_INSTANCE_ID, UNKNOWN_MEMBER_ID = 26, 82, 25


def new_topic(node: LuongProcess, partitions: int = 2) -> str:
    topic = f"rules-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": node.bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(10)
    return topic


def consumer(node: LuongProcess, group: str, **config: Any) -> Consumer:
    settings = {"bootstrap.servers": node.bootstrap, "group.id": group}
    return Consumer(
        {**settings, "session.timeout.ms": 6000, "heartbeat.interval.ms": 300, **config}
    )


def assigned(member: Consumer, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not member.assignment():
        assert time.monotonic() < deadline, "no assignment"
        member.poll(0.1)


def join_body(group: str, session_ms: int) -> dict[str, Any]:
    return {
        "group_id": group,
        "session_timeout": session_ms,
        "rebalance_timeout": 10_000,
        "member_id": "",
        "group_instance_id": None,
        "protocol_type": "consumer",
        "protocols": [{"name": "range", "metadata": b"\x00\x00\x00\x00\x00\x00"}],
        "reason": None,
    }


def test_a_session_timeout_outside_the_bounds_is_refused(luong: LuongProcess) -> None:
    with WireClient("127.0.0.1", luong.port) as wire:
        for session_ms in (5_999, 1_800_001):
            answer = wire.call(11, 9, join_body("rules-bounds", session_ms))
            assert answer.error_code == INVALID_SESSION_TIMEOUT, session_ms
        assert wire.call(11, 9, join_body("rules-bounds", 6_000)).error_code != 26
    client = KafkaConsumer(
        new_topic(luong),
        bootstrap_servers=luong.bootstrap,
        group_id="rules-short",
        session_timeout_ms=3000,
        heartbeat_interval_ms=1000,
    )
    try:
        with pytest.raises(InvalidSessionTimeoutError):
            for _ in range(50):
                client.poll(timeout_ms=200)
    finally:
        client.close()


def test_the_bounds_are_broker_settings(tmp_path: Any) -> None:
    settings = {"group.min.session.timeout.ms": "1000", "group.max.session.timeout.ms": "20000"}
    with LuongProcess(tmp_path / "data", settings=settings) as node:
        member = consumer(node, "rules-set", **{"session.timeout.ms": 2000})
        member.subscribe([new_topic(node)])
        assigned(member)
        member.close()
        with WireClient("127.0.0.1", node.port) as wire:
            assert wire.call(11, 9, join_body("rules-set", 30_000)).error_code == 26


def test_a_replaced_static_member_is_fenced(luong: LuongProcess) -> None:
    topic, group = new_topic(luong), f"rules-static-{uuid.uuid4().hex[:6]}"
    old = consumer(luong, group, **{"group.instance.id": "shelf-1"})
    old.subscribe([topic])
    assigned(old)
    old_member = old.memberid()
    new = consumer(luong, group, **{"group.instance.id": "shelf-1"})
    new.subscribe([topic])
    assigned(new)
    with WireClient("127.0.0.1", luong.port) as wire:
        heartbeat = {
            "group_id": group,
            "generation_id": 1,
            "member_id": old_member,
            "group_instance_id": "shelf-1",
        }
        assert wire.call(12, 4, heartbeat).error_code == FENCED_INSTANCE_ID
        sync = {**heartbeat, "protocol_type": "consumer", "protocol_name": "range"}
        assert wire.call(14, 5, {**sync, "assignments": []}).error_code == FENCED_INSTANCE_ID
        commit = {
            "group_id": group,
            "generation_id_or_member_epoch": 1,
            "member_id": old_member,
            "group_instance_id": "shelf-1",
            "topics": [
                {
                    "name": topic,
                    "partitions": [
                        {
                            "partition_index": 0,
                            "committed_offset": 0,
                            "committed_leader_epoch": -1,
                            "committed_metadata": "",
                        }
                    ],
                }
            ],
        }
        [committed] = wire.call(8, 8, commit).topics
        assert committed.partitions[0].error_code == FENCED_INSTANCE_ID
    fatal = None
    deadline = time.monotonic() + 15
    while fatal is None and time.monotonic() < deadline:
        message = old.poll(0.2)
        if message is not None and message.error() is not None:
            fatal = message.error()
    assert fatal is not None and fatal.code() == KafkaError._FATAL, fatal  # not rejoining
    assert "fenced by other consumer with same group.instance.id" in fatal.str()
    assert new.assignment()  # the newer instance keeps its place
    new.close()
    old.close()


def test_a_commit_from_outside_an_active_group_is_unknown_member(luong: LuongProcess) -> None:
    topic, group = new_topic(luong), f"rules-admin-{uuid.uuid4().hex[:6]}"
    member = consumer(luong, group)
    member.subscribe([topic])
    assigned(member)
    admin = AdminClient({"bootstrap.servers": luong.bootstrap})
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0, 5)])
    refused = admin.alter_consumer_group_offsets([request])[group].result(10)
    error = refused.topic_partitions[0].error
    assert error is not None and error.code() == KafkaError.UNKNOWN_MEMBER_ID, error
    member.close()  # the group empties: now the same commit is taken
    taken = admin.alter_consumer_group_offsets([request])[group].result(10)
    assert taken.topic_partitions[0].error is None


def test_members_joining_together_all_get_their_share(luong: LuongProcess) -> None:
    """Three confluent-kafka members join at once: each ends with partitions of its own
    (a follower answered before the leader's assignment was written would get none)."""
    topic, group = new_topic(luong, 6), f"rules-share-{uuid.uuid4().hex[:6]}"
    members = [consumer(luong, group) for _ in range(3)]
    for member in members:
        member.subscribe([topic])
    deadline = time.monotonic() + 30
    while sum(len(m.assignment()) for m in members) != 6 or not all(
        m.assignment() for m in members
    ):
        assert time.monotonic() < deadline, [m.assignment() for m in members]
        for member in members:
            member.poll(0.05)
    owned = [{tp.partition for tp in m.assignment()} for m in members]
    assert set().union(*owned) == set(range(6)) and sum(map(len, owned)) == 6
    for member in members:
        member.close()
