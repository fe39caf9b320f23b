"""Admin APIs against a real luong serve: DescribeConfigs, AlterConfigs,
IncrementalAlterConfigs, CreatePartitions, DeleteRecords, DescribeCluster and
OffsetForLeaderEpoch, driven by confluent-kafka, kafka-python, aiokafka and, where no
client exposes an API or a version, by the raw wire client."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from aiokafka.admin import NewPartitions as AioNewPartitions
from aiokafka.admin.config_resource import ConfigResource as AioConfigResource
from aiokafka.admin.config_resource import ConfigResourceType as AioResourceType
from aiokafka.errors import OffsetOutOfRangeError as AioOffsetOutOfRangeError
from aiokafka.structs import TopicPartition as AioTopicPartition
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
)
from kafka import KafkaAdminClient
from kafka import TopicPartition as KpTopicPartition
from kafka.admin import ConfigResource as KpConfigResource
from kafka.admin import ConfigResourceType as KpResourceType
from kafka.errors import InvalidPartitionsError as KpInvalidPartitionsError
from kafka.errors import OffsetOutOfRangeError as KpOffsetOutOfRangeError

from luong.testing.node import LuongProcess
from luong.testing.wire import WireClient

TIMEOUT_S = 15
DEFAULT_RETENTION_MS = "604800000"


def topic_name() -> str:
    return f"admin-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def admin(luong: LuongProcess) -> Iterator[AdminClient]:
    yield AdminClient({"bootstrap.servers": luong.bootstrap})


def create(admin: AdminClient, partitions: int = 1, **config: str) -> str:
    topic = topic_name()
    admin.create_topics([NewTopic(topic, partitions, 1, config=config)])[topic].result(TIMEOUT_S)
    return topic


def describe(admin: AdminClient, topic: str) -> dict[str, Any]:
    resource = ConfigResource("topic", topic)
    return dict(admin.describe_configs([resource])[resource].result(TIMEOUT_S))


def incremental(admin: AdminClient, topic: str, *ops: ConfigEntry, **options: Any) -> None:
    resource = ConfigResource("topic", topic, incremental_configs=list(ops))
    admin.incremental_alter_configs([resource], **options)[resource].result(TIMEOUT_S)


def entry(name: str, value: str | None, op: AlterConfigOpType) -> ConfigEntry:
    return ConfigEntry(name, value, incremental_operation=op)


def produce(node: LuongProcess, topic: str, partition: int, count: int) -> None:
    producer = Producer({"bootstrap.servers": node.bootstrap, "acks": "all"})
    for i in range(count):
        producer.produce(topic, value=b"%d" % i, partition=partition)
    assert producer.flush(TIMEOUT_S) == 0


def consume(node: LuongProcess, topic: str, partition: int, offset: int, count: int) -> list[Any]:
    """`count` messages from `offset`, or the first error the consumer reports."""
    consumer = Consumer(
        {
            "bootstrap.servers": node.bootstrap,
            "group.id": "unused",
            "enable.auto.commit": False,
            "auto.offset.reset": "error",
        }
    )
    consumer.assign([TopicPartition(topic, partition, offset)])
    got: list[Any] = []
    deadline = time.monotonic() + TIMEOUT_S
    while len(got) < count and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None:
            got.append(message)
            if message.error() is not None:
                break
    consumer.close()
    return got


def watermarks(node: LuongProcess, topic: str, partition: int) -> tuple[int, int]:
    consumer = Consumer({"bootstrap.servers": node.bootstrap, "group.id": "unused"})
    low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
    consumer.close()
    return low, high


# -- DescribeConfigs -------------------------------------------------------------------


def test_describe_topic_configs_with_sources(admin: AdminClient) -> None:
    topic = create(admin, **{"retention.ms": "3600000"})
    configs = describe(admin, topic)
    retention = configs["retention.ms"]
    topic_config = ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert (retention.value, retention.source) == ("3600000", topic_config)
    assert not retention.is_default and not retention.is_read_only
    segment = configs["segment.bytes"]
    assert (segment.value, segment.source) == ("1073741824", ConfigSource.DEFAULT_CONFIG.value)
    assert segment.is_default
    assert {"cleanup.policy", "max.message.bytes", "message.timestamp.type"} <= set(configs)


def test_describe_broker_configs(luong: LuongProcess, admin: AdminClient) -> None:
    resource = ConfigResource("broker", "0")
    configs = admin.describe_configs([resource])[resource].result(TIMEOUT_S)
    assert configs["node.id"].value == "0"
    assert configs["node.id"].source == ConfigSource.DEFAULT_CONFIG.value
    # the fixture starts the node with --set num.partitions=3
    assert configs["num.partitions"].value == "3"
    assert configs["num.partitions"].source == ConfigSource.STATIC_BROKER_CONFIG.value
    listeners = {"listeners", "advertised.listeners"}  # reported as Kafka 3.x does
    assert all(c.is_read_only for name, c in configs.items() if name not in listeners)
    assert configs["advertised.listeners"].value == f"PLAINTEXT://{luong.bootstrap}"


def test_describe_configs_of_an_unknown_topic(admin: AdminClient) -> None:
    missing = ConfigResource("topic", topic_name())
    with pytest.raises(KafkaException) as caught:
        admin.describe_configs([missing])[missing].result(TIMEOUT_S)
    assert caught.value.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART


def test_kafka_python_describe_configs_filters_keys_and_lists_synonyms(
    luong: LuongProcess, admin: AdminClient
) -> None:
    topic = create(admin, **{"retention.ms": "3600000"})
    client = KafkaAdminClient(bootstrap_servers=luong.bootstrap)
    try:
        wanted = {"retention.ms": None, "cleanup.policy": None}
        resource = KpConfigResource(KpResourceType.TOPIC, topic, configs=wanted)
        found = client.describe_configs([resource], include_synonyms=True, config_filter="all")
    finally:
        client.close()
    configs = found["topic"][topic]
    assert set(configs) == {"retention.ms", "cleanup.policy"}
    assert configs["retention.ms"]["value"] == "3600000"
    assert [(s["name"], s["value"]) for s in configs["retention.ms"]["synonyms"]] == [
        ("retention.ms", "3600000"),
        ("log.retention.ms", DEFAULT_RETENTION_MS),
    ]
    assert configs["cleanup.policy"]["config_type"] == "LIST"


def test_broker_level_topic_defaults_are_static_broker_config(tmp_path: Path) -> None:
    settings = {"log.retention.ms": "7200000"}
    with LuongProcess(tmp_path / "data", settings=settings) as node:
        admin = AdminClient({"bootstrap.servers": node.bootstrap})
        topic = create(admin)
        retention = describe(admin, topic)["retention.ms"]
        assert (retention.value, retention.source) == (
            "7200000",
            ConfigSource.STATIC_BROKER_CONFIG.value,
        )
        incremental(admin, topic, entry("retention.ms", "1000", AlterConfigOpType.SET))
        incremental(admin, topic, entry("retention.ms", None, AlterConfigOpType.DELETE))
        assert describe(admin, topic)["retention.ms"].value == "7200000"


# -- AlterConfigs / IncrementalAlterConfigs ------------------------------------------------


def test_incremental_alter_set_delete_append_subtract(admin: AdminClient) -> None:
    topic = create(admin, **{"retention.ms": "3600000"})
    incremental(
        admin,
        topic,
        entry("max.message.bytes", "2048", AlterConfigOpType.SET),
        entry("retention.ms", None, AlterConfigOpType.DELETE),
        entry("cleanup.policy", "compact", AlterConfigOpType.APPEND),
    )
    configs = describe(admin, topic)
    assert configs["max.message.bytes"].value == "2048"
    assert configs["max.message.bytes"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert (configs["retention.ms"].value, configs["retention.ms"].is_default) == (
        DEFAULT_RETENTION_MS,
        True,
    )
    assert configs["cleanup.policy"].value == "delete,compact"
    incremental(admin, topic, entry("cleanup.policy", "delete", AlterConfigOpType.SUBTRACT))
    assert describe(admin, topic)["cleanup.policy"].value == "compact"


def test_incremental_alter_is_all_or_nothing_and_validate_only(admin: AdminClient) -> None:
    topic = create(admin)
    with pytest.raises(KafkaException) as caught:
        incremental(
            admin,
            topic,
            entry("max.message.bytes", "2048", AlterConfigOpType.SET),
            entry("retention.ms", "soon", AlterConfigOpType.SET),
        )
    error = caught.value.args[0]
    assert error.code() == KafkaError.INVALID_CONFIG and "retention.ms" in error.str()
    with pytest.raises(KafkaException) as caught:
        incremental(admin, topic, entry("segment.bytes", "2048", AlterConfigOpType.APPEND))
    assert caught.value.args[0].code() == KafkaError.INVALID_CONFIG
    incremental(
        admin, topic, entry("max.message.bytes", "4096", AlterConfigOpType.SET), validate_only=True
    )
    configs = describe(admin, topic)
    assert configs["max.message.bytes"].is_default and configs["retention.ms"].is_default


@pytest.mark.filterwarnings("ignore:alter_configs has been deprecated:DeprecationWarning")
def test_legacy_alter_configs_replaces_the_whole_override_set(admin: AdminClient) -> None:
    topic = create(admin, **{"retention.ms": "3600000", "segment.ms": "60000"})
    resource = ConfigResource("topic", topic, set_config={"max.message.bytes": "4096"})
    admin.alter_configs([resource])[resource].result(TIMEOUT_S)
    configs = describe(admin, topic)
    assert configs["max.message.bytes"].value == "4096"
    assert configs["retention.ms"].is_default and configs["segment.ms"].is_default
    bad = ConfigResource("topic", topic, set_config={"segment.bytes": "1"})
    with pytest.raises(KafkaException) as caught:
        admin.alter_configs([bad])[bad].result(TIMEOUT_S)
    assert caught.value.args[0].code() == KafkaError.INVALID_CONFIG
    assert describe(admin, topic)["max.message.bytes"].value == "4096"


def test_broker_settings_cannot_be_altered(admin: AdminClient) -> None:
    resource = ConfigResource(
        "broker",
        "0",
        incremental_configs=[entry("num.partitions", "5", AlterConfigOpType.SET)],
    )
    with pytest.raises(KafkaException) as caught:
        admin.incremental_alter_configs([resource])[resource].result(TIMEOUT_S)
    error = caught.value.args[0]
    assert error.code() == KafkaError.INVALID_REQUEST and "static" in error.str()


def test_kafka_python_alter_configs(luong: LuongProcess, admin: AdminClient) -> None:
    topic = create(admin, **{"segment.ms": "60000"})
    client = KafkaAdminClient(bootstrap_servers=luong.bootstrap)
    try:
        incremental_ops = {"cleanup.policy": ("APPEND", "compact")}
        resource = KpConfigResource(KpResourceType.TOPIC, topic, configs=incremental_ops)
        assert client.alter_configs([resource]) == {"topic": {topic: "OK"}}
        resource = KpConfigResource(KpResourceType.TOPIC, topic, configs={"retention.ms": "x"})
        result = client.alter_configs([resource])["topic"][topic]
        assert "InvalidConfigurationError" in result and "retention.ms" in result
        resource = KpConfigResource(KpResourceType.TOPIC, topic, configs={"retention.ms": "5000"})
        assert client.alter_configs([resource], incremental=False) == {"topic": {topic: "OK"}}
        found = client.describe_configs([KpConfigResource(KpResourceType.TOPIC, topic)])
    finally:
        client.close()
    # kafka-python fills in the other modified settings for a legacy (full) alter
    modified = found["topic"][topic]
    assert {name: config["value"] for name, config in modified.items()} == {
        "retention.ms": "5000",
        "segment.ms": "60000",
        "cleanup.policy": "delete,compact",
    }


def test_aiokafka_describe_and_alter_configs(luong: LuongProcess, admin: AdminClient) -> None:
    topic = create(admin, **{"segment.ms": "60000"})

    async def main() -> tuple[list[Any], list[Any]]:
        client = AIOKafkaAdminClient(bootstrap_servers=luong.bootstrap)
        await client.start()
        try:
            resource = AioConfigResource(AioResourceType.TOPIC, topic, {"retention.ms": "5000"})
            altered = await client.alter_configs([resource])
            described = await client.describe_configs(
                [AioConfigResource(AioResourceType.TOPIC, topic)]
            )
            return altered, described
        finally:
            await client.close()

    altered, described = asyncio.run(main())
    assert altered[0].resources[0][0] == 0
    entries = {e[0]: (e[1], e[3]) for e in described[0].resources[0][4]}
    assert entries["retention.ms"] == ("5000", ConfigSource.DYNAMIC_TOPIC_CONFIG.value)
    assert entries["segment.ms"] == ("604800000", ConfigSource.DEFAULT_CONFIG.value)


# -- CreatePartitions ------------------------------------------------------------------


def test_create_partitions_then_produce_to_a_new_partition(
    luong: LuongProcess, admin: AdminClient
) -> None:
    topic = create(admin, partitions=2)
    admin.create_partitions([NewPartitions(topic, 4)], validate_only=True)[topic].result(TIMEOUT_S)
    assert len(admin.list_topics(topic, timeout=10).topics[topic].partitions) == 2
    admin.create_partitions([NewPartitions(topic, 4)])[topic].result(TIMEOUT_S)
    assert len(admin.list_topics(topic, timeout=10).topics[topic].partitions) == 4
    produce(luong, topic, 3, 2)
    assert [m.value() for m in consume(luong, topic, 3, 0, 2)] == [b"0", b"1"]
    for count, code in [(4, KafkaError.INVALID_PARTITIONS), (3, KafkaError.INVALID_PARTITIONS)]:
        with pytest.raises(KafkaException) as caught:
            admin.create_partitions([NewPartitions(topic, count)])[topic].result(TIMEOUT_S)
        assert caught.value.args[0].code() == code
    elsewhere = NewPartitions(topic, 5, replica_assignment=[[1]])
    with pytest.raises(KafkaException) as caught:
        admin.create_partitions([elsewhere])[topic].result(TIMEOUT_S)
    assert caught.value.args[0].code() == KafkaError.INVALID_REPLICA_ASSIGNMENT
    here = NewPartitions(topic, 5, replica_assignment=[[0]])
    admin.create_partitions([here])[topic].result(TIMEOUT_S)
    assert len(admin.list_topics(topic, timeout=10).topics[topic].partitions) == 5


def test_kafka_python_and_aiokafka_create_partitions(
    luong: LuongProcess, admin: AdminClient
) -> None:
    topic = create(admin, partitions=1)
    client = KafkaAdminClient(bootstrap_servers=luong.bootstrap)
    try:
        client.create_partitions({topic: 2})
        with pytest.raises(KpInvalidPartitionsError):
            client.create_partitions({topic: 2})
    finally:
        client.close()

    async def main() -> Any:
        aio = AIOKafkaAdminClient(bootstrap_servers=luong.bootstrap)
        await aio.start()
        try:
            return await aio.create_partitions({topic: AioNewPartitions(3)})
        finally:
            await aio.close()

    assert asyncio.run(main()).topic_errors[0][1] == 0
    assert len(admin.list_topics(topic, timeout=10).topics[topic].partitions) == 3


# -- DeleteRecords -----------------------------------------------------------------------


def test_delete_records_moves_the_log_start(luong: LuongProcess, admin: AdminClient) -> None:
    topic = create(admin, partitions=2)
    produce(luong, topic, 0, 10)
    deleted = admin.delete_records([TopicPartition(topic, 0, 4)])
    assert deleted[TopicPartition(topic, 0, 4)].result(TIMEOUT_S).low_watermark == 4
    assert watermarks(luong, topic, 0) == (4, 10)
    assert [m.value() for m in consume(luong, topic, 0, 4, 6)] == [b"%d" % i for i in range(4, 10)]
    below = consume(luong, topic, 0, 2, 1)
    assert below and below[0].error() is not None
    assert below[0].error().code() == KafkaError._AUTO_OFFSET_RESET
    again = admin.delete_records([TopicPartition(topic, 0, 1)])
    assert again[TopicPartition(topic, 0, 1)].result(TIMEOUT_S).low_watermark == 4
    everything = admin.delete_records([TopicPartition(topic, 0, -1)])
    assert everything[TopicPartition(topic, 0, -1)].result(TIMEOUT_S).low_watermark == 10
    for partition, offset in [(0, 11), (1, 1)]:
        wanted = TopicPartition(topic, partition, offset)
        with pytest.raises(KafkaException) as caught:
            admin.delete_records([wanted])[wanted].result(TIMEOUT_S)
        assert caught.value.args[0].code() == KafkaError.OFFSET_OUT_OF_RANGE
    # clients refuse unknown partitions themselves (no leader): ask on the wire
    unknown = [(topic, 7), (topic_name(), 0)]
    request = {
        "topics": [
            {"name": name, "partitions": [{"partition_index": p, "offset": 0}]}
            for name, p in unknown
        ],
        "timeout": 1000,
    }
    with WireClient("127.0.0.1", luong.port) as wire:
        response = wire.call(21, 2, request)
    got = [(p.error_code.value, p.low_watermark) for t in response.topics for p in t.partitions]
    assert got == [(3, -1), (3, -1)]  # UNKNOWN_TOPIC_OR_PARTITION


def test_kafka_python_and_aiokafka_delete_records(luong: LuongProcess, admin: AdminClient) -> None:
    topic = create(admin)
    produce(luong, topic, 0, 5)
    client = KafkaAdminClient(bootstrap_servers=luong.bootstrap)
    try:
        result = client.delete_records({KpTopicPartition(topic, 0): 2})
        assert result[KpTopicPartition(topic, 0)]["low_watermark"] == 2
        with pytest.raises(KpOffsetOutOfRangeError):
            client.delete_records({KpTopicPartition(topic, 0): 99})
    finally:
        client.close()

    async def main() -> dict[AioTopicPartition, int]:
        aio = AIOKafkaAdminClient(bootstrap_servers=luong.bootstrap)
        await aio.start()
        try:
            with pytest.raises(AioOffsetOutOfRangeError):
                await aio.delete_records({AioTopicPartition(topic, 0): RecordsToDelete(6)})
            return await aio.delete_records({AioTopicPartition(topic, 0): RecordsToDelete(3)})
        finally:
            await aio.close()

    assert asyncio.run(main()) == {AioTopicPartition(topic, 0): 3}
    assert watermarks(luong, topic, 0) == (3, 5)


# -- DescribeCluster ---------------------------------------------------------------------


def test_describe_cluster(luong: LuongProcess, admin: AdminClient) -> None:
    cluster = admin.describe_cluster().result(TIMEOUT_S)
    assert [(n.id, n.host, n.port) for n in cluster.nodes] == [(0, "127.0.0.1", luong.port)]
    assert cluster.controller.id == 0 and cluster.cluster_id
    client = KafkaAdminClient(bootstrap_servers=luong.bootstrap)
    try:
        described = client.describe_cluster()
    finally:
        client.close()
    assert described["cluster_id"] == cluster.cluster_id
    assert described["controller_id"] == 0
    assert [b["port"] for b in described["brokers"]] == [luong.port]
    assert {"DESCRIBE", "ALTER_CONFIGS", "IDEMPOTENT_WRITE"} <= set(
        described["authorized_operations"]
    )

    async def main() -> dict[str, Any]:
        aio = AIOKafkaAdminClient(bootstrap_servers=luong.bootstrap)
        await aio.start()
        try:
            return await aio.describe_cluster()
        finally:
            await aio.close()

    assert asyncio.run(main())["cluster_id"] == cluster.cluster_id


def test_authorized_operations_when_asked(luong: LuongProcess, admin: AdminClient) -> None:
    """confluent-kafka asks Metadata, DescribeCluster and DescribeGroups for them: every
    operation of the resource type (no ACLs yet), read-only ones on internal topics."""
    from confluent_kafka import TopicCollection
    from confluent_kafka.admin import AclOperation

    topic = create(admin)
    topics = admin.describe_topics(
        TopicCollection([topic, "__consumer_offsets"]), include_authorized_operations=True
    )
    described = {name: future.result(TIMEOUT_S) for name, future in topics.items()}
    assert set(described[topic].authorized_operations) == {
        AclOperation.READ,
        AclOperation.WRITE,
        AclOperation.CREATE,
        AclOperation.DELETE,
        AclOperation.ALTER,
        AclOperation.DESCRIBE,
        AclOperation.DESCRIBE_CONFIGS,
        AclOperation.ALTER_CONFIGS,
    }
    assert set(described["__consumer_offsets"].authorized_operations) == {
        AclOperation.READ,
        AclOperation.DESCRIBE,
        AclOperation.DESCRIBE_CONFIGS,
    }
    cluster = admin.describe_cluster(include_authorized_operations=True).result(TIMEOUT_S)
    assert AclOperation.IDEMPOTENT_WRITE in cluster.authorized_operations
    consumer = Consumer({"bootstrap.servers": luong.bootstrap, "group.id": "ops-group"})
    consumer.commit(offsets=[TopicPartition(topic, 0, 1)], asynchronous=False)
    consumer.close()
    [group] = admin.describe_consumer_groups(
        ["ops-group"], include_authorized_operations=True
    ).values()
    assert set(group.result(TIMEOUT_S).authorized_operations) == {
        AclOperation.READ,
        AclOperation.DELETE,
        AclOperation.DESCRIBE,
    }
    with WireClient("127.0.0.1", luong.port) as wire:  # not asked: Kafka's "not asked"
        plain = wire.call(3, 12, {"topics": [{"name": topic, "topic_id": None}]})
    assert plain.topics[0].topic_authorized_operations == -(2**31)


def test_describe_cluster_endpoint_types(luong: LuongProcess) -> None:
    with WireClient("127.0.0.1", luong.port) as wire:
        plain = wire.call(60, 0, {"include_cluster_authorized_operations": False})
        controllers = wire.call(60, 1, {"endpoint_type": 2})
        unknown = wire.call(60, 2, {"endpoint_type": 9})
    assert plain.error_code.value == 0 and plain.cluster_authorized_operations == -(2**31)
    assert controllers.error_code.value == 114  # MISMATCHED_ENDPOINT_TYPE
    assert unknown.error_code.value == 115  # UNSUPPORTED_ENDPOINT_TYPE


# -- OffsetForLeaderEpoch and versions no client sends ------------------------------------


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_librdkafka_validates_positions_with_offset_for_leader_epoch(
    luong: LuongProcess, admin: AdminClient
) -> None:
    topic = create(admin)
    produce(luong, topic, 0, 5)
    lines = _Lines()
    logger = logging.getLogger(f"librdkafka.{topic}")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(lines)
    consumer = Consumer(
        {
            "bootstrap.servers": luong.bootstrap,
            "group.id": "unused",
            "enable.auto.commit": False,
            "debug": "protocol",
            "logger": logger,
        }
    )
    consumer.assign([TopicPartition(topic, 0, 2, leader_epoch=0)])
    values = []
    deadline = time.monotonic() + TIMEOUT_S
    while len(values) < 3 and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None:
            assert message.error() is None, message.error()
            values.append(message.value())
    consumer.close()
    assert values == [b"2", b"3", b"4"]
    assert any("Received OffsetForLeaderEpochResponse" in line for line in lines.lines)


@pytest.mark.parametrize("version", [2, 3, 4])
def test_offset_for_leader_epoch(luong: LuongProcess, admin: AdminClient, version: int) -> None:
    topic = create(admin)
    produce(luong, topic, 0, 3)
    asked = [(0, -1, 0), (0, 0, 0), (0, -1, 5), (0, 3, 0), (0, -2, 0), (9, -1, 0)]
    request = {
        "replica_id": -1,
        "topics": [
            {
                "topic": topic,
                "partitions": [
                    {"partition": p, "current_leader_epoch": current, "leader_epoch": epoch}
                    for p, current, epoch in asked
                ],
            }
        ],
    }
    with WireClient("127.0.0.1", luong.port) as wire:
        response = wire.call(23, version, request)
    got = [
        (p.error_code.value, p.leader_epoch, p.end_offset) for p in response.topics[0].partitions
    ]
    assert got == [
        (0, 0, 3),  # epoch 0 is the current one: it ends at the log end offset
        (0, 0, 3),
        (0, -1, -1),  # an epoch no leader ever had
        (75, -1, -1),  # UNKNOWN_LEADER_EPOCH: the client is ahead of the leader
        (74, -1, -1),  # FENCED_LEADER_EPOCH: the client is behind
        (3, -1, -1),  # UNKNOWN_TOPIC_OR_PARTITION
    ]


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_describe_configs_every_version(
    luong: LuongProcess, admin: AdminClient, version: int
) -> None:
    topic = create(admin, **{"retention.ms": "3600000"})
    request = {
        "resources": [
            {"resource_type": 2, "resource_name": topic, "configuration_keys": ["retention.ms"]},
            {"resource_type": 4, "resource_name": "0", "configuration_keys": ["node.id"]},
            {"resource_type": 8, "resource_name": "0", "configuration_keys": None},
            {"resource_type": 4, "resource_name": "7", "configuration_keys": None},
        ],
        "include_synonyms": True,
        "include_documentation": True,
    }
    with WireClient("127.0.0.1", luong.port) as wire:
        response = wire.call(32, version, request)
    topic_result, broker_result, logger_result, other_node_result = response.results
    (retention,) = topic_result.configs
    assert (retention.name, retention.value, retention.config_source) == (
        "retention.ms",
        "3600000",
        1,
    )
    assert [s.source for s in retention.synonyms] == [1, 5]
    (node_id,) = broker_result.configs
    assert (node_id.name, node_id.read_only) == ("node.id", True)
    assert logger_result.error_code.value == 42  # INVALID_REQUEST
    assert other_node_result.error_code.value == 42
    if version >= 3:
        assert retention.config_type == 5  # LONG
        assert retention.documentation and "older" in retention.documentation


@pytest.mark.parametrize(("api_key", "version"), [(33, 0), (44, 0), (37, 0), (21, 0)])
def test_oldest_versions_of_alter_and_grow(
    luong: LuongProcess, admin: AdminClient, api_key: int, version: int
) -> None:
    topic = create(admin)
    produce(luong, topic, 0, 2)
    bodies: dict[int, dict[str, Any]] = {
        33: {"resources": [_resource(topic, [{"name": "retention.ms", "value": "9000"}])]},
        44: {
            "resources": [
                _resource(topic, [{"name": "retention.ms", "config_operation": 0, "value": "9000"}])
            ]
        },
        37: {"topics": [{"name": topic, "count": 2, "assignments": None}], "timeout": 1000},
        21: {
            "topics": [{"name": topic, "partitions": [{"partition_index": 0, "offset": 1}]}],
            "timeout": 1000,
        },
    }
    with WireClient("127.0.0.1", luong.port) as wire:
        response = wire.call(api_key, version, bodies[api_key])
    if api_key in (33, 44):
        assert response.responses[0].error_code.value == 0
        assert describe(admin, topic)["retention.ms"].value == "9000"
    elif api_key == 37:
        assert response.results[0].error_code.value == 0
        assert len(admin.list_topics(topic, timeout=10).topics[topic].partitions) == 2
    else:
        assert response.topics[0].partitions[0].low_watermark == 1
        assert watermarks(luong, topic, 0) == (1, 2)


def _resource(topic: str, configs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resource_type": 2, "resource_name": topic, "configs": configs}
