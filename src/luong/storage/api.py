"""The Storage contract every engine implements, and the values it passes around.

Engines (`memory://`, `log://`) are chosen by URL through `open_storage`. All
methods run on the owner's event loop; an engine may do blocking work (fsync,
compaction) in threads of its own, never on the loop's thread when it can block
for long. A method either applies a request whole or raises a LuongError and
changes nothing.
"""

from __future__ import annotations

import abc
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from luong.config import TopicConfig
from luong.errors import UnknownTopicOrPartitionError
from luong.storage.producers import AbortedTxn
from luong.types import TopicPartition

__all__ = [
    "AppendListener",
    "AppendResult",
    "FileRegion",
    "MemoryRegion",
    "OffsetAndTimestamp",
    "ReadResult",
    "Region",
    "Storage",
    "TopicInfo",
]


class Region(Protocol):
    """Stored batch bytes a fetch sends as they are."""

    @property
    def length(self) -> int: ...

    def read(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class FileRegion:
    """`length` bytes at byte `position` of an open file: what `os.sendfile` takes.

    The descriptor stays valid for at least `file.delete.delay.ms` after its segment
    is deleted or replaced, so a fetch in flight can finish sending it.
    """

    fd: int
    position: int
    length: int

    def read(self) -> bytes:
        return os.pread(self.fd, self.length, self.position)


@dataclass(frozen=True, slots=True)
class MemoryRegion:
    """Stored batch bytes held in memory."""

    data: bytes

    @property
    def length(self) -> int:
        return len(self.data)

    def read(self) -> bytes:
        return self.data


@dataclass(frozen=True, slots=True)
class TopicInfo:
    """A topic as stored: its stable id, partition count and settings."""

    name: str
    topic_id: uuid.UUID
    partitions: int
    config: TopicConfig


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Where an append landed. `log_append_time_ms` is -1 under CreateTime."""

    base_offset: int
    last_offset: int
    log_append_time_ms: int
    log_start_offset: int


@dataclass(frozen=True, slots=True)
class ReadResult:
    """Whole stored batches from the one holding the requested offset on.

    `last_stable_offset` is the first offset of the oldest open transaction (the high
    watermark if none); a read_committed read stops before it and lists the aborted
    transactions whose records it may hold.
    """

    regions: Sequence[Region]
    high_watermark: int
    log_start_offset: int
    last_stable_offset: int = -1
    aborted: Sequence[AbortedTxn] = ()

    @property
    def size(self) -> int:
        return sum(region.length for region in self.regions)

    def read(self) -> bytes:
        """Every region's bytes joined (for tests and the gateway, not for fetch)."""
        return b"".join(region.read() for region in self.regions)


class OffsetAndTimestamp(NamedTuple):
    """A ListOffsets answer; offset -1 and timestamp -1 when nothing matches."""

    offset: int
    timestamp: int


AppendListener = Callable[[TopicPartition], None]


class Storage(abc.ABC):
    """Topics of partitioned, append-only logs of Kafka v2 record batches."""

    _append_listeners: list[AppendListener]

    def add_append_listener(self, listener: AppendListener) -> None:
        """Call `listener(tp)` right after new data of `tp` becomes readable (before any
        durability wait): long-polling fetches and live subscribers wake up on it."""
        if not hasattr(self, "_append_listeners"):
            self._append_listeners = []
        self._append_listeners.append(listener)

    def _appended(self, tp: TopicPartition) -> None:
        for listener in getattr(self, "_append_listeners", ()):
            listener(tp)

    @abc.abstractmethod
    def topics(self) -> Mapping[str, TopicInfo]:
        """Every topic by name."""

    @abc.abstractmethod
    async def create_topic(
        self, name: str, partitions: int, configs: Mapping[str, str | None] | None = None
    ) -> TopicInfo:
        """Create a topic with empty partitions and validated config overrides."""

    @abc.abstractmethod
    async def delete_topic(self, name: str) -> None:
        """Delete a topic and all its data."""

    @abc.abstractmethod
    async def create_partitions(self, name: str, total: int) -> TopicInfo:
        """Grow a topic to `total` partitions."""

    @abc.abstractmethod
    async def alter_topic_configs(self, name: str, changes: Mapping[str, str | None]) -> TopicInfo:
        """Set config overrides; a None value removes one."""

    @abc.abstractmethod
    async def append(
        self, tp: TopicPartition, records: bytes | memoryview, *, durable: bool = True
    ) -> AppendResult:
        """Validate and append a client's batches, assigning dense offsets; durable waits
        for the topic's flush policy. Batches of idempotent producers are checked against
        the partition's producer state (storage/producers.py): a retried batch is not
        written again and answers with its first offsets; an out-of-order sequence or a
        stale epoch raises."""

    @abc.abstractmethod
    async def write_marker(
        self,
        tp: TopicPartition,
        producer_id: int,
        producer_epoch: int,
        commit: bool,
        coordinator_epoch: int = 0,
        *,
        durable: bool = True,
    ) -> AppendResult:
        """Append a transaction marker (the coordinator's, never a client's): the
        producer's open transaction in `tp` ends, committed or aborted.
        InvalidProducerEpochError if `producer_epoch` is older than the producer's."""

    @abc.abstractmethod
    async def read(
        self, tp: TopicPartition, offset: int, max_bytes: int, *, committed: bool = False
    ) -> ReadResult:
        """Whole batches from the one holding `offset`, at least one, about `max_bytes`;
        `committed` (read_committed) stops at the last stable offset."""

    @abc.abstractmethod
    async def list_offset(
        self, tp: TopicPartition, timestamp: int, *, committed: bool = False
    ) -> OffsetAndTimestamp:
        """Earliest (-2), latest (-1; the last stable offset when `committed`),
        max-timestamp (-3) or first offset at/after a time."""

    @abc.abstractmethod
    async def delete_records(self, tp: TopicPartition, before_offset: int) -> int:
        """Advance the log start offset to `before_offset` (-1: the end); return it."""

    @abc.abstractmethod
    async def expire_producers(self, expiration_ms: int) -> None:
        """Forget idempotent producers idle for `expiration_ms` (not in a transaction)."""

    @abc.abstractmethod
    async def run_maintenance(self) -> None:
        """Roll segments by age, apply retention, compact; call periodically."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Flush everything and release files; the storage is unusable afterwards."""

    def find_topic(self, name: str) -> TopicInfo | None:
        """One topic, or None; engines answer it without copying `topics()` (which is
        per request on the produce path)."""
        return self.topics().get(name)

    def topic(self, name: str) -> TopicInfo:
        """One topic, or UnknownTopicOrPartitionError."""
        info = self.find_topic(name)
        if info is None:
            raise UnknownTopicOrPartitionError(f"unknown topic {name!r}")
        return info
