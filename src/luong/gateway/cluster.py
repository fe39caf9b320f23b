"""Cluster: the one interface between the HTTP gateway and the cluster behind it.

Every route, live stream, consumer instance and webhook reaches the cluster
through this interface, and through nothing else (an import-linter contract keeps
the gateway away from the broker's storage and coordinators). It is what a Kafka
client can do, in the gateway's words: produce, read and follow partitions,
topics and their offsets, topic administration, consumer groups with their
committed offsets, and a Kafka bootstrap address for the gateway's own Kafka
clients (consumer instances, group streams). Today `LocalCluster` (local.py)
implements it with the broker's services in this process; a later implementation
speaks the Kafka protocol, so the gateway can front any broker of a cluster, or
another Kafka cluster, as Redpanda's HTTP proxy and Confluent's REST Proxy do.

Only topics clients may see are shown (luong's internal topics never are). Errors
are LuongErrors with Kafka's codes; the routes turn them into REST Proxy errors.
The gateway's own state (webhook subscriptions) lives in an internal topic that
`open_internal`/`append_internal` reach, which clients cannot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from luong.errors import LuongError
from luong.protocol.records import Header, Record
from luong.types import TopicPartition

__all__ = [
    "Cluster",
    "GroupListing",
    "ProducerRecord",
    "RecordChunk",
    "RecordMetadata",
    "TopicDescription",
]


@dataclass(frozen=True, slots=True)
class TopicDescription:
    """A topic: its id, partition count and every setting as (name, value, source),
    source being TOPIC_CONFIG, STATIC_BROKER_CONFIG or DEFAULT_CONFIG."""

    name: str
    topic_id: str
    partitions: int
    internal: bool
    configs: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True, slots=True)
class ProducerRecord:
    """One record to produce; `partition` None lets Kafka's default partitioner choose."""

    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()
    partition: int | None = None


class RecordMetadata(Protocol):
    """Where a produced record landed, or why not (`offset` -1, `error` set)."""

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...

    @property
    def error(self) -> LuongError | None: ...


@dataclass(frozen=True, slots=True)
class RecordChunk:
    """Committed records read from a partition, and the offset to read next.

    Records of aborted transactions, control batches and records before the
    offset asked for are left out; `next_offset` moves past them.
    """

    records: list[Record]
    next_offset: int


@dataclass(frozen=True, slots=True)
class GroupListing:
    group_id: str
    protocol_type: str
    state: str  # Kafka's: Empty, PreparingRebalance, CompletingRebalance, Stable, Dead


class Cluster(Protocol):
    """What the gateway may ask of the cluster (see the module docstring)."""

    @property
    def node_id(self) -> int:
        """The node that leads every partition (one node for now)."""

    @property
    def bootstrap(self) -> str:
        """HOST:PORT of a Kafka listener, for the gateway's own Kafka clients."""

    @property
    def default_partitions(self) -> int:
        """`num.partitions`: what a topic created without a count gets."""

    def topics(self) -> Mapping[str, TopicDescription]:
        """Every topic clients may see, by name."""

    def topic(self, name: str) -> TopicDescription | None: ...

    def internal(self, name: str) -> bool:
        """Whether `name` is an internal topic's (whether or not it exists): clients
        never write to those."""

    async def create_topic(
        self, name: str, partitions: int, configs: Mapping[str, str]
    ) -> TopicDescription: ...

    async def alter_topic(self, name: str, changes: Mapping[str, str | None]) -> TopicDescription:
        """Set settings (None: back to the default), all or none."""

    async def delete_topic(self, name: str) -> None: ...

    async def list_offset(
        self, tp: TopicPartition, timestamp: int, *, committed: bool = True
    ) -> int:
        """EARLIEST_TIMESTAMP, LATEST_TIMESTAMP (the last stable offset when
        `committed`) or the first offset at or after a time (-1: none)."""

    async def produce(
        self, topic: str, records: Sequence[ProducerRecord]
    ) -> Sequence[RecordMetadata]:
        """Produce with acks=all; a topic that does not exist is created when
        `auto.create.topics.enable` allows it (UnknownTopicOrPartitionError when not,
        or for a partition the topic lacks, before anything is written)."""

    async def read(self, tp: TopicPartition, offset: int) -> RecordChunk | None:
        """Committed records from `offset` on (about 1 MiB); None when there are none yet."""

    async def wait(self, partitions: Iterable[TopicPartition], timeout_s: float) -> bool:
        """Until one of `partitions` gets data (True) or `timeout_s` passes (False)."""

    def groups(self) -> list[GroupListing]:
        """Every consumer group, those that only have committed offsets included."""

    def committed(
        self, group: str, partitions: Iterable[TopicPartition] | None = None
    ) -> dict[TopicPartition, int]:
        """The group's committed offsets (of `partitions`, or all of them)."""

    async def commit(self, group: str, offsets: Mapping[TopicPartition, int]) -> None:
        """Commit as a client that manages its own partitions (no generation)."""

    async def open_internal(self, name: str, apply: Callable[[Record], None]) -> None:
        """Create the gateway's internal topic `name` (compacted) if missing and replay
        it into `apply`; a record `apply` refuses is logged and skipped."""

    async def append_internal(self, name: str, records: Sequence[Record]) -> None:
        """Append to the gateway's internal topic `name`, durably."""
