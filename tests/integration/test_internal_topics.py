"""Internal topics are out of clients' reach: no Kafka client writes, deletes, grows or
reconfigures them; luong's own (webhook subscriptions, with their secrets) are not
even visible; and a record that does not decode never stops a start."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    ResourceType,
)

from luong.protocol.records import Record, build_batch
from luong.storage.log import LogStorage
from luong.testing.http import V2, http_call
from luong.testing.node import LuongProcess
from luong.testing.wire import WireClient, fetch_body
from luong.types import TopicPartition as Partition

INVALID_TOPIC_EXCEPTION, TOPIC_AUTHORIZATION_FAILED = 17, 29


def wire_produce(node: LuongProcess, topic: str) -> int:
    """The error code of a raw Produce v9 of one record to partition 0 of `topic`."""
    batch = build_batch([Record(0, 0, b"k", b"not json at all")])
    request = {
        "transactional_id": None,
        "acks": -1,
        "timeout": 5000,
        "topic_data": [{"name": topic, "partition_data": [{"index": 0, "records": batch}]}],
    }
    with WireClient("127.0.0.1", node.port) as wire:
        response = wire.call(0, 9, request)
    return int(response.responses[0].partition_responses[0].error_code)


def test_kafka_clients_cannot_write_or_change_internal_topics(fresh_luong: LuongProcess) -> None:
    node = fresh_luong  # its gateway made __luong_webhooks at start
    assert wire_produce(node, "__luong_webhooks") == INVALID_TOPIC_EXCEPTION
    assert wire_produce(node, "__consumer_offsets") == INVALID_TOPIC_EXCEPTION
    producer = Producer({"bootstrap.servers": node.bootstrap, "message.timeout.ms": 3000})
    errors: list[Any] = []
    producer.produce("__transaction_state", b"x", on_delivery=lambda e, _: errors.append(e))
    producer.flush(10)
    assert errors[0] is not None and errors[0].code() == KafkaError.TOPIC_EXCEPTION
    admin = AdminClient({"bootstrap.servers": node.bootstrap})
    for future in [
        admin.delete_topics(["__consumer_offsets"])["__consumer_offsets"],
        admin.create_partitions([NewPartitions("__transaction_state", 4)])["__transaction_state"],
        *admin.incremental_alter_configs([_set_retention("__consumer_offsets")]).values(),
    ]:
        with pytest.raises(KafkaException) as caught:
            future.result(10)
        assert caught.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    with pytest.raises(KafkaException) as caught:
        doomed = TopicPartition("__consumer_offsets", 0, 0)
        admin.delete_records([doomed])[doomed].result(10)
    assert caught.value.args[0].code() == KafkaError.TOPIC_EXCEPTION
    node.stop()
    node.start()  # the next start is unharmed: nothing was written


def test_luongs_internal_topics_are_invisible_and_unreadable(luong: LuongProcess) -> None:
    topics = AdminClient({"bootstrap.servers": luong.bootstrap}).list_topics(timeout=10).topics
    assert "__consumer_offsets" in topics  # Kafka's internal topics stay visible, as in Kafka
    assert not [name for name in topics if name.startswith("__luong")]
    with WireClient("127.0.0.1", luong.port) as wire:
        metadata = wire.call(3, 12, {"topics": [{"name": "__luong_webhooks", "topic_id": None}]})
        fetched = wire.call(1, 12, fetch_body("__luong_webhooks"))
    assert metadata.topics[0].error_code == TOPIC_AUTHORIZATION_FAILED
    assert fetched.responses[0].partitions[0].error_code == TOPIC_AUTHORIZATION_FAILED
    assert fetched.responses[0].partitions[0].records in (None, b"")


def test_records_that_do_not_decode_are_skipped_at_start(tmp_path: Path) -> None:
    """Records a client wrote before internal topics were guarded (or a bug wrote)
    cost their own state only: the node starts and says what it skipped."""
    with LuongProcess(tmp_path / "data") as node:
        http_call(node.http_url, "POST", "/admin/topics", {"name": "watched"}, V2)
        subscription = {"topic": "watched", "url": "http://127.0.0.1:9/x"}
        status, kept = http_call(node.http_url, "POST", "/webhooks", subscription, V2)
        assert status == 201, kept
        consumer = Consumer({"bootstrap.servers": node.bootstrap, "group.id": "survivor"})
        consumer.commit(offsets=[TopicPartition("__consumer_offsets", 0, 1)], asynchronous=False)
        consumer.close()
    asyncio.run(_write_garbage(tmp_path / "data"))
    with LuongProcess(tmp_path / "data") as node:
        hooks = http_call(node.http_url, "GET", "/webhooks")[1]
        assert [h["id"] for h in hooks] == [kept["id"]]
        group = http_call(node.http_url, "GET", "/admin/groups/survivor")[1]
        assert group["offsets"][0]["committed"] == 1
        assert node.log_text().count("skipped the record") >= 3
    assert json.loads(json.dumps(hooks))  # the listing was valid JSON throughout


def _set_retention(topic: str) -> ConfigResource:
    entry = ConfigEntry("retention.ms", "1", incremental_operation=AlterConfigOpType.SET)
    return ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[entry])


async def _write_garbage(data_dir: Path) -> None:
    """Append undecodable records to every internal topic, past every rule (offline)."""
    storage = LogStorage(str(data_dir))
    garbage = [Record(0, 0, b"\x00\x07garbage", b"\xff" * 9), Record(1, 0, b"x", b"{not json")]
    for topic in ("__luong_webhooks", "__consumer_offsets", "__transaction_state"):
        await storage.append(Partition(topic, 0), build_batch(garbage))
    await storage.close()
