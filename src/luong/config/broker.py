"""Broker settings by their Kafka names (`luong serve --set NAME=VALUE`, `--config FILE`).

`log.*`-style settings are the broker-level defaults of topic settings, as in
Kafka (`log.retention.ms` → `retention.ms` of every topic that does not override
it); `BrokerConfig.topic_defaults` holds them under the topic names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from luong.config.definitions import (
    INT32_MAX,
    ConfigDef,
    boolean,
    defs,
    http_tokens,
    int_in,
    parse_setting,
)
from luong.config.topic import TOPIC_CONFIGS

__all__ = ["BROKER_CONFIGS", "TOPIC_DEFAULT_NAMES", "BrokerConfig"]

# broker setting → the topic setting it is the default of
TOPIC_DEFAULT_NAMES: Mapping[str, str] = {
    "log.cleanup.policy": "cleanup.policy",
    "log.retention.ms": "retention.ms",
    "log.retention.bytes": "retention.bytes",
    "log.segment.bytes": "segment.bytes",
    "log.roll.ms": "segment.ms",
    "log.index.size.max.bytes": "segment.index.bytes",
    "log.index.interval.bytes": "index.interval.bytes",
    "message.max.bytes": "max.message.bytes",
    "log.message.timestamp.type": "message.timestamp.type",
    "log.cleaner.min.compaction.lag.ms": "min.compaction.lag.ms",
    "log.cleaner.delete.retention.ms": "delete.retention.ms",
    "log.segment.delete.delay.ms": "file.delete.delay.ms",
    "luong.log.flush.policy": "luong.flush.policy",
    "compression.type": "compression.type",
}


def _topic_default(broker_name: str, topic_name: str) -> ConfigDef:
    topic = TOPIC_CONFIGS[topic_name]
    return ConfigDef(
        broker_name,
        topic.default,
        topic.parse,
        topic.allowed,
        f"default of the topic setting {topic_name}",
    )


BROKER_CONFIGS: Mapping[str, ConfigDef] = defs(
    ConfigDef("node.id", "0", int_in(0, INT32_MAX), "[0, 2^31-1]", "this broker's id"),
    ConfigDef(
        "num.partitions",
        "1",
        int_in(1, 100_000),
        "[1, 100000]",
        "partitions of an automatically created topic",
    ),
    ConfigDef(
        "default.replication.factor",
        "1",
        int_in(1, 1),
        "1 (one node)",
        "replication factor of an automatically created topic",
    ),
    ConfigDef(
        "auto.create.topics.enable",
        "true",
        boolean,
        "true or false",
        "create a topic when a Metadata request names an unknown one",
    ),
    ConfigDef("delete.topic.enable", "true", boolean, "true or false", "allow DeleteTopics"),
    ConfigDef(
        "luong.http.tokens",
        "",
        http_tokens,
        "TOKEN:ro|rw[:TOPIC_PREFIX],... (empty: no tokens, loopback only)",
        "bearer tokens of the HTTP gateway: read-only or read-write, per topic name prefix",
    ),
    ConfigDef(
        "socket.request.max.bytes",
        "104857600",
        int_in(1, INT32_MAX),
        "[1, 2^31-1]",
        "largest request frame a client may send",
    ),
    ConfigDef(
        "group.initial.rebalance.delay.ms",
        "3000",
        int_in(0, INT32_MAX),
        "[0, 2^31-1]",
        "how long a new group waits for more members before its first rebalance",
    ),
    ConfigDef(
        "group.min.session.timeout.ms",
        "6000",
        int_in(0, INT32_MAX),
        "[0, 2^31-1]",
        "the shortest session.timeout.ms a member may ask for (INVALID_SESSION_TIMEOUT below)",
    ),
    ConfigDef(
        "group.max.session.timeout.ms",
        "1800000",
        int_in(0, INT32_MAX),
        "[0, 2^31-1]",
        "the longest session.timeout.ms a member may ask for (INVALID_SESSION_TIMEOUT above)",
    ),
    ConfigDef(
        "group.max.size",
        "2147483647",
        int_in(1, INT32_MAX),
        "[1, 2^31-1]",
        "the most members a consumer group may have (GROUP_MAX_SIZE_REACHED beyond)",
    ),
    ConfigDef(
        "offsets.retention.minutes",
        "10080",
        int_in(1, INT32_MAX),
        "[1, 2^31-1]",
        "committed offsets of a group without commits for this long are deleted",
    ),
    ConfigDef(
        "producer.id.expiration.ms",
        "86400000",
        int_in(1, INT32_MAX),
        "[1, 2^31-1]",
        "an idempotent producer idle for this long is forgotten by the partitions it wrote",
    ),
    ConfigDef(
        "transactional.id.expiration.ms",
        "604800000",
        int_in(1, INT32_MAX),
        "[1, 2^31-1]",
        "a transactional id without a transaction for this long is forgotten",
    ),
    ConfigDef(
        "transaction.max.timeout.ms",
        "900000",
        int_in(1, INT32_MAX),
        "[1, 2^31-1]",
        "the longest transaction.timeout.ms a producer may ask for",
    ),
    ConfigDef(
        "transaction.abort.timed.out.transaction.cleanup.interval.ms",
        "10000",
        int_in(1, INT32_MAX),
        "[1, 2^31-1]",
        "how often transactions past their timeout are looked for and aborted",
    ),
    ConfigDef(
        "log.retention.check.interval.ms",
        "300000",
        int_in(1, INT32_MAX),
        "[1, 2^31-1]",
        "how often retention, age-based rolls and compaction run",
    ),
    ConfigDef(
        "log.flush.offset.checkpoint.interval.ms",
        "60000",
        int_in(0, INT32_MAX),
        "[0, 2^31-1]",
        "how often recovery points are checkpointed",
    ),
    *(_topic_default(broker, topic) for broker, topic in TOPIC_DEFAULT_NAMES.items()),
)


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """Validated broker settings; `given` holds what was set explicitly (as text)."""

    given: Mapping[str, str]
    values: Mapping[str, Any]

    @classmethod
    def from_settings(cls, settings: Mapping[str, str] | None = None) -> BrokerConfig:
        """Validate settings over the defaults; InvalidConfigError names a bad or unknown one."""
        given = {name: text.strip() for name, text in (settings or {}).items()}
        values = {
            name: parse_setting(BROKER_CONFIGS, name, text, "broker")
            for name, text in given.items()
        }
        for name, definition in BROKER_CONFIGS.items():
            values.setdefault(name, definition.parse(definition.default))
        return cls(given, values)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def topic_defaults(self) -> dict[str, str]:
        """The topic-level defaults this broker sets, under topic setting names."""
        return {
            TOPIC_DEFAULT_NAMES[n]: text
            for n, text in self.given.items()
            if n in TOPIC_DEFAULT_NAMES
        }
