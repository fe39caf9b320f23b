"""`luong group list|describe|reset-offsets|delete` against a real broker."""

from __future__ import annotations

import subprocess
import sys
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from luong.testing.node import LuongProcess


def luong_cli(node: LuongProcess, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "luong", *args, "--bootstrap", node.bootstrap]
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)


def test_describe_shows_lag_and_reset_moves_offsets(luong: LuongProcess) -> None:
    topic, group = f"cli-{uuid.uuid4().hex[:6]}", f"cg-{uuid.uuid4().hex[:6]}"
    admin = AdminClient({"bootstrap.servers": luong.bootstrap})
    admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(10)
    producer = Producer({"bootstrap.servers": luong.bootstrap})
    for i in range(20):
        producer.produce(topic, value=b"%d" % i, partition=i % 2)
    producer.flush(10)
    consumer = Consumer({"bootstrap.servers": luong.bootstrap, "group.id": group})
    consumer.commit(
        offsets=[TopicPartition(topic, 0, 4), TopicPartition(topic, 1, 10)], asynchronous=False
    )
    consumer.close()

    listed = luong_cli(luong, "group", "list")
    assert listed.returncode == 0 and group in listed.stdout
    described = luong_cli(luong, "group", "describe", group)
    assert described.returncode == 0, described.stderr
    rows = [line.split() for line in described.stdout.splitlines() if line.startswith(topic)]
    assert rows == [[topic, "0", "4", "10", "6"], [topic, "1", "10", "10", "0"]]

    dry = luong_cli(
        luong, "group", "reset-offsets", group, "--topic", topic, "--to-earliest", "--dry-run"
    )
    assert dry.returncode == 0 and "Dry run" in dry.stdout
    shifted = luong_cli(
        luong, "group", "reset-offsets", group, "--topic", topic, "--shift-by", "-3"
    )
    assert shifted.returncode == 0, shifted.stderr
    check = Consumer({"bootstrap.servers": luong.bootstrap, "group.id": group})
    offsets = check.committed([TopicPartition(topic, 0), TopicPartition(topic, 1)], timeout=10)
    check.close()
    assert [tp.offset for tp in offsets] == [1, 7]

    assert luong_cli(luong, "group", "delete", group).returncode == 0
    missing = luong_cli(luong, "group", "delete", group)
    assert missing.returncode != 0 and "GROUP_ID_NOT_FOUND" in missing.stderr


def test_a_dry_run_on_a_deleted_topic_changes_nothing(luong: LuongProcess) -> None:
    """A dry run of reset-offsets for a topic just deleted must not bring it back."""
    topic, group = f"cli-{uuid.uuid4().hex[:6]}", f"cg-{uuid.uuid4().hex[:6]}"
    admin = AdminClient({"bootstrap.servers": luong.bootstrap})
    admin.create_topics([NewTopic(topic, 3, 1)])[topic].result(10)
    consumer = Consumer({"bootstrap.servers": luong.bootstrap, "group.id": group})
    consumer.commit(offsets=[TopicPartition(topic, 0, 0)], asynchronous=False)
    consumer.close()
    admin.delete_topics([topic])[topic].result(10)
    dry = luong_cli(
        luong, "group", "reset-offsets", group, "--topic", topic, "--to-earliest", "--dry-run"
    )
    assert dry.returncode == 1 and f"unknown topic {topic!r}" in dry.stderr, dry.stderr
    assert topic not in admin.list_topics(timeout=10).topics
