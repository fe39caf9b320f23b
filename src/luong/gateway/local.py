"""LocalCluster: the gateway's Cluster (cluster.py) over the broker's services, in process.

The only gateway module that imports the broker. Every call goes through the same
broker services the Kafka handlers use (TopicService, ProduceService, LogService,
OffsetService, GroupService), so the gateway gets exactly the rules a Kafka client
gets. Topic descriptions are built once per stored topic version and reused.
Owned by the event loop, like the broker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from luong.broker import Broker
from luong.broker.internal import is_internal_topic
from luong.broker.topic_service import TopicInfo
from luong.gateway.cluster import (
    GroupListing,
    ProducerRecord,
    RecordChunk,
    RecordMetadata,
    TopicDescription,
)
from luong.protocol.records import BatchHeader, Record, RecordBatch, decode_batches
from luong.types import TopicPartition

__all__ = ["LocalCluster"]

READ_BYTES = 1 << 20


class LocalCluster:
    """A Cluster whose node is this process's broker."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._described: dict[str, tuple[TopicInfo, TopicDescription]] = {}

    @property
    def node_id(self) -> int:
        return self._broker.identity.node_id

    @property
    def bootstrap(self) -> str:
        return self._broker.identity.listen

    @property
    def default_partitions(self) -> int:
        return int(self._broker.config["num.partitions"])

    def topics(self) -> dict[str, TopicDescription]:
        return {name: self._describe(info) for name, info in self._broker.topics.visible().items()}

    def topic(self, name: str) -> TopicDescription | None:
        info = self._broker.topics.get(name)
        return None if info is None else self._describe(info)

    def internal(self, name: str) -> bool:
        return is_internal_topic(name)

    def _describe(self, info: TopicInfo) -> TopicDescription:
        cached = self._described.get(info.name)
        if cached is not None and cached[0] is info:
            return cached[1]
        description = TopicDescription(
            info.name,
            str(info.topic_id),
            info.partitions,
            is_internal_topic(info.name),
            tuple(info.config.entries()),
        )
        self._described[info.name] = (info, description)
        return description

    async def create_topic(
        self, name: str, partitions: int, configs: Mapping[str, str]
    ) -> TopicDescription:
        return self._describe(await self._broker.topics.create(name, partitions, configs))

    async def alter_topic(self, name: str, changes: Mapping[str, str | None]) -> TopicDescription:
        return self._describe(await self._broker.topics.alter_configs(name, changes))

    async def delete_topic(self, name: str) -> None:
        await self._broker.topics.delete(name)
        self._described.pop(name, None)

    async def list_offset(
        self, tp: TopicPartition, timestamp: int, *, committed: bool = True
    ) -> int:
        return (await self._broker.logs.list_offset(tp, timestamp, committed=committed)).offset

    async def produce(
        self, topic: str, records: Sequence[ProducerRecord]
    ) -> Sequence[RecordMetadata]:
        return await self._broker.produce.produce(topic, records)

    async def read(self, tp: TopicPartition, offset: int) -> RecordChunk | None:
        result = await self._broker.logs.read(tp, offset, READ_BYTES, committed=True)
        if not result.regions:
            return None
        batches = decode_batches(b"".join(region.read() for region in result.regions))
        aborted = [(a.producer_id, a.first_offset, a.last_offset) for a in result.aborted]
        records = [
            record
            for batch in batches
            if not batch.header.is_control and not _aborted(batch.header, aborted)
            for record in batch.records
            if record.offset >= offset
        ]
        return RecordChunk(records, batches[-1].header.last_offset + 1)

    async def wait(self, partitions: Iterable[TopicPartition], timeout_s: float) -> bool:
        return await self._broker.logs.wait(partitions, timeout_s)

    def groups(self) -> list[GroupListing]:
        listing = self._broker.groups.listing(self._broker.offsets.groups())
        return [GroupListing(group, kind, state) for group, kind, state in listing]

    def committed(
        self, group: str, partitions: Iterable[TopicPartition] | None = None
    ) -> dict[TopicPartition, int]:
        wanted = None if partitions is None else [(tp.topic, tp.partition) for tp in partitions]
        found = self._broker.offsets.fetch(group, wanted)
        return {TopicPartition(t, p): o.offset for (t, p), o in found.items() if o is not None}

    async def commit(self, group: str, offsets: Mapping[TopicPartition, int]) -> None:
        await self._broker.offsets.commit_positions(group, offsets)

    async def open_internal(self, name: str, apply: Callable[[Record], None]) -> None:
        def each(batch: RecordBatch) -> None:
            for record in batch.records:
                apply(record)

        await self._broker.open_internal(name, each)

    async def append_internal(self, name: str, records: Sequence[Record]) -> None:
        await self._broker.append_internal(name, records)


def _aborted(header: BatchHeader, aborted: list[tuple[int, int, int]]) -> bool:
    return header.is_transactional and any(
        producer_id == header.producer_id and first <= header.base_offset <= last
        for producer_id, first, last in aborted
    )
