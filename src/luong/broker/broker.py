"""Broker: decodes a request frame, runs its handler, encodes the answer.

Also the service layer the handlers (and later the HTTP gateway) share: topic
creation and deletion with the broker's rules, producer ids, the fetch purgatory.
Owned by the server's event loop; handlers run one request per connection at a
time, many connections concurrently.
"""

from __future__ import annotations

import logging
import struct
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from luong.broker.context import RequestContext
from luong.broker.groups import GroupService
from luong.broker.handlers import HANDLERS
from luong.broker.handlers.base import INTERNAL_TOPICS
from luong.broker.offsets import OffsetService
from luong.broker.produce_service import ProduceService
from luong.broker.purgatory import FetchPurgatory
from luong.broker.transactions import TransactionService
from luong.clock import Clock
from luong.config import BrokerConfig
from luong.coordinator.groups import GroupCoordinator
from luong.coordinator.transactions import TransactionCoordinator
from luong.errors import (
    ErrorCode,
    InvalidTopicError,
    LuongError,
    TopicDeletionDisabledError,
    UnknownTopicOrPartitionError,
)
from luong.protocol.apis import API_VERSIONS_KEY, load_specs
from luong.protocol.fetch_response import Chunk
from luong.protocol.framing import parse_request_header
from luong.storage import Storage, TopicInfo
from luong.storage.common import grown_topic, new_topic, validate_topic_name

__all__ = ["Broker", "BrokerIdentity", "ProtocolViolation"]

log = logging.getLogger("luong.broker")
Response = Sequence[bytes | Chunk]


@dataclass(frozen=True, slots=True)
class BrokerIdentity:
    """How clients reach this node, as Metadata and FindCoordinator advertise it."""

    node_id: int
    host: str
    port: int
    cluster_id: str
    listen: str = ""  # HOST:PORT the listener is bound to


class ProtocolViolation(Exception):
    """A request the protocol gives no answer to: the connection is closed."""


class Broker:
    """One node's request handling over a Storage."""

    def __init__(
        self, storage: Storage, config: BrokerConfig, identity: BrokerIdentity, clock: Clock
    ) -> None:
        self.storage = storage
        self.config = config
        self.identity = identity
        self.purgatory = FetchPurgatory()
        storage.add_append_listener(self.purgatory.notify)
        self.specs = load_specs({key: handler.accepted for key, handler in HANDLERS.items()})
        retention_ms = int(config["offsets.retention.minutes"]) * 60_000
        self.offsets = OffsetService(storage, clock, retention_ms)
        delay_ms = int(config["group.initial.rebalance.delay.ms"])
        max_size = int(config["group.max.size"])
        coordinator = GroupCoordinator(delay_ms, max_size)
        self.groups = GroupService(coordinator, clock, self.offsets.append_records)
        transactions = TransactionCoordinator(
            int(config["transaction.max.timeout.ms"]),
            int(config["transactional.id.expiration.ms"]),
        )
        self.transactions = TransactionService(
            storage,
            self.offsets,
            transactions,
            clock,
            int(config["transaction.abort.timed.out.transaction.cleanup.interval.ms"]),
        )
        self.clock = clock
        self.produce_service = ProduceService(storage, clock)  # records from the gateway
        # encoded Metadata bodies by (version, topics), see handlers/metadata.py
        self.metadata_cache: dict[tuple[object, ...], bytes] = {}

    async def start(self) -> None:
        """Rebuild the internal state (committed offsets, groups, transactions) and start
        the coordinators' clocks."""
        await self.offsets.start(
            lambda records: self.groups.coordinator.replay(records, self.clock.time_ms())
        )
        self.groups.start()
        await self.transactions.start()

    async def stop(self) -> None:
        await self.transactions.stop()
        await self.groups.stop()

    async def run_maintenance(self) -> None:
        """Periodic work of the coordinators: expire idle groups' offsets, then forget
        Empty groups left without any; forget idle producers and transactional ids."""
        active = [g for g, group in self.groups.coordinator.groups.items() if group.members]
        await self.offsets.expire(active)
        await self.groups.remove_expired(self.offsets.store.groups())
        await self.storage.expire_producers(int(self.config["producer.id.expiration.ms"]))
        await self.transactions.expire()

    # -- requests --------------------------------------------------------------------

    async def handle(self, frame: bytes | memoryview, client_host: str = "") -> Response | None:
        """The response frame (as pieces) for one request frame; None for no response.

        Raises ProtocolViolation when the connection must be closed.
        """
        try:
            header = parse_request_header(frame)
        except LuongError as error:
            raise ProtocolViolation(str(error)) from None
        spec = self.specs.get((header.api_key, header.api_version))
        if spec is None:
            if header.api_key == API_VERSIONS_KEY:
                return [self._unsupported_api_versions(header.correlation_id)]
            raise ProtocolViolation(
                f"unsupported API key {header.api_key} version {header.api_version}"
            )
        try:
            request = spec.decode(frame, header)
        except LuongError as error:
            raise ProtocolViolation(str(error)) from None
        context = RequestContext(self, header, spec, client_host)
        result = await HANDLERS[header.api_key].handle(context, request)
        if result is None:
            return None
        if isinstance(result, bytes):
            return [result]
        if isinstance(result, Mapping):
            return [spec.encode(header.correlation_id, result)]
        return result

    def advertised_api_keys(self) -> list[dict[str, int]]:
        return [
            {"api_key": key, "min_version": h.min_version, "max_version": h.max_version}
            for key, h in sorted(HANDLERS.items())
        ]

    def _unsupported_api_versions(self, correlation_id: int) -> bytes:
        """ApiVersions v0 layout with UNSUPPORTED_VERSION, so the client retries lower."""
        keys = self.advertised_api_keys()
        body = struct.pack(">ihi", correlation_id, ErrorCode.UNSUPPORTED_VERSION, len(keys))
        body += b"".join(
            struct.pack(">hhh", k["api_key"], k["min_version"], k["max_version"]) for k in keys
        )
        return struct.pack(">i", len(body)) + body

    def log_client_error(self, context: RequestContext, error: LuongError) -> None:
        log.warning(
            "client %s: %s refused: %s",
            context.header.client_id,
            HANDLERS[context.header.api_key].name,
            error,
        )

    # -- services --------------------------------------------------------------------

    async def find_or_create_topic(self, name: str, *, auto_create: bool) -> TopicInfo:
        """The topic, created with `num.partitions` if allowed and missing."""
        info = self.storage.topics().get(name)
        if info is not None:
            return info
        validate_topic_name(name)
        if not (auto_create and self.config["auto.create.topics.enable"]):
            raise UnknownTopicOrPartitionError(f"unknown topic {name!r}")
        return await self.create_topic(name, int(self.config["num.partitions"]), {})

    async def create_topic(
        self,
        name: str,
        partitions: int,
        configs: Mapping[str, str | None],
        *,
        validate_only: bool = False,
    ) -> TopicInfo:
        if name in INTERNAL_TOPICS:
            raise InvalidTopicError(f"{name!r} is an internal topic name")
        if validate_only:
            return new_topic(
                name, partitions, configs, self.storage.topics(), self.config.topic_defaults
            )
        info = await self.storage.create_topic(name, partitions, configs)
        log.info("topic %s created with %d partitions", name, partitions)
        return info

    async def delete_topic(self, name: str | None, topic_id: uuid.UUID | None) -> TopicInfo:
        if not self.config["delete.topic.enable"]:
            raise TopicDeletionDisabledError("topic deletion is disabled (delete.topic.enable)")
        info = self._topic_by(name, topic_id)
        await self.storage.delete_topic(info.name)
        log.info("topic %s deleted", info.name)
        return info

    async def create_partitions(
        self, name: str, total: int, *, validate_only: bool = False
    ) -> TopicInfo:
        """Grow a topic to `total` partitions (InvalidPartitionsError unless it grows)."""
        if validate_only:
            return grown_topic(self.storage.topic(name), total)
        info = await self.storage.create_partitions(name, total)
        log.info("topic %s grown to %d partitions", name, total)
        return info

    async def alter_topic_configs(
        self, name: str, changes: Mapping[str, str | None], *, validate_only: bool = False
    ) -> TopicInfo:
        """Set (or, for None, remove) overrides of a topic: all of them or, on any bad
        name or value, none (InvalidConfigError naming it)."""
        info = self.storage.topic(name)
        if validate_only:
            return replace(info, config=info.config.with_overrides(changes))
        info = await self.storage.alter_topic_configs(name, changes)
        log.info("topic %s settings altered: %s", name, ", ".join(sorted(changes)))
        return info

    def _topic_by(self, name: str | None, topic_id: uuid.UUID | None) -> TopicInfo:
        for info in self.storage.topics().values():
            if info.name == name or (name is None and info.topic_id == topic_id):
                return info
        raise UnknownTopicOrPartitionError(f"unknown topic {name or topic_id}")
