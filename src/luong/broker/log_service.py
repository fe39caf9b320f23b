"""LogService: partitions read as clients may read them, and DeleteRecords.

Used by Fetch, ListOffsets, OffsetForLeaderEpoch and DeleteRecords, and by the
HTTP gateway's reads and live streams. luong's internal topics are refused
(TOPIC_AUTHORIZATION_FAILED, see broker/internal.py); deleting records of any
internal topic is INVALID_TOPIC_EXCEPTION, as in Kafka. `wait` is the fetch
purgatory: it returns as soon as one of the partitions gets data. Owned by the
broker on the event loop; reads return stored regions, never copies.
"""

from __future__ import annotations

from collections.abc import Iterable

from luong.broker.internal import is_internal_topic
from luong.broker.purgatory import FetchPurgatory
from luong.broker.topic_service import check_visible
from luong.errors import InvalidTopicError, OffsetOutOfRangeError
from luong.storage import OffsetAndTimestamp, ReadResult, Storage
from luong.types import EARLIEST_TIMESTAMP, TopicPartition

__all__ = ["LogService"]

HIGH_WATERMARK = -1


class LogService:
    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._purgatory = FetchPurgatory()
        storage.add_append_listener(self._purgatory.notify)

    async def read(
        self, tp: TopicPartition, offset: int, max_bytes: int, *, committed: bool = False
    ) -> ReadResult:
        """Whole stored batches from the one holding `offset` (see Storage.read)."""
        check_visible(tp.topic)
        return await self._storage.read(tp, offset, max_bytes, committed=committed)

    async def list_offset(
        self, tp: TopicPartition, timestamp: int, *, committed: bool = False
    ) -> OffsetAndTimestamp:
        check_visible(tp.topic)
        return await self._storage.list_offset(tp, timestamp, committed=committed)

    async def wait(self, partitions: Iterable[TopicPartition], timeout_s: float) -> bool:
        """Until one of `partitions` gets data (True) or `timeout_s` passes (False)."""
        return await self._purgatory.wait(partitions, timeout_s)

    async def delete_records(self, tp: TopicPartition, offset: int) -> int:
        """Advance the log start offset to `offset` (-1: the high watermark); the log
        start offset afterwards. At or below the current start nothing is deleted."""
        if is_internal_topic(tp.topic):
            raise InvalidTopicError(f"cannot delete records of internal topic {tp.topic}")
        log_start_offset = (await self._storage.list_offset(tp, EARLIEST_TIMESTAMP)).offset
        if offset < HIGH_WATERMARK:
            raise OffsetOutOfRangeError(f"cannot delete records of {tp} before offset {offset}")
        if 0 <= offset <= log_start_offset:
            return log_start_offset
        return await self._storage.delete_records(tp, offset)
