"""TopicService: topics as clients may see and change them, with the broker's rules.

The one place that applies `auto.create.topics.enable`, `num.partitions`,
`delete.topic.enable` and the internal-topic rules (broker/internal.py) to topic
lookups and topic administration, for the Kafka handlers and the HTTP gateway
alike. Every method refuses before changing anything. Owned by the broker on the
event loop.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import replace

from luong.broker.internal import is_hidden_topic, is_internal_topic
from luong.config import BrokerConfig
from luong.errors import (
    InvalidTopicError,
    TopicAuthorizationFailedError,
    TopicDeletionDisabledError,
    UnknownTopicOrPartitionError,
)
from luong.protocol.names import validate_topic_name
from luong.storage import Storage, TopicInfo
from luong.storage.common import grown_topic, new_topic

__all__ = ["TopicInfo", "TopicService", "check_changeable", "check_visible"]

log = logging.getLogger("luong.broker")


class TopicService:
    def __init__(self, storage: Storage, config: BrokerConfig) -> None:
        self._storage = storage
        self._config = config

    def visible(self) -> dict[str, TopicInfo]:
        """Every topic a client may see (luong's internal ones left out), by name."""
        return {n: i for n, i in self._storage.topics().items() if not is_hidden_topic(n)}

    def get(self, name: str) -> TopicInfo | None:
        """A topic a client may see, or None (also for luong's internal topics)."""
        return None if is_hidden_topic(name) else self._storage.find_topic(name)

    def topic(self, name: str) -> TopicInfo:
        """A topic a client may see: UnknownTopicOrPartitionError if there is none,
        TopicAuthorizationFailedError for luong's internal topics."""
        check_visible(name)
        return self._storage.topic(name)

    async def find_or_create(self, name: str, *, auto_create: bool) -> TopicInfo:
        """The topic, created with `num.partitions` if allowed and missing."""
        info = self.get(name)
        if info is not None:
            return info
        check_visible(name)
        validate_topic_name(name)
        if not (auto_create and self._config["auto.create.topics.enable"]):
            raise UnknownTopicOrPartitionError(f"unknown topic {name!r}")
        return await self.create(name, int(self._config["num.partitions"]), {})

    async def create(
        self,
        name: str,
        partitions: int,
        configs: Mapping[str, str | None],
        *,
        validate_only: bool = False,
    ) -> TopicInfo:
        if is_internal_topic(name):
            raise InvalidTopicError(f"{name!r} is an internal topic name")
        if validate_only:
            return new_topic(
                name, partitions, configs, self._storage.topics(), self._config.topic_defaults
            )
        info = await self._storage.create_topic(name, partitions, configs)
        log.info("topic %s created with %d partitions", name, partitions)
        return info

    async def delete(self, name: str | None, topic_id: uuid.UUID | None = None) -> TopicInfo:
        """Delete a topic named by name, or (name None) by id."""
        info = self._topic_by(name, topic_id)
        check_changeable(info.name)
        if not self._config["delete.topic.enable"]:
            raise TopicDeletionDisabledError("topic deletion is disabled (delete.topic.enable)")
        await self._storage.delete_topic(info.name)
        log.info("topic %s deleted", info.name)
        return info

    async def create_partitions(
        self, name: str, total: int, *, validate_only: bool = False
    ) -> TopicInfo:
        """Grow a topic to `total` partitions (InvalidPartitionsError unless it grows)."""
        info = self.topic(name)
        check_changeable(name)
        if validate_only:
            return grown_topic(info, total)
        info = await self._storage.create_partitions(name, total)
        log.info("topic %s grown to %d partitions", name, total)
        return info

    async def alter_configs(
        self, name: str, changes: Mapping[str, str | None], *, validate_only: bool = False
    ) -> TopicInfo:
        """Set (or, for None, remove) overrides of a topic: all of them or, on any bad
        name or value, none (InvalidConfigError naming it)."""
        info = self.topic(name)
        check_changeable(name)
        if validate_only:
            return replace(info, config=info.config.with_overrides(changes))
        info = await self._storage.alter_topic_configs(name, changes)
        log.info("topic %s settings altered: %s", name, ", ".join(sorted(changes)))
        return info

    def _topic_by(self, name: str | None, topic_id: uuid.UUID | None) -> TopicInfo:
        if name is not None:
            return self.topic(name)
        for info in self.visible().values():
            if info.topic_id == topic_id:
                return info
        raise UnknownTopicOrPartitionError(f"unknown topic id {topic_id}")


def check_visible(name: str) -> None:
    if is_hidden_topic(name):
        raise TopicAuthorizationFailedError(f"{name!r} is an internal topic of luong")


def check_changeable(name: str) -> None:
    """Clients do not delete, grow or reconfigure internal topics."""
    if is_internal_topic(name):
        raise TopicAuthorizationFailedError(
            f"{name!r} is an internal topic; clients cannot change it"
        )
