"""Topic settings by their Kafka names: definitions, defaults, validation.

A topic's configuration is the defaults below overlaid with the overrides given
at creation or by an alter; `TopicConfig.from_overrides` validates every value and
refuses an unknown name or a bad value with an `InvalidConfigError` that names the
key and what is allowed. Overrides are stored as strings, exactly as Kafka's
DescribeConfigs reports them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from luong.config.definitions import (
    INT32_MAX,
    INT64_MAX,
    ConfigDef,
    cleanup_policy,
    defs,
    int_in,
    one_of,
    parse_setting,
)
from luong.errors import InvalidConfigError

__all__ = ["COMPRESSION_TYPES", "TOPIC_CONFIGS", "FlushPolicy", "TopicConfig", "parse_value"]


class FlushPolicy(StrEnum):
    """When an appended batch is made durable (`luong.flush.policy`).

    FSYNC: every append fsyncs before it returns.
    GROUP: appends wait for a shared fsync that covers all of them (group commit).
    OS: the operating system flushes when it likes; fsync only at segment roll and close.
    """

    FSYNC = "fsync"
    GROUP = "group"
    OS = "os"


# Kafka's values of compression.type: "producer" keeps what the producer chose
COMPRESSION_TYPES = ("producer", "uncompressed", "gzip", "snappy", "lz4", "zstd")

TOPIC_CONFIGS: Mapping[str, ConfigDef] = defs(
    ConfigDef(
        "cleanup.policy",
        "delete",
        cleanup_policy,
        "a list of delete, compact",
        "delete old segments, keep the latest record per key, or both",
    ),
    ConfigDef(
        "retention.ms",
        "604800000",
        int_in(-1, INT64_MAX),
        "-1 (forever) or [0, 2^63-1]",
        "delete segments whose newest record is older than this",
    ),
    ConfigDef(
        "retention.bytes",
        "-1",
        int_in(-1, INT64_MAX),
        "-1 (no limit) or [0, 2^63-1]",
        "delete the oldest segments while a partition is larger than this",
    ),
    ConfigDef(
        "segment.bytes",
        "1073741824",
        int_in(14, INT32_MAX),
        "[14, 2^31-1]",
        "roll to a new segment when the active one would pass this size",
    ),
    ConfigDef(
        "segment.ms",
        "604800000",
        int_in(1, INT64_MAX),
        "[1, 2^63-1]",
        "roll to a new segment when the active one is this old",
    ),
    ConfigDef(
        "segment.index.bytes",
        "10485760",
        int_in(4, INT32_MAX),
        "[4, 2^31-1]",
        "roll when a segment's offset index reaches this size",
    ),
    ConfigDef(
        "index.interval.bytes",
        "4096",
        int_in(0, INT32_MAX),
        "[0, 2^31-1]",
        "bytes of log between two offset index entries",
    ),
    ConfigDef(
        "max.message.bytes",
        "1048588",
        int_in(0, INT32_MAX),
        "[0, 2^31-1]",
        "largest record batch the topic accepts",
    ),
    ConfigDef(
        "message.timestamp.type",
        "CreateTime",
        one_of("CreateTime", "LogAppendTime"),
        "CreateTime or LogAppendTime",
        "which timestamp the log keeps",
    ),
    ConfigDef(
        "min.compaction.lag.ms",
        "0",
        int_in(0, INT64_MAX),
        "[0, 2^63-1]",
        "records younger than this are not compacted",
    ),
    ConfigDef(
        "delete.retention.ms",
        "86400000",
        int_in(0, INT64_MAX),
        "[0, 2^63-1]",
        "how long compaction keeps tombstones",
    ),
    ConfigDef(
        "file.delete.delay.ms",
        "60000",
        int_in(0, INT64_MAX),
        "[0, 2^63-1]",
        "how long a deleted segment stays readable by fetches in flight",
    ),
    ConfigDef(
        "compression.type",
        "producer",
        one_of(*COMPRESSION_TYPES),
        ", ".join(COMPRESSION_TYPES),
        "keep batches compressed as producers sent them (producer), or recompress them",
    ),
    ConfigDef(
        "luong.flush.policy",
        "group",
        one_of(*(p.value for p in FlushPolicy)),
        "fsync, group or os",
        "when an acknowledged append is made durable",
    ),
)


def parse_value(name: str, text: str | None) -> object:
    """Parse one topic setting, or raise InvalidConfigError naming it and its range."""
    return parse_setting(TOPIC_CONFIGS, name, text, "topic")


@dataclass(frozen=True, slots=True)
class TopicConfig:
    """A topic's validated settings; `overrides` holds what was set on the topic,
    `defaults` the broker-level defaults it was resolved against."""

    overrides: Mapping[str, str]
    defaults: Mapping[str, str]
    cleanup_policy: frozenset[str]
    retention_ms: int
    retention_bytes: int
    segment_bytes: int
    segment_ms: int
    segment_index_bytes: int
    index_interval_bytes: int
    max_message_bytes: int
    message_timestamp_type: str
    min_compaction_lag_ms: int
    delete_retention_ms: int
    file_delete_delay_ms: int
    compression_type: str
    flush_policy: FlushPolicy

    @classmethod
    def from_overrides(
        cls,
        overrides: Mapping[str, str | None] | None = None,
        defaults: Mapping[str, str] | None = None,
    ) -> TopicConfig:
        """Validate `overrides` over the defaults (the broker's `defaults` where given,
        else the built-in ones); raise InvalidConfigError on any bad value."""
        given = dict(overrides or {})
        values = {name: parse_value(name, text) for name, text in given.items()}
        for name, definition in TOPIC_CONFIGS.items():
            text = (defaults or {}).get(name, definition.default)
            values.setdefault(name, definition.parse(text))
        fields: dict[str, Any] = {
            name.replace("luong.", "").replace(".", "_"): value for name, value in values.items()
        }
        fields["flush_policy"] = FlushPolicy(fields["flush_policy"])
        return cls(
            overrides={k: str(v).strip() for k, v in given.items()},
            defaults=dict(defaults or {}),
            **fields,
        )

    def with_overrides(self, changes: Mapping[str, str | None]) -> TopicConfig:
        """A copy with `changes` applied; a None value removes an override."""
        merged: dict[str, str | None] = dict(self.overrides)
        for name, text in changes.items():
            if name not in TOPIC_CONFIGS:
                raise InvalidConfigError(f"Unknown topic config name: {name}")
            if text is None:
                merged.pop(name, None)
            else:
                merged[name] = text
        return TopicConfig.from_overrides(merged, self.defaults)

    def entries(self) -> list[tuple[str, str, str]]:
        """(name, value as text, source) of every setting, as DescribeConfigs lists them:
        source is TOPIC_CONFIG (set on the topic), STATIC_BROKER_CONFIG (a broker-level
        default) or DEFAULT_CONFIG."""
        out = []
        for name, definition in TOPIC_CONFIGS.items():
            if name in self.overrides:
                out.append((name, self.overrides[name], "TOPIC_CONFIG"))
            elif name in self.defaults:
                out.append((name, self.defaults[name], "STATIC_BROKER_CONFIG"))
            else:
                out.append((name, definition.default, "DEFAULT_CONFIG"))
        return out

    @property
    def compact(self) -> bool:
        return "compact" in self.cleanup_policy

    @property
    def delete(self) -> bool:
        return "delete" in self.cleanup_policy

    @property
    def log_append_time(self) -> bool:
        return self.message_timestamp_type == "LogAppendTime"
