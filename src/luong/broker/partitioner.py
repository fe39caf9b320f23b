"""Kafka's default partitioner for records that arrive without a partition.

A keyed record goes to `partition_for_key` (murmur2, as Kafka's Java client and
librdkafka hash; in `luong.protocol.records.partitioner`). A record without a key
takes the next partition in turn (per topic).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from luong.protocol.records.partitioner import murmur2, partition_for_key

__all__ = ["RoundRobin", "murmur2", "partition_for_key"]


class RoundRobin:
    """The next partition for a record without a key, per topic."""

    def __init__(self) -> None:
        self._counters: dict[str, Iterator[int]] = {}

    def next(self, topic: str, partitions: int) -> int:
        counter = self._counters.setdefault(topic, itertools.count())
        return next(counter) % partitions
